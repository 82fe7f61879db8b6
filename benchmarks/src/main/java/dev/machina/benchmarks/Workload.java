package dev.machina.benchmarks;

import dev.machina.console.GuestConsole;
import dev.machina.console.GuestConsole.Reply;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A job timed in the guest's shell: its name in the report, the shell command, and the form its
 * answer must have, so that a job that fails the same way on both VMMs (an applet missing, a file
 * not written) cannot pass for a result.
 */
record Workload(String name, String command, Pattern answer) {
    private static final Duration TIMEOUT = Duration.ofMinutes(10);

    /** What a workload printed and the median of its times. */
    record Result(String answer, Duration time) {
    }

    /**
     * Runs the command {@code rounds} times on {@code vmm}'s console; every run must print the
     * same answer, of the expected form.
     */
    Result measure(Vmm vmm, GuestConsole console, int rounds) throws IOException, InterruptedException {
        List<Duration> times = new ArrayList<>();
        String first = null;
        for (int round = 0; round < rounds; round++) {
            Reply reply = console.timed(command, TIMEOUT);
            if (!answer.matcher(reply.output()).matches()) {
                throw new IllegalStateException("%s on %s printed%n%s%ninstead of an answer of the form %s".formatted(
                        name, vmm, reply.output(), answer));
            }
            if (first != null && !first.equals(reply.output())) {
                throw new IllegalStateException("%s on %s printed%n%s%nat first, and then%n%s".formatted(
                        name, vmm, first, reply.output()));
            }
            first = reply.output();
            times.add(reply.time());
        }
        return new Result(first, Figures.median(times));
    }
}
