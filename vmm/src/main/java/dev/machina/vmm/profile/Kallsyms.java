package dev.machina.vmm.profile;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the symbol tables a kernel built with CONFIG_KALLSYMS carries for /proc/kallsyms out of
 * its image, where nothing points at them once the ELF is stripped: they are found by their shape,
 * as scripts/kallsyms.c lays them out (each table 8-byte aligned):
 * <ul>
 *   <li>{@code kallsyms_num_syms} (a 32-bit count) directly before {@code kallsyms_names}: per
 *       symbol a length (one byte, or two little-endian 7-bit groups from 6.1 on) and that many
 *       token numbers, the first token's first character being the type letter;</li>
 *   <li>{@code kallsyms_markers} after the names: the offset in them of every 256th symbol, 32-bit;</li>
 *   <li>{@code kallsyms_token_table}: 256 NUL-terminated strings, in which the characters that
 *       stand for themselves appear in byte order ("0", "1" ... "9" in a row: the search starts
 *       there), and {@code kallsyms_token_index}, their 16-bit offsets;</li>
 *   <li>{@code kallsyms_offsets} (32-bit) and {@code kallsyms_relative_base} (64-bit): before the
 *       count up to 6.3, after the token index from 6.4 on. An offset is relative to the base, or
 *       with CONFIG_KALLSYMS_ABSOLUTE_PERCPU, when negative, is {@code base - 1 - offset} (and a
 *       non-negative one an absolute per-CPU address).</li>
 * </ul>
 * Every candidate is checked against the markers and the token index, and the addresses must come
 * out in order, as kallsyms sorts them, and mostly distinct, so a match by chance is not taken.
 */
final class Kallsyms {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final byte[] DIGITS = "0\u00001\u00002\u00003\u00004\u00005\u00006\u00007\u00008\u00009\u0000"
            .getBytes(StandardCharsets.US_ASCII);
    private static final int TOKENS = 256;
    private static final int ALIGNMENT = 8;
    /** Bounds on the symbol count that a plausible kallsyms_num_syms holds. */
    private static final int MIN_SYMBOLS = 100;
    private static final int MAX_SYMBOLS = 4 << 20;
    /** How far before the token table the names may start. */
    private static final long MAX_NAMES_BYTES = 64L << 20;
    /** The share of consecutive addresses that must be in order for a layout to be taken. */
    private static final double SORTED = 0.99;
    /** The share of consecutive addresses that must differ (aliases share one). */
    private static final double DISTINCT = 0.5;

    private final MemorySegment image;

    private Kallsyms(MemorySegment image) {
        this.image = image;
    }

    /** The symbols of the kernel image {@code image} (a vmlinux), or empty if no tables were found. */
    static Optional<List<KernelSymbols.Symbol>> read(MemorySegment image) {
        Kallsyms kallsyms = new Kallsyms(image);
        for (long at = kallsyms.find(DIGITS, 0); at >= 0; at = kallsyms.find(DIGITS, at + 1)) {
            Optional<List<KernelSymbols.Symbol>> symbols = kallsyms.tokenTable(at).flatMap(kallsyms::symbols);
            if (symbols.isPresent()) {
                return symbols;
            }
        }
        return Optional.empty();
    }

    /** The token table and index around the digits' tokens at {@code digits}. */
    private Optional<Tokens> tokenTable(long digits) {
        // '0' is token 48: walk back over the 48 strings before it.
        long start = digits;
        for (int i = 0; i < '0'; i++) {
            start--;
            do {
                start--;
            } while (start >= 0 && byteAt(start) != 0);
            start++;
            if (start <= 0) {
                return Optional.empty();
            }
        }
        int[] offsets = new int[TOKENS];
        String[] tokens = new String[TOKENS];
        long at = start;
        for (int i = 0; i < TOKENS; i++) {
            offsets[i] = (int) (at - start);
            long end = at;
            while (end < image.byteSize() && byteAt(end) != 0) {
                end++;
            }
            if (end >= image.byteSize() || end - at > 32) {
                return Optional.empty();
            }
            tokens[i] = new String(image.asSlice(at, end - at).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.ISO_8859_1);
            at = end + 1;
        }
        long index = align(at, start);
        if (index + 2L * TOKENS > image.byteSize()) {
            return Optional.empty();
        }
        for (int i = 0; i < TOKENS; i++) {
            if ((image.get(U16, index + 2L * i) & 0xFFFF) != offsets[i]) {
                return Optional.empty();
            }
        }
        return Optional.of(new Tokens(start, index + 2L * TOKENS, tokens));
    }

    /** @param table where the token table starts; @param indexEnd where its index ends */
    private record Tokens(long table, long indexEnd, String[] tokens) {
    }

    /** Finds the count and names before {@code tokens}, then the offsets in either place. */
    private Optional<List<KernelSymbols.Symbol>> symbols(Tokens tokens) {
        long lowest = Math.max(0, tokens.table() - MAX_NAMES_BYTES);
        for (long count = tokens.table() - ALIGNMENT; count >= lowest; count -= ALIGNMENT) {
            int symbols = image.get(U32, count);
            // The count is a 32-bit value padded to the names' alignment.
            if (symbols < MIN_SYMBOLS || symbols > MAX_SYMBOLS || image.get(U32, count + 4) != 0) {
                continue;
            }
            Optional<List<String>> names = names(count + ALIGNMENT, symbols, tokens);
            if (names.isEmpty()) {
                continue;
            }
            long before = count - ALIGNMENT - align(4L * symbols, 0);
            long after = align(tokens.indexEnd(), tokens.table());
            for (long offsets : new long[] {before, after}) {
                long base = offsets == before ? count - ALIGNMENT : offsets + align(4L * symbols, 0);
                Optional<List<KernelSymbols.Symbol>> found = addresses(offsets, base, names.get());
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The {@code count} names from {@code start}, if each begins with a type letter, they end
     * before the token table, and the markers that follow them (kallsyms_seqs_of_names, from 6.2
     * and in later 6.1 releases, may lie between them and the token table) give the offset of every 256th.
     */
    private Optional<List<String>> names(long start, int count, Tokens tokens) {
        List<String> names = new ArrayList<>(count);
        long[] marked = new long[(count + 255) / 256];
        long at = start;
        StringBuilder name = new StringBuilder();
        for (int i = 0; i < count; i++) {
            if (i % 256 == 0) {
                marked[i / 256] = at - start;
            }
            int length = byteAt(at++);
            if ((length & 0x80) != 0) {
                length = (length & 0x7F) | (byteAt(at++) << 7);
            }
            if (length == 0 || at + length > tokens.table()) {
                return Optional.empty();
            }
            name.setLength(0);
            for (int j = 0; j < length; j++) {
                name.append(tokens.tokens()[byteAt(at + j)]);
            }
            if (name.length() < 2 || !Character.isLetter(name.charAt(0))) {
                return Optional.empty();
            }
            at += length;
            names.add(name.toString());
        }
        long markers = align(at, tokens.table());
        if (markers + 4L * marked.length > tokens.table()) {
            return Optional.empty();
        }
        for (int k = 0; k < marked.length; k++) {
            if (Integer.toUnsignedLong(image.get(U32, markers + 4L * k)) != marked[k]) {
                return Optional.empty();
            }
        }
        return Optional.of(names);
    }

    /** The symbols with the offsets at {@code offsets} and the base at {@code base}, if their addresses come out in order. */
    private Optional<List<KernelSymbols.Symbol>> addresses(long offsets, long base, List<String> names) {
        int count = names.size();
        if (offsets < 0 || base + 8 > image.byteSize() || offsets + 4L * count > image.byteSize()) {
            return Optional.empty();
        }
        long relativeBase = image.get(U64, base);
        int negative = 0;
        for (int i = 0; i < count; i++) {
            negative += image.get(U32, offsets + 4L * i) < 0 ? 1 : 0;
        }
        // With absolute per-CPU symbols the kernel's own are all negative offsets; else none is.
        boolean absolutePercpu = negative > count / 2;
        List<KernelSymbols.Symbol> symbols = new ArrayList<>(count);
        long previous = 0;
        int inOrder = 0;
        int rising = 0;
        for (int i = 0; i < count; i++) {
            int offset = image.get(U32, offsets + 4L * i);
            long address = absolutePercpu
                    ? (offset >= 0 ? offset : relativeBase - 1 - offset)
                    : relativeBase + Integer.toUnsignedLong(offset);
            inOrder += Long.compareUnsigned(previous, address) <= 0 ? 1 : 0;
            rising += Long.compareUnsigned(previous, address) < 0 ? 1 : 0;
            previous = address;
            String name = names.get(i);
            symbols.add(new KernelSymbols.Symbol(address, name.charAt(0), name.substring(1)));
        }
        // Mostly distinct too: zeros taken for offsets would give addresses all equal, in order.
        return inOrder >= SORTED * count && rising >= DISTINCT * count ? Optional.of(symbols) : Optional.empty();
    }

    private int byteAt(long at) {
        return image.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    /** {@code at} rounded up to the tables' alignment, counted from {@code origin} (an aligned place). */
    private static long align(long at, long origin) {
        return origin + ((at - origin + ALIGNMENT - 1) & -ALIGNMENT);
    }

    private long find(byte[] pattern, long from) {
        long size = image.byteSize();
        outer:
        for (long at = from; at + pattern.length <= size; at++) {
            for (int i = 0; i < pattern.length; i++) {
                if (image.get(ValueLayout.JAVA_BYTE, at + i) != pattern[i]) {
                    continue outer;
                }
            }
            return at;
        }
        return -1;
    }
}
