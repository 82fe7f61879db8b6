package dev.machina.vmm.profile;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Kallsyms tables laid out as scripts/kallsyms.c writes them, inside other bytes, found and read back. */
class KallsymsTest {
    private static final long BASE = 0xffffffff81000000L;
    private static final int COUNT = 600;

    @Test
    void readsTheTablesWithTheOffsetsBeforeTheCount() {
        assertThat(Kallsyms.read(image(true))).hasValue(expected());
    }

    @Test
    void readsTheTablesWithTheOffsetsAfterTheTokenIndex() {
        assertThat(Kallsyms.read(image(false))).hasValue(expected());
    }

    @Test
    void findsNothingWithoutTables() {
        byte[] noise = new byte[1 << 16];
        new java.util.Random(1).nextBytes(noise);
        assertThat(Kallsyms.read(MemorySegment.ofArray(noise))).isEmpty();
    }

    private static List<KernelSymbols.Symbol> expected() {
        List<KernelSymbols.Symbol> symbols = new ArrayList<>();
        for (int i = 0; i < COUNT; i++) {
            symbols.add(new KernelSymbols.Symbol(BASE + 0x40L * i, i % 7 == 0 ? 't' : 'T', "function_" + i));
        }
        return symbols;
    }

    /**
     * The tables of {@link #expected()} with absolute per-CPU offsets (negative: {@code base - 1 -
     * offset}), each name's characters tokens of their own, the other tokens two-letter strings.
     */
    private static MemorySegment image(boolean offsetsFirst) {
        List<KernelSymbols.Symbol> symbols = expected();
        Table out = new Table();
        out.bytes(new byte[4096 + 3]); // whatever comes before, not aligned
        out.align();
        if (offsetsFirst) {
            offsets(out, symbols);
        }
        out.u32(COUNT).align();
        List<Integer> markers = new ArrayList<>();
        int namesStart = out.size();
        for (int i = 0; i < COUNT; i++) {
            if (i % 256 == 0) {
                markers.add(out.size() - namesStart);
            }
            byte[] name = (symbols.get(i).type() + symbols.get(i).name()).getBytes(StandardCharsets.US_ASCII);
            out.u8(name.length).bytes(name);
        }
        out.align();
        markers.forEach(out::u32);
        out.align();
        int tokens = out.size();
        List<Integer> index = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            index.add(out.size() - tokens);
            boolean self = Character.isLetterOrDigit(b) && b < 128 || b == '_';
            out.bytes(self ? new byte[] {(byte) b} : new byte[] {'q', (byte) ('a' + b % 26)}).u8(0);
        }
        out.align();
        index.forEach(offset -> out.u16(offset));
        out.align();
        if (!offsetsFirst) {
            offsets(out, symbols);
        }
        out.bytes(new byte[100]);
        return MemorySegment.ofArray(out.toByteArray());
    }

    private static void offsets(Table out, List<KernelSymbols.Symbol> symbols) {
        long relativeBase = BASE;
        for (KernelSymbols.Symbol symbol : symbols) {
            out.u32((int) (relativeBase - 1 - symbol.address()));
        }
        out.align();
        out.u64(relativeBase);
    }

    private static final class Table extends ByteArrayOutputStream {
        Table u8(int value) {
            write(value);
            return this;
        }

        Table u16(int value) {
            return bytes(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) value).array());
        }

        Table u32(int value) {
            return bytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
        }

        Table u64(long value) {
            return bytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
        }

        Table bytes(byte[] bytes) {
            writeBytes(bytes);
            return this;
        }

        Table align() {
            while (size() % 8 != 0) {
                write(0);
            }
            return this;
        }
    }
}
