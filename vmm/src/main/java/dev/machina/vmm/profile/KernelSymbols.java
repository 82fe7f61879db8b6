package dev.machina.vmm.profile;

import dev.machina.loader.ImageException;
import dev.machina.vmm.boot.linux.LinuxBoot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A kernel's symbols by address, to name the function a sampled RIP is in: the nearest symbol at
 * or below it, if that is a function (a text symbol: {@code t}, {@code T}, {@code w}, {@code W}).
 * Data and absolute symbols are kept only so that an address past the end of the code, or in
 * code the kernel runs before it is mapped where it was linked, is not given to the last
 * function below it.
 */
public final class KernelSymbols {
    /** The name a System.map next to the kernel has. */
    public static final String SYSTEM_MAP = "System.map";

    /** One line of System.map or one kallsyms entry: address, type letter, name. */
    public record Symbol(long address, char type, String name) {
        boolean function() {
            return switch (type) {
                case 't', 'T', 'w', 'W' -> true;
                default -> false;
            };
        }
    }

    private final long[] addresses;
    private final Symbol[] symbols;
    private final String source;

    private KernelSymbols(List<Symbol> symbols, String source) {
        this.symbols = symbols.stream().sorted(Comparator.comparing(Symbol::address, Long::compareUnsigned)).toArray(Symbol[]::new);
        this.addresses = new long[this.symbols.length];
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = this.symbols[i].address();
        }
        this.source = source;
    }

    /** No symbols: every kernel address is reported as an address. */
    public static KernelSymbols none(String why) {
        return new KernelSymbols(List.of(), why);
    }

    /** Symbols from {@code source}, which says in the report where they came from. */
    public static KernelSymbols of(List<Symbol> symbols, String source) {
        return new KernelSymbols(symbols, source);
    }

    /**
     * Parses System.map's lines ({@code ffffffff81000000 T _text}); lines of another form are
     * skipped. Debian ships a placeholder of one line (an address of all ones, "B The real
     * System.map is in the linux-image-<version>-dbg package"), which yields no function.
     */
    public static KernelSymbols parseSystemMap(List<String> lines, String source) {
        List<Symbol> symbols = new ArrayList<>();
        for (String line : lines) {
            String[] fields = line.strip().split("\\s+");
            if (fields.length == 3 && fields[1].length() == 1 && fields[0].length() <= 16) {
                try {
                    symbols.add(new Symbol(Long.parseUnsignedLong(fields[0], 16), fields[1].charAt(0), fields[2]));
                } catch (NumberFormatException e) {
                    // Not a symbol line.
                }
            }
        }
        return new KernelSymbols(symbols, source);
    }

    /**
     * The symbols of {@code kernel} (a bzImage or a vmlinux): from a System.map beside it when that
     * names functions, else from the kallsyms tables inside the kernel (Debian's System.map is a
     * placeholder and its vmlinux stripped, but every kernel built with CONFIG_KALLSYMS carries
     * its symbols for /proc/kallsyms). Never fails: without symbols, the report gives addresses
     * and says why.
     */
    public static KernelSymbols forKernel(Path kernel) {
        Path map = kernel.resolveSibling(SYSTEM_MAP);
        if (Files.isRegularFile(map)) {
            try {
                KernelSymbols symbols = parseSystemMap(Files.readAllLines(map), map.toString());
                if (symbols.functions() > 0) {
                    return symbols;
                }
            } catch (IOException e) {
                // Fall back on the kernel's own tables.
            }
        }
        try {
            return Kallsyms.read(LinuxBoot.vmlinuxOf(kernel).contents())
                    .map(symbols -> of(symbols, "the kallsyms tables in " + kernel))
                    .orElseGet(() -> none("no System.map beside " + kernel + " and no kallsyms tables found in it"));
        } catch (ImageException e) {
            return none("cannot read " + kernel + ": " + e.getMessage());
        }
    }

    /** Where the symbols came from, or why there are none. */
    public String source() {
        return source;
    }

    /** How many of the symbols are functions. */
    public long functions() {
        long count = 0;
        for (Symbol symbol : symbols) {
            count += symbol.function() ? 1 : 0;
        }
        return count;
    }

    /** The function {@code address} is in: the nearest symbol at or below it, if that is a function. */
    public Optional<String> functionAt(long address) {
        int low = 0;
        int high = addresses.length - 1;
        int found = -1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            if (Long.compareUnsigned(addresses[middle], address) <= 0) {
                found = middle;
                low = middle + 1;
            } else {
                high = middle - 1;
            }
        }
        // Of several symbols at one address (aliases), a function wins.
        for (int i = found; i >= 0 && addresses[i] == addresses[found]; i--) {
            if (symbols[i].function()) {
                return Optional.of(symbols[i].name());
            }
        }
        return Optional.empty();
    }
}
