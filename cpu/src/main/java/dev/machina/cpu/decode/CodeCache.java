package dev.machina.cpu.decode;

import dev.machina.cpu.translate.Region;

import java.util.Arrays;

/**
 * Decoded instructions by the host offset of their first byte in guest RAM, one table per 4 KiB
 * page, shared by the vCPUs of a guest, and the translated regions entered there. A bit per RAM
 * page says whether the page holds decoded code; a write to such a page drops its table and its
 * regions (self-modifying code), and the writer checks only that bit, so ordinary stores stay
 * cheap.
 *
 * <p>The tables ({@link SparsePage}) are plain arrays: a vCPU may for a moment still run a
 * stale decoding of a page another vCPU just rewrote, which is the cross-modifying-code latitude x86 gives (the writer must
 * make the other processor serialize before it may rely on the new code). Regions are installed
 * by the translator's thread under this object's lock, which a drop also takes, so a region
 * translated from a page that was rewritten meanwhile is never installed.
 */
public final class CodeCache {
    private static final int PAGE_SHIFT = 12;
    private static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    /** Page numbers are {@code int}s, and the tables arrays: this is the most pages they can index. */
    public static final long MAX_PAGES = Integer.MAX_VALUE - 8;
    private static final int SHARED_SLOTS = 1 << 15;

    private final SparsePage<Instruction>[] pages;
    private final SparsePage<Region>[] regions;
    private final long[] codeBits;
    private final Instruction[] shared = new Instruction[SHARED_SLOTS];
    private int epoch;
    private int installed;

    /** @throws IllegalArgumentException if {@code ramBytes} has more pages than an array can index */
    public CodeCache(long ramBytes) {
        long count = (ramBytes + PAGE_SIZE - 1) >>> PAGE_SHIFT;
        if (ramBytes < 0 || count > MAX_PAGES) {
            throw new IllegalArgumentException("%d bytes of RAM is more than %d pages the code cache can index"
                    .formatted(ramBytes, MAX_PAGES));
        }
        int pageCount = (int) count;
        pages = newPages(pageCount);
        regions = newPages(pageCount);
        codeBits = new long[(pageCount + 63) >>> 6];
    }

    @SuppressWarnings("unchecked")
    private static <T> SparsePage<T>[] newPages(int count) {
        return (SparsePage<T>[]) new SparsePage<?>[count];
    }

    /**
     * The most RAM whose tables fit in {@code heapBytes} of heap, where a reference takes
     * {@code referenceBytes}. The tables are dense, a reference in each of two per page (and a
     * bit), so that finding a page's decodings is one array load: their heap grows with RAM, not
     * with the code that runs.
     */
    public static long maxRam(long heapBytes, int referenceBytes) {
        long perPage = 2L * referenceBytes;
        return Math.min(heapBytes / perPage, MAX_PAGES) << PAGE_SHIFT;
    }

    /**
     * The decodings of the page holding {@code host}, made empty if there are none yet. A core
     * may keep the table for the page it executes in while {@link #epoch()} is unchanged; a write
     * to the page replaces it.
     */
    public SparsePage<Instruction> page(long host) {
        int pageNumber = (int) (host >>> PAGE_SHIFT);
        SparsePage<Instruction> page = pages[pageNumber];
        if (page == null) {
            page = new SparsePage<>();
            pages[pageNumber] = page;
            codeBits[pageNumber >>> 6] |= 1L << pageNumber;
        }
        return page;
    }

    /**
     * The one record kept for decodings equal to {@code decoded}: the same instruction decoded at
     * many places (push rbp, ret, mov rbp, rsp, a test of the same register...) is held once, as a
     * decoding depends on the bytes and the mode, never on the address. That shrinks the heap the
     * tables hold and keeps the interpreter's commonest records in the host's caches. Recent
     * decodings are remembered in a direct-mapped table, so that it costs the same memory whatever
     * code the guest writes; it is shared by the cores without a lock, which is harmless: records
     * are immutable, and a slot one core overwrites only costs another a second copy.
     */
    public Instruction canonical(Instruction decoded) {
        int hash = decoded.hashCode();
        int slot = (hash ^ hash >>> 15) & (SHARED_SLOTS - 1);
        Instruction known = shared[slot];
        if (decoded.equals(known)) {
            return known;
        }
        shared[slot] = decoded;
        return decoded;
    }

    /**
     * One bit per RAM page, set while the page holds decoded code: translated code checks it
     * before a store of its own and leaves such stores to the interpreter.
     */
    public long[] codeBits() {
        return codeBits;
    }

    /** The regions translated from the page holding {@code host}, by offset of their entry; null if none. */
    public SparsePage<Region> regions(long host) {
        return regions[(int) (host >>> PAGE_SHIFT)];
    }

    /** Whether a region is installed at {@code host}. */
    public boolean hasRegion(long host) {
        SparsePage<Region> page = regions[(int) (host >>> PAGE_SHIFT)];
        return page != null && page.at((int) host & (PAGE_SIZE - 1)) != null;
    }

    /**
     * Installs {@code region}, entered at {@code host} and translated from the decodings
     * {@code page}, unless that page has been rewritten since (its table is no longer
     * {@code page}). Returns whether it was installed.
     */
    public synchronized boolean install(long host, Region region, SparsePage<Instruction> page) {
        int pageNumber = (int) (host >>> PAGE_SHIFT);
        if (pages[pageNumber] != page) {
            return false;
        }
        if (regions[pageNumber] == null) {
            regions[pageNumber] = new SparsePage<>();
        }
        regions[pageNumber].keep((int) host & (PAGE_SIZE - 1), region);
        installed++;
        return true;
    }

    /** How many regions have been installed so far. */
    public synchronized int installed() {
        return installed;
    }

    /** Counts the times decodings were dropped: an array from {@link #page} is current while this is unchanged. */
    public int epoch() {
        return epoch;
    }

    /** Forgets every decoding (RAM was rewritten behind the cores' backs). */
    public synchronized void clear() {
        epoch++;
        Arrays.fill(pages, null);
        Arrays.fill(regions, null);
        Arrays.fill(codeBits, 0);
    }

    /** Forgets every translated region, keeping the decodings (the translations took too much room). */
    public synchronized void clearRegions() {
        Arrays.fill(regions, null);
    }

    /** Whether decodings are kept for the page of RAM at {@code host}: a store there must drop them. */
    public boolean holdsCode(long host) {
        int pageNumber = (int) (host >>> PAGE_SHIFT);
        return (codeBits[pageNumber >>> 6] & (1L << pageNumber)) != 0;
    }

    /** RAM at {@code host} was written: forget the page's decodings if it holds code. */
    public void written(long host) {
        if (holdsCode(host)) {
            drop((int) (host >>> PAGE_SHIFT));
        }
    }

    /**
     * RAM {@code [host, host + length)} was written by something other than a vCPU (a device's
     * DMA, the VMM): forget the decodings of every page in it that holds code.
     */
    public void written(long host, long length) {
        if (length <= 0) {
            return;
        }
        for (long page = host >>> PAGE_SHIFT, last = (host + length - 1) >>> PAGE_SHIFT; page <= last; page++) {
            written(page << PAGE_SHIFT);
        }
    }

    private synchronized void drop(int pageNumber) {
        if ((codeBits[pageNumber >>> 6] & (1L << pageNumber)) != 0) {
            codeBits[pageNumber >>> 6] &= ~(1L << pageNumber);
            pages[pageNumber] = null;
            regions[pageNumber] = null;
            epoch++;
        }
    }
}
