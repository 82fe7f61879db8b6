package dev.machina.cpu.differential;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Java CPU against the host processor: randomly generated user-level integer, SSE/SSE2 and
 * x87 instructions (see {@link Families}) run from identical states on both, through
 * {@code java.lang.foreign} on the host ({@link HostCpu}), and their general registers, defined
 * RFLAGS bits, data buffer, XMM registers, MXCSR and x87 state (FCW, FSW without the condition
 * codes an instruction leaves undefined, the tags and ST0-7; see {@link FpuImage}) must agree. Flags and results the Intel SDM leaves undefined are not compared (each template's
 * {@link Behaviour} says which). Both run in ring 3 with RSP an ordinary register, pointed into
 * the buffer for stack instructions; a third of the cases start on pending arithmetic flags
 * ({@link FlagSetter}).
 *
 * <p>The regular suite runs {@value #DEFAULT_CASES} cases from a fixed seed. Fuzzing is the same
 * test with more cases and another seed:
 * <pre>
 * ./mvnw -q -B -ntp -pl cpu -am test -Dtest=DifferentialTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dmachina.fuzz.cases=1000000 -Dmachina.fuzz.seed=$RANDOM
 * </pre>
 * and optionally {@code -Dmachina.fuzz.families=arithmetic,shifts} (the {@link Families} to draw
 * from), {@code -Dmachina.fuzz.first=N} (the first case index: with {@code -Dmachina.fuzz.cases=1}
 * it replays the case a report names) and {@code -Dmachina.fuzz.trace=FILE} (writes each case
 * there before it runs, to find a case that kills the JVM: a fault on the host cannot be caught).
 *
 * <p>Left out, because they would fault (a fault on the host kills the JVM) or because the host's
 * state is not the test's: control transfers (CALL, RET, Jcc, LOOP), FS and GS overrides (the
 * host's TLS), segment and system registers, divisions that raise #DE (the generator picks
 * operands whose quotient fits), LOCK on register or non-lockable forms (#UD), split-lock memory
 * operands (the kernel may trap them), a POPF image with TF (its trap), ENTER frames that leave
 * the buffer (ENTER probes the final RSP), REPNE on MOVS/STOS/LODS, undocumented aliases (F6 /1,
 * the shift group's /6), 16-bit SHLD/SHRD by more than 16 and BSWAP of a 16-bit register
 * (undefined results); RCPPS, RCPSS, RSQRTPS and RSQRTSS (approximations whose bits are
 * model-specific); the x87 transcendentals (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X,
 * FYL2XP1: the Java CPU rounds the exact value, hardware's microcode is within an ulp of it and
 * its C1 follows its own approximation), FPREM, FPREM1, FSCALE, FXTRACT and
 * FBLD/FBSTP; C1 after FCOMI, FUCOMI and FCMOVcc (the SDM clears it, AMD keeps it); RCX, RSI
 * and RDI after a 32-bit-address REP with ECX 0 (Intel zero-extends them, AMD and the SDM write
 * nothing).
 */
class DifferentialTest {
    private static final long DEFAULT_SEED = 0x6D61_6368_696E_61L;
    private static final long DEFAULT_CASES = 10_000;
    private static final int REPORTED_TEMPLATES = 30;
    private static final long PROGRESS_EVERY = 100_000;
    /** A file to write every case to before it runs: a host fault kills the JVM, and this names the culprit. */
    private static final String TRACE = System.getProperty("machina.fuzz.trace");

    /** The first differing case of a template, and how many more there were. */
    private record Mismatch(long index, String description, long count) {
    }

    /** The Java CPU's two ways of running code: both must agree with the host on every case. */
    enum Tier {
        INTERPRETER, TRANSLATOR
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Tier.class)
    void javaCpuAgreesWithTheHost(Tier tier) throws IOException {
        assumeTrue(HostCpu.supported(), "the differential test runs instructions on the host: it needs Linux on x86-64");
        long seed = Long.getLong("machina.fuzz.seed", DEFAULT_SEED);
        long cases = Long.getLong("machina.fuzz.cases", DEFAULT_CASES);
        long first = Long.getLong("machina.fuzz.first", 0);
        List<Family> families = Families.named(System.getProperty("machina.fuzz.families"));
        Map<String, Mismatch> byTemplate = new LinkedHashMap<>();
        long failures = 0;
        try (Differential differential = new Differential(families, seed, tier == Tier.TRANSLATOR);
             FileOutputStream trace = TRACE == null ? null : new FileOutputStream(TRACE)) {
            for (long index = first; index < first + cases; index++) {
                TestCase c = differential.generate(index);
                if (trace != null) {
                    // Unbuffered: the line is with the kernel before the case runs, so it survives a crash.
                    trace.write(("case " + index + ": " + Differential.describe(c) + "\n").getBytes(StandardCharsets.UTF_8));
                }
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
            StringBuilder report = new StringBuilder(String.format("%s: %d of %d cases differ, in %d templates (seed 0x%x):%n",
                    tier, failures, cases, byTemplate.size(), seed));
            byTemplate.entrySet().stream().limit(REPORTED_TEMPLATES).forEach(e -> report.append(String.format(
                    "%n%s: %d cases; %s%n  replay: -Dmachina.fuzz.seed=0x%x -Dmachina.fuzz.first=%d -Dmachina.fuzz.cases=1%n",
                    e.getKey(), e.getValue().count(), e.getValue().description(), seed, e.getValue().index())));
            fail(report.toString());
        }
    }
}
