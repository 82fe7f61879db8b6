package dev.machina.cpu.differential;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Runs generated cases on the Java CPU and on the host and compares what is defined: the
 * registers, the RFLAGS bits the instruction defines, the data buffer, and the x87 and SSE state
 * (FSW without the bits the instruction leaves undefined; see {@link FpuImage}). A case that faults on
 * the Java CPU is not run on the host (it would crash the JVM there) and counts as a mismatch: the
 * generator promises instructions that cannot fault.
 */
final class Differential implements AutoCloseable {
    static final int DATA_SIZE = 2 * HostCpu.PAGE;
    private static final long GOLDEN = 0x9E37_79B9_7F4A_7C15L;

    private final HostCpu host = new HostCpu(DATA_SIZE);
    private final SimulatedCpu java;
    private final Generator generator;
    private final long seed;

    /** Cases of {@code families} from {@code seed}, run on the Java CPU's interpreter or, {@code translated}, its translating tier. */
    Differential(List<Family> families, long seed, boolean translated) {
        this.java = new SimulatedCpu(host.instructionAddress(), host.dataAddress(), DATA_SIZE, translated);
        this.generator = new Generator(families, hostFeatures(),
                new CaseBuilder.Layout(host.instructionAddress(), host.dataAddress(), DATA_SIZE));
        this.seed = seed;
    }

    /** Case {@code index} of this seed: the same every time, whatever ran before it. */
    TestCase generate(long index) {
        return generator.next(new SplittableRandom(seed + index * GOLDEN));
    }

    /** Runs {@code c} on both CPUs; empty when they agree, else what differs. */
    Optional<String> check(TestCase c) {
        SimulatedCpu.Outcome outcome = java.run(c.code(), c.initial());
        if (outcome instanceof SimulatedCpu.Faulted fault) {
            return Optional.of("the Java CPU raised " + fault + "; not run on the host\n" + initialText(c));
        }
        MachineState simulated = ((SimulatedCpu.Completed) outcome).state();
        MachineState onHost = host.run(c.code(), c.initial());
        List<String> differences = differences(c, onHost, simulated);
        return differences.isEmpty() ? Optional.empty()
                : Optional.of(String.join("\n", differences) + "\n" + initialText(c)
                        + "\n  host:    " + onHost.registersText() + "\n  java:    " + simulated.registersText());
    }

    private static String initialText(TestCase c) {
        return "  initial: " + c.initial().registersText();
    }

    private static List<String> differences(TestCase c, MachineState host, MachineState simulated) {
        List<String> out = new ArrayList<>();
        for (int r = 0; r < MachineState.REGISTERS; r++) {
            if ((c.comparedRegisters() >> r & 1) != 0 && host.register(r) != simulated.register(r)) {
                out.add(String.format("  %s: host %x, java %x (initial %x)", MachineState.name(r),
                        host.register(r), simulated.register(r), c.initial().register(r)));
            }
        }
        long flags = c.comparedFlags();
        if (((host.flags() ^ simulated.flags()) & flags) != 0) {
            out.add(String.format("  rflags & %x: host %x, java %x (initial %x; differing bits %s)", flags,
                    host.flags() & flags, simulated.flags() & flags, c.initial().flags() & flags,
                    flagNames((host.flags() ^ simulated.flags()) & flags)));
        }
        byte[] a = host.memory();
        byte[] b = simulated.memory();
        int first = Arrays.mismatch(a, b);
        if (first >= 0) {
            int last = a.length - 1;
            while (a[last] == b[last]) {
                last--;
            }
            int from = first & ~7;
            int length = Math.min(last - from + 1, 32);
            out.add(String.format("  memory at +0x%x..+0x%x: host %s, java %s (initial %s)", first, last,
                    host.memoryText(from, length), simulated.memoryText(from, length), c.initial().memoryText(from, length)));
        }
        out.addAll(FpuImage.differences(host.fpu(), simulated.fpu(), c.initial().fpu(), c.comparedStatus()));
        return out;
    }

    private static String flagNames(long bits) {
        String[] names = {"CF", "", "PF", "", "AF", "", "ZF", "SF", "TF", "IF", "DF", "OF", "IOPL", "IOPL", "NT", "",
                "RF", "VM", "AC", "VIF", "VIP", "ID"};
        List<String> set = new ArrayList<>();
        for (int bit = 0; bit < names.length; bit++) {
            if ((bits >> bit & 1) != 0) {
                set.add(names[bit]);
            }
        }
        return String.join(" ", set);
    }

    /** The feature flags of the host processor, from /proc/cpuinfo. */
    static Set<String> hostFeatures() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(line -> line.startsWith("flags"))
                    .findFirst()
                    .map(line -> Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+")))
                    .orElse(Set.of());
        } catch (IOException e) {
            return Set.of();
        }
    }

    static String describe(TestCase c) {
        return c.text() + "   [" + c.hex() + "]   (" + c.template().key() + ")";
    }

    @Override
    public void close() {
        java.close();
        host.close();
    }
}
