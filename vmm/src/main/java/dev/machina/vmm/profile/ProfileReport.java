package dev.machina.vmm.profile;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The text a profile is written as: the samples' shares in the kernel, in user code and idle, then
 * the functions most samples fell in. Kernel RIPs are named by {@link KernelSymbols}, the rest
 * given as 4 KiB pages: user code (its program's symbols are not known) and kernel code without a
 * symbol (before the kernel runs where it was linked, say).
 */
public final class ProfileReport {
    /** How many functions the report lists. */
    public static final int TOP = 40;

    private ProfileReport() {
    }

    /** The report of {@code samples}, kernel addresses named by {@code symbols}, listing the {@code top} functions. */
    public static String format(Samples samples, KernelSymbols symbols, int top) {
        long total = samples.total();
        long kernel = samples.kernel().values().stream().mapToLong(Long::longValue).sum();
        long user = samples.userPages().values().stream().mapToLong(Long::longValue).sum();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Guest profile: %,d samples of %d vCPU%s, one every %d µs each, over %.1f s%n",
                total, samples.vcpus(), samples.vcpus() == 1 ? "" : "s", samples.period().toNanos() / 1000,
                samples.span().toNanos() / 1e9));
        out.append("Kernel symbols: ").append(symbols.source()).append(String.format("%n%n"));
        out.append(line(kernel, total, "kernel"));
        out.append(line(user, total, "user"));
        out.append(line(samples.idle(), total, "idle (halted)"));
        List<Map.Entry<String, Long>> functions = functions(samples, symbols).entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(top)
                .toList();
        out.append(String.format(Locale.ROOT, "%nTop %d functions (share of all samples)%n%10s %7s  %s%n",
                functions.size(), "samples", "%", "function"));
        for (Map.Entry<String, Long> function : functions) {
            out.append(line(function.getValue(), total, function.getKey()));
        }
        return out.toString();
    }

    /** Samples by function name, kernel and user. */
    private static Map<String, Long> functions(Samples samples, KernelSymbols symbols) {
        Map<String, Long> functions = new LinkedHashMap<>();
        samples.kernel().forEach((rip, count) -> functions.merge(
                symbols.functionAt(rip).orElseGet(() -> page("kernel", rip)), count, Long::sum));
        samples.userPages().forEach((page, count) -> functions.merge(page("user", page), count, Long::sum));
        return functions;
    }

    private static String page(String mode, long address) {
        return String.format(Locale.ROOT, "[%s] page 0x%x", mode, address & -Samples.PAGE);
    }

    private static String line(long count, long total, String what) {
        return String.format(Locale.ROOT, "%,10d %6.1f%%  %s%n", count, total == 0 ? 0.0 : 100.0 * count / total, what);
    }
}
