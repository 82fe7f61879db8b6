package dev.machina.cpu.decode;

/**
 * What the {@link CodeCache} keeps for one 4 KiB page of RAM (decodings, translated regions), by
 * the offset in the page where each begins. The values are kept in chunks of {@link #CHUNK}
 * offsets, each made when the first value in it is kept: code rarely fills a page (after
 * linux_guest's boot and workloads, about 160 decoded instructions per page that holds any, a
 * sixth of it, and a few regions), and a flat table cost 16 KiB of heap per page whatever ran
 * there: 23.6 MB of decodings' tables then, 5.9 MB in chunks.
 *
 * <p>Shared by the cores of a guest without a lock, like the rest of the cache: two cores keeping
 * values in a new chunk at once may lose one, which only costs decoding it again.
 */
public final class SparsePage<T> {
    private static final int PAGE_SIZE = 4096;
    private static final int CHUNK_SHIFT = 6;
    private static final int CHUNK = 1 << CHUNK_SHIFT;

    private final Object[][] chunks = new Object[PAGE_SIZE >>> CHUNK_SHIFT][];

    /** The value kept at {@code offset}, or null. */
    @SuppressWarnings("unchecked")
    public T at(int offset) {
        Object[] chunk = chunks[offset >>> CHUNK_SHIFT];
        return chunk == null ? null : (T) chunk[offset & (CHUNK - 1)];
    }

    /** Keeps {@code value} at {@code offset}. */
    public void keep(int offset, T value) {
        Object[] chunk = chunks[offset >>> CHUNK_SHIFT];
        if (chunk == null) {
            chunk = new Object[CHUNK];
            chunks[offset >>> CHUNK_SHIFT] = chunk;
        }
        chunk[offset & (CHUNK - 1)] = value;
    }
}
