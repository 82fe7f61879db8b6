package dev.machina.benchmarks;

import dev.machina.benchmarks.Workload.Result;

import java.util.regex.Pattern;

/**
 * Whether two vCPUs run in parallel on two host cores: linux_guest with two vCPUs on Machina and
 * on QEMU (whose TCG gives each vCPU a host thread), timing one SHA-256 job and then two at once.
 * Two at once take about as long as one where the vCPUs run in parallel, twice as long where they
 * take turns.
 */
final class SmpBenchmark {
    private static final int CPUS = 2;
    private static final String DIGEST = "[0-9a-f]{64}  " + Workspace.DATA;
    private static final Workload ONE = new Workload("one SHA-256 job", "sha256sum " + Workspace.DATA, Pattern.compile(DIGEST));
    // In a subshell, which has no job control: the interactive shell would print each job's number and pid.
    private static final Workload TWO = new Workload("two SHA-256 jobs at once",
            "(sha256sum %1$s & sha256sum %1$s & wait)".formatted(Workspace.DATA), Pattern.compile(DIGEST + "\n" + DIGEST));
    private static final Workload PROCESSORS = new Workload("nproc", "nproc", Pattern.compile(Integer.toString(CPUS)));

    private SmpBenchmark() {
    }

    static void run(LinuxGuest guest, int rounds) throws Exception {
        System.out.println("smp: " + guest.describe(CPUS) + "; " + ONE.name() + " of " + Workspace.DATA_MIB
                + " MiB, then " + TWO.name() + " (each time the median of " + rounds + ")");
        String answer = null;
        for (Vmm vmm : Vmm.values()) {
            try (BootedGuest booted = BootedGuest.boot(guest, vmm, CPUS)) {
                PROCESSORS.measure(vmm, booted.console(), 1);
                Workspace.prepare(vmm, booted.console());
                Result one = ONE.measure(vmm, booted.console(), rounds);
                Result two = TWO.measure(vmm, booted.console(), rounds);
                if (answer != null && !answer.equals(one.answer())) {
                    throw new IllegalStateException("wrong answer: the VMMs disagree on %s: %s printed%n%s%nand the other%n%s"
                            .formatted(ONE.name(), vmm, one.answer(), answer));
                }
                answer = one.answer();
                if (!two.answer().equals(one.answer() + "\n" + one.answer())) {
                    throw new IllegalStateException("wrong answer: on %s, %s printed%n%s%nbut one job printed%n%s"
                            .formatted(vmm, TWO.name(), two.answer(), one.answer()));
                }
                System.out.printf("%-20s one job %s, two at once %s: %.2fx one job's time (1 = in parallel, 2 = in turns)%n",
                        vmm + ":", Figures.time(one.time()), Figures.time(two.time()), Figures.ratio(two.time(), one.time()));
            }
        }
    }
}
