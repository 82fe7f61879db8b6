package dev.machina.cpu.decode;

import dev.machina.cpu.compile.CompiledBlock;

import java.util.Arrays;

/**
 * Decoded instructions by the host offset of their first byte in guest RAM, one table per 4 KiB
 * page, shared by the vCPUs of a guest. A bit per RAM page says whether the page holds decoded
 * code; a write to such a page drops its table (self-modifying code), and the writer checks only
 * that bit, so ordinary stores stay cheap. The blocks compiled from a page live and die with it.
 *
 * <p>The tables are plain arrays: a vCPU may for a moment still run a stale decoding of a page
 * another vCPU just rewrote, which is the cross-modifying-code latitude x86 gives (the writer must
 * make the other processor serialize before it may rely on the new code).
 */
public final class CodeCache {
    private static final int PAGE_SHIFT = 12;
    private static final int PAGE_SIZE = 1 << PAGE_SHIFT;

    private final Instruction[][] pages;
    private final CompiledBlock[][] blocks;
    private final long[] codeBits;
    private int epoch;

    public CodeCache(long ramBytes) {
        int pageCount = (int) ((ramBytes + PAGE_SIZE - 1) >>> PAGE_SHIFT);
        pages = new Instruction[pageCount][];
        blocks = new CompiledBlock[pageCount][];
        codeBits = new long[(pageCount + 63) >>> 6];
    }

    /**
     * The decodings of the page holding {@code host}, indexed by offset in the page, made empty if
     * there are none yet. A core may keep the array for the page it executes in while
     * {@link #epoch()} is unchanged; a write to the page replaces it.
     */
    public Instruction[] page(long host) {
        int pageNumber = (int) (host >>> PAGE_SHIFT);
        Instruction[] page = pages[pageNumber];
        if (page == null) {
            page = new Instruction[PAGE_SIZE];
            pages[pageNumber] = page;
            codeBits[pageNumber >>> 6] |= 1L << pageNumber;
        }
        return page;
    }

    /** The blocks compiled from the page holding {@code host}, by offset of their first instruction; null if none. */
    public CompiledBlock[] blocks(long host) {
        return blocks[(int) (host >>> PAGE_SHIFT)];
    }

    /** Remembers {@code block}, compiled from the decodings of {@code host}'s page starting at {@code host}. */
    public void storeBlock(long host, CompiledBlock block) {
        int pageNumber = (int) (host >>> PAGE_SHIFT);
        if (pages[pageNumber] == null) {
            return;
        }
        if (blocks[pageNumber] == null) {
            blocks[pageNumber] = new CompiledBlock[PAGE_SIZE];
        }
        blocks[pageNumber][(int) host & (PAGE_SIZE - 1)] = block;
    }

    /** Counts the times decodings were dropped: an array from {@link #page} is current while this is unchanged. */
    public int epoch() {
        return epoch;
    }

    /** Forgets every decoding (RAM was rewritten behind the cores' backs). */
    public void clear() {
        epoch++;
        Arrays.fill(pages, null);
        Arrays.fill(blocks, null);
        Arrays.fill(codeBits, 0);
    }

    /** RAM at {@code host} was written: forget the page's decodings if it holds code. */
    public void written(long host) {
        int pageNumber = (int) (host >>> PAGE_SHIFT);
        if ((codeBits[pageNumber >>> 6] & (1L << pageNumber)) != 0) {
            codeBits[pageNumber >>> 6] &= ~(1L << pageNumber);
            pages[pageNumber] = null;
            blocks[pageNumber] = null;
            epoch++;
        }
    }
}
