package dev.machina.benchmarks;

import java.time.Duration;
import java.util.List;

/** The arithmetic the benchmarks' reports share. */
final class Figures {
    private Figures() {
    }

    static double seconds(Duration duration) {
        return duration.toNanos() / 1e9;
    }

    /** {@code duration} in seconds, to the hundredth, with the unit. */
    static String time(Duration duration) {
        return "%.2f s".formatted(seconds(duration));
    }

    /** The middle one of {@code times} (of an even count, the upper of the two middle ones). */
    static Duration median(List<Duration> times) {
        List<Duration> sorted = times.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    /** How many times {@code peer}'s time {@code ours} takes. */
    static double ratio(Duration ours, Duration peer) {
        return seconds(ours) / seconds(peer);
    }

    static double geometricMean(List<Double> ratios) {
        return Math.exp(ratios.stream().mapToDouble(Math::log).average().orElseThrow());
    }
}
