package dev.machina.vmm.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A qcow2 image's refcounts: how many tables (or snapshots) use each host cluster, in refcount
 * blocks that the refcount table points at, each entry {@code 1 << refcount_order} bits wide. It
 * allocates clusters (the lowest free one) and frees them.
 *
 * <p>The refcounts on the disk never say a cluster in use is free, whenever the image is read:
 * refcount changes are written at once, an allocation before anything can point at the cluster,
 * and a free only after what pointed at it is on the disk ({@link #freeLater}; the cluster map
 * writes its tables, forces them, then {@link #applyFrees}). At worst a crash leaves a cluster
 * counted that nothing uses (a leak, which {@code qemu-img check -r leaks} gives back); the
 * blocks in the cache are therefore never dirty.
 */
final class Qcow2Refcounts {
    /** The refcount blocks kept in memory; 512 KiB of them count 16 GiB of 64 KiB clusters. */
    private static final int CACHE_BYTES = 512 << 10;
    private static final int MIN_CACHED_BLOCKS = 4;

    private final HostFile file;
    private final int clusterBits;
    private final int order;
    private final long maxRefcount;
    /** log2 of the clusters one refcount block counts. */
    private final int blockBits;
    private final int cacheCapacity;
    private ByteBuffer table;
    private long tableOffset;
    private final LinkedHashMap<Long, ByteBuffer> blocks = new LinkedHashMap<>(16, 0.75f, true);
    private final List<Range> pendingFrees = new ArrayList<>();
    /** No cluster below it is free. */
    private long freeHint;
    /** The first cluster past the file's end and every cluster allocated. */
    private long endCluster;

    private record Range(long offset, long length) { }

    Qcow2Refcounts(HostFile file, Qcow2Header header) throws IOException {
        this.file = file;
        this.clusterBits = header.clusterBits();
        this.order = header.refcountOrder();
        this.maxRefcount = order == 6 ? Long.MAX_VALUE : (1L << (1 << order)) - 1;
        this.blockBits = clusterBits + 3 - order;
        this.cacheCapacity = Math.max(MIN_CACHED_BLOCKS, CACHE_BYTES >> clusterBits);
        this.table = ByteBuffer.allocate(header.refcountTableClusters() << clusterBits);
        this.tableOffset = header.refcountTableOffset();
        file.read(tableOffset, table);
        this.endCluster = Math.ceilDiv(file.size(), 1L << clusterBits);
    }

    /** The end of the host clusters in use or in the file: no table may point at or past it. */
    long end() {
        return endCluster << clusterBits;
    }

    /**
     * Allocates a cluster: its refcount becomes 1 on the disk at once. Returns its offset; the
     * caller writes all of it before anything points at it (a freed cluster holds old data).
     */
    long allocate() throws IOException {
        while (true) {
            long cluster = findFree();
            long index = cluster >>> blockBits;
            if (index >= tableEntries()) {
                growTable(index);
            } else if (tableEntry(index) == 0) {
                addBlock(index, cluster);
            } else {
                update(cluster, 1);
                freeHint = cluster + 1;
                endCluster = Math.max(endCluster, cluster + 1);
                return cluster << clusterBits;
            }
        }
    }

    /**
     * Frees the clusters that {@code length} bytes at {@code offset} touch once what pointed at them
     * is on the disk: {@link #applyFrees} does, after the cluster map has written and forced its
     * tables. Until then they stay counted, so they cannot be allocated again.
     */
    void freeLater(long offset, long length) {
        pendingFrees.add(new Range(offset, length));
    }

    boolean hasPendingFrees() {
        return !pendingFrees.isEmpty();
    }

    void applyFrees() throws IOException {
        List<Range> frees = List.copyOf(pendingFrees);
        pendingFrees.clear();
        for (Range range : frees) {
            free(range.offset(), range.length());
        }
    }

    private void free(long offset, long length) throws IOException {
        for (long cluster = offset >>> clusterBits; cluster <= (offset + length - 1) >>> clusterBits; cluster++) {
            if (update(cluster, -1) == 0) {
                freeHint = Math.min(freeHint, cluster);
            }
        }
    }

    private long findFree() throws IOException {
        for (long cluster = freeHint; ; ) {
            ByteBuffer block = block(cluster >>> blockBits);
            if (block == null) {
                return cluster;
            }
            for (int i = entryIndex(cluster); i < 1 << blockBits; i++, cluster++) {
                if (get(block, i) == 0) {
                    return cluster;
                }
            }
        }
    }

    /** Adds {@code delta} to a cluster's refcount, on the disk at once; returns the new count. */
    private long update(long cluster, int delta) throws IOException {
        long index = cluster >>> blockBits;
        ByteBuffer block = block(index);
        int i = entryIndex(cluster);
        long refcount = block == null ? 0 : get(block, i);
        long updated = refcount + delta;
        if (block == null || refcount < 0 || updated < 0 || updated > maxRefcount) {
            throw file.problem("corrupt qcow2 refcounts: the cluster at 0x%x has refcount %d, which cannot become %d"
                    .formatted(cluster << clusterBits, refcount, updated));
        }
        put(block, i, updated);
        int at = byteOf(i);
        file.write(tableEntry(index) + at, block.slice(at, Math.max(1, (1 << order) / 8)));
        return updated;
    }

    /** The refcount block counting clusters {@code index << blockBits} onward, or null where there is none: they are all free. */
    private ByteBuffer block(long index) throws IOException {
        long offset = tableEntry(index);
        if (offset == 0) {
            return null;
        }
        ByteBuffer block = blocks.get(index);
        if (block == null) {
            if ((offset & ((1L << clusterBits) - 1)) != 0 || offset >= end()) {
                throw file.problem("corrupt qcow2 refcount table: entry %d points at 0x%x, %s".formatted(index, offset,
                        offset >= end() ? "past the end of the file" : "not at a cluster"));
            }
            block = cacheSlot();
            file.read(offset, block);
            blocks.put(index, block);
        }
        return block;
    }

    /** A buffer for one more block in the cache: the least recently used one's when the cache is full. */
    private ByteBuffer cacheSlot() {
        if (blocks.size() < cacheCapacity) {
            return ByteBuffer.allocate(1 << clusterBits);
        }
        Iterator<ByteBuffer> eldest = blocks.values().iterator();
        ByteBuffer reused = eldest.next();
        eldest.remove();
        return reused.clear();
    }

    /**
     * Puts the missing refcount block {@code index} in {@code cluster}, the first free cluster,
     * which lies in the range it counts: so it counts itself, and nothing else need change.
     */
    private void addBlock(long index, long cluster) throws IOException {
        ByteBuffer block = cacheSlot();
        Arrays.fill(block.array(), (byte) 0);
        put(block, entryIndex(cluster), 1);
        file.write(cluster << clusterBits, block.clear());
        endCluster = Math.max(endCluster, cluster + 1);
        file.force(); // the block is on the disk before the table entry that makes it count
        setTableEntry(index, cluster << clusterBits);
        blocks.put(index, block);
    }

    /**
     * Moves the refcount table, full, to a larger one past the clusters it counts, followed by new
     * refcount blocks for the clusters it and they take (no block counts them yet); all of it is
     * on the disk before the header points at it, and the old table is freed after.
     */
    private void growTable(long neededIndex) throws IOException {
        long start = Math.max(endCluster, tableEntries() << blockBits);
        long firstIndex = start >>> blockBits;
        long entries = Math.max(neededIndex + 1, 2 * tableEntries());
        long tableClusters;
        long blocks = 0;
        while (true) { // the blocks make the area larger, which may need more of them and more entries
            tableClusters = Math.ceilDiv(entries * Long.BYTES, 1L << clusterBits);
            long lastIndex = (start + tableClusters + blocks - 1) >>> blockBits;
            if (lastIndex - firstIndex + 1 == blocks && lastIndex < entries) {
                break;
            }
            blocks = lastIndex - firstIndex + 1;
            entries = Math.max(entries, lastIndex + 1);
        }
        if (tableClusters << clusterBits > Qcow2Header.MAX_REFCOUNT_TABLE_BYTES) {
            throw file.problem("cannot grow: its refcount table would be larger than 8 MiB, the most QEMU reads");
        }

        long end = start + tableClusters + blocks;
        ByteBuffer grown = ByteBuffer.allocate((int) (tableClusters << clusterBits));
        grown.put(0, table, 0, table.capacity());
        for (long index = firstIndex; index < firstIndex + blocks; index++) {
            ByteBuffer block = ByteBuffer.allocate(1 << clusterBits);
            for (long cluster = Math.max(start, index << blockBits); cluster < Math.min(end, (index + 1) << blockBits); cluster++) {
                put(block, entryIndex(cluster), 1);
            }
            long offset = (start + tableClusters + index - firstIndex) << clusterBits;
            file.write(offset, block);
            grown.putLong((int) index * Long.BYTES, offset);
        }
        file.write(start << clusterBits, grown.duplicate());
        endCluster = end;
        file.force(); // the new table and blocks are on the disk before the header points at them
        file.write(Qcow2Header.REFCOUNT_TABLE_OFFSET_FIELD,
                ByteBuffer.allocate(Long.BYTES + Integer.BYTES).putLong(start << clusterBits).putInt((int) tableClusters).flip());
        file.force(); // and the header before the old table's clusters can be allocated again

        long oldOffset = tableOffset;
        long oldBytes = table.capacity();
        table = grown;
        tableOffset = start << clusterBits;
        free(oldOffset, oldBytes);
    }

    private long tableEntries() {
        return table.capacity() / Long.BYTES;
    }

    private long tableEntry(long index) {
        return index < tableEntries() ? table.getLong((int) index * Long.BYTES) : 0;
    }

    private void setTableEntry(long index, long offset) throws IOException {
        int at = (int) index * Long.BYTES;
        table.putLong(at, offset);
        file.write(tableOffset + at, table.slice(at, Long.BYTES));
    }

    private int entryIndex(long cluster) {
        return (int) (cluster & ((1L << blockBits) - 1));
    }

    /** The byte holding entry {@code i} of a block, or its first: refcounts narrower than a byte share one. */
    private int byteOf(int i) {
        return order >= 3 ? i << (order - 3) : i >>> (3 - order);
    }

    /** Where entry {@code i} lies in its byte, for refcounts narrower than one: the first in the lowest bits. */
    private int shiftOf(int i) {
        return (i & (7 >> order)) << order;
    }

    private long get(ByteBuffer block, int i) {
        int at = byteOf(i);
        if (order < 3) {
            return (block.get(at) >>> shiftOf(i)) & maxRefcount;
        }
        long value = 0;
        for (int b = 0; b < 1 << (order - 3); b++) {
            value = value << 8 | block.get(at + b) & 0xff;
        }
        return value;
    }

    private void put(ByteBuffer block, int i, long value) {
        int at = byteOf(i);
        if (order < 3) {
            block.put(at, (byte) (block.get(at) & ~(maxRefcount << shiftOf(i)) | value << shiftOf(i)));
            return;
        }
        for (int b = (1 << (order - 3)) - 1; b >= 0; b--, value >>>= 8) {
            block.put(at + b, (byte) value);
        }
    }
}
