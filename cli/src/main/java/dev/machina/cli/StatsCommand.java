package dev.machina.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.machina.cli.control.ControlClient;
import dev.machina.cli.instance.InstanceException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** {@code guest stats ID [--watch]}: per-vCPU exits by reason and instructions retired, and device counters. */
@Command(name = "stats", description = {
        "Prints a running guest's statistics: per vCPU entries, exits by reason and (on the Java CPU) instructions retired; disk requests.",
        "--watch prints the rates per second every --interval seconds until the guest ends or Ctrl-C."})
final class StatsCommand extends InstanceVerb {
    private static final String CLEAR_SCREEN = "\033[H\033[2J";

    @Option(names = "--watch", description = "refreshes the rates per second, as kstats -v does")
    private boolean watch;

    @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "1", description = "how often --watch refreshes (default ${DEFAULT-VALUE})")
    private double interval;

    StatsCommand(Environment environment) {
        super(environment);
    }

    @Override
    public Integer call() throws Exception {
        if (!(interval > 0)) {
            throw new InstanceException("--interval must be a positive number of seconds");
        }
        ControlClient control = control();
        JsonNode before = control.getJson("/metrics");
        if (!watch) {
            print(StatisticsTable.totals(before));
            return 0;
        }
        long beforeNanos = System.nanoTime();
        while (true) {
            Thread.sleep(Duration.ofNanos((long) (interval * 1e9))); // the refresh period, not a synchronisation
            JsonNode now = control.getJson("/metrics"); // a guest that ended is one line and status 1
            long nowNanos = System.nanoTime();
            print((environment.terminal() ? CLEAR_SCREEN : "") + StatisticsTable.rates(now, before, (nowNanos - beforeNanos) / 1e9));
            before = now;
            beforeNanos = nowNanos;
        }
    }

    private void print(String text) throws java.io.IOException {
        environment.consoleOutput().write(text.getBytes(StandardCharsets.UTF_8));
        environment.consoleOutput().flush();
    }
}
