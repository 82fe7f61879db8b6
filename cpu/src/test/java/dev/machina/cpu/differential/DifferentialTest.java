package dev.machina.cpu.differential;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Java CPU against the host processor: randomly generated user-level integer instructions
 * (see {@link Families}) run from identical states on both, through {@code java.lang.foreign} on
 * the host ({@link HostCpu}), and their general registers, defined RFLAGS bits and data buffer
 * must agree. Flags and results the Intel SDM leaves undefined are not compared (each template's
 * {@link Behaviour} says which).
 *
 * <p>The regular suite runs {@value #DEFAULT_CASES} cases from a fixed seed. Fuzzing is the same
 * test with more cases and another seed:
 * <pre>
 * ./mvnw -q -B -ntp -o -pl cpu test -Dtest=DifferentialTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dmachina.fuzz.cases=1000000 -Dmachina.fuzz.seed=$RANDOM
 * </pre>
 * with, optionally, {@code -Dmachina.fuzz.families=arithmetic,shifts} (the {@link Families} to
 * draw from) and {@code -Dmachina.fuzz.first=N} (the first case index: with
 * {@code -Dmachina.fuzz.cases=1} it replays the case a report names).
 *
 * <p>Left out, because they would fault (and a fault on the host kills the JVM) or because the
 * host's state is not the test's: RSP and anything that uses it (PUSH, POP, CALL, RSP-based
 * addresses), FS and GS overrides (the host's TLS), divisions that raise #DE (the generator picks
 * operands whose quotient fits), LOCK on register or non-lockable forms (#UD), split-lock memory
 * operands (the kernel may trap them), REPNE on MOVS/STOS/LODS, undocumented aliases (F6 /1,
 * shift group /6), 16-bit SHLD/SHRD by more than 16 and BSWAP of a 16-bit register (undefined
 * results). SSE/SSE2 and x87 families are not in {@link Families#DEFAULT} yet.
 */
class DifferentialTest {
    private static final long DEFAULT_SEED = 0x6D61_6368_696E_61L;
    private static final long DEFAULT_CASES = 4000;
    private static final int REPORTED_TEMPLATES = 30;
    private static final long PROGRESS_EVERY = 100_000;

    /** The first differing case of a template, and how many more there were. */
    private record Mismatch(long index, String description, long count) {
    }

    @Test
    void javaCpuAgreesWithTheHost() {
        assumeTrue(HostCpu.supported(), "the differential test runs instructions on the host: it needs Linux on x86-64");
        long seed = Long.getLong("machina.fuzz.seed", DEFAULT_SEED);
        long cases = Long.getLong("machina.fuzz.cases", DEFAULT_CASES);
        long first = Long.getLong("machina.fuzz.first", 0);
        List<Family> families = Families.named(System.getProperty("machina.fuzz.families"));
        Map<String, Mismatch> byTemplate = new LinkedHashMap<>();
        long failures = 0;
        try (Differential differential = new Differential(families, seed)) {
            for (long index = first; index < first + cases; index++) {
                TestCase c = differential.generate(index);
                Optional<String> difference = differential.check(c);
                if (difference.isPresent()) {
                    failures++;
                    long at = index;
                    byTemplate.merge(c.template().key(), new Mismatch(at, "case " + at + ": " + Differential.describe(c) + "\n" + difference.get(), 1),
                            (old, added) -> new Mismatch(old.index(), old.description(), old.count() + 1));
                }
                if (cases > DEFAULT_CASES && (index - first + 1) % PROGRESS_EVERY == 0) {
                    System.out.printf("differential: %d cases, %d differ%n", index - first + 1, failures);
                }
            }
        }
        if (failures > 0) {
            StringBuilder report = new StringBuilder(String.format("%d of %d cases differ, in %d templates (seed 0x%x):%n",
                    failures, cases, byTemplate.size(), seed));
            byTemplate.entrySet().stream().limit(REPORTED_TEMPLATES).forEach(e -> report.append(String.format("%n%s: %d cases; %s%n",
                    e.getKey(), e.getValue().count(), e.getValue().description())));
            fail(report.toString());
        }
    }
}
