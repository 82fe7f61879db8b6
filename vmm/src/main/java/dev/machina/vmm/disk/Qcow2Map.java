package dev.machina.vmm.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where each guest cluster of a qcow2 image is: the L1 table, in memory whole, points at L2
 * tables, a few kept in a cache, whose 64-bit entries say per cluster where its data is, or that
 * it reads as zeros or from the backing file. Every entry read is checked before it is used.
 *
 * <p>Changes are made in memory and written by {@link #commit()}, after everything they point at
 * is forced to the disk: a table on the disk never points at a cluster that is not yet written and
 * counted. A new L2 table is written, and counted, as soon as it is allocated (the L1 entry that
 * points at it waits for the commit); clusters that entries stopped pointing at are freed once the
 * commit has put the change on the disk.
 */
final class Qcow2Map {
    /** Entry bits: the cluster is used by this image alone (refcount 1), so it may be written in place. */
    static final long COPIED = 1L << 63;
    private static final long COMPRESSED = 1L << 62;
    /** Version 3: the cluster reads as zeros, whether or not it keeps a host cluster. */
    static final long ZERO = 1;
    private static final long HOST_OFFSET_BITS = 0x00ff_ffff_ffff_fe00L;
    private static final int SECTOR_BYTES = 512;
    /** The L2 tables kept in memory; 2 MiB of them map 16 GiB of 64 KiB clusters. */
    private static final int CACHE_BYTES = 2 << 20;
    private static final int MIN_CACHED_TABLES = 4;

    /** What an L2 entry says about a guest cluster. */
    sealed interface Mapping {
        /** Never written: the backing file's bytes show through, or zeros without one. */
        record Unallocated() implements Mapping { }

        /** Reads as zeros; {@code host} is a cluster it keeps allocated, or 0. */
        record Zeros(long host, boolean copied) implements Mapping { }

        /** In the host cluster at {@code host}; {@code copied}: this image's alone, so writable in place. */
        record Data(long host, boolean copied) implements Mapping { }

        /** Deflated into {@code length} bytes at {@code offset}, which may share host clusters with others. */
        record Compressed(long offset, int length) implements Mapping { }
    }

    private static final Mapping UNALLOCATED = new Mapping.Unallocated();

    private static final class L2Table {
        long offset;
        final ByteBuffer entries;
        boolean dirty;

        L2Table(long offset, ByteBuffer entries) {
            this.offset = offset;
            this.entries = entries;
        }
    }

    private final HostFile file;
    private final Qcow2Refcounts refcounts;
    private final int clusterBits;
    private final long hostOffsetMask;
    /** Bits that must be clear in an L1 entry, and in an L2 entry that is not compressed. */
    private final long l1Reserved;
    private final long l2Reserved;
    /** Where a compressed entry's sector count begins. */
    private final int compressedOffsetBits;
    private final long l1Offset;
    private final ByteBuffer l1;
    private boolean l1Dirty;
    private final int cacheCapacity;
    private final LinkedHashMap<Integer, L2Table> tables = new LinkedHashMap<>(16, 0.75f, true);

    Qcow2Map(HostFile file, Qcow2Header header, Qcow2Refcounts refcounts) throws IOException {
        this.file = file;
        this.refcounts = refcounts;
        this.clusterBits = header.clusterBits();
        this.hostOffsetMask = HOST_OFFSET_BITS & -(1L << clusterBits);
        this.l1Reserved = ~(COPIED | hostOffsetMask);
        this.l2Reserved = ~(COPIED | hostOffsetMask | (header.version() >= 3 ? ZERO : 0));
        this.compressedOffsetBits = 62 - (clusterBits - 8);
        this.l1Offset = header.l1Offset();
        this.l1 = ByteBuffer.allocate(header.l1Entries() * Long.BYTES);
        file.read(l1Offset, l1);
        this.cacheCapacity = Math.max(MIN_CACHED_TABLES, CACHE_BYTES >> clusterBits);
    }

    /** What the L2 entry of guest cluster {@code cluster} says. */
    Mapping mapping(long cluster) throws IOException {
        L2Table table = table(l1Index(cluster));
        return table == null ? UNALLOCATED : decode(table.entries.getLong(l2EntryAt(cluster)), cluster);
    }

    private Mapping decode(long entry, long cluster) throws DiskImageException {
        if ((entry & COMPRESSED) != 0) {
            long offset = entry & ((1L << compressedOffsetBits) - 1);
            long sectors = ((entry & ~(COPIED | COMPRESSED)) >>> compressedOffsetBits) + 1;
            if ((entry & COPIED) != 0 || offset >= refcounts.end()) {
                throw badEntry(entry, cluster);
            }
            return new Mapping.Compressed(offset, (int) (sectors * SECTOR_BYTES - (offset & (SECTOR_BYTES - 1))));
        }
        long host = entry & hostOffsetMask;
        if ((entry & l2Reserved) != 0 || host >= refcounts.end()) {
            throw badEntry(entry, cluster);
        }
        boolean copied = (entry & COPIED) != 0;
        if ((entry & ZERO) != 0) {
            return new Mapping.Zeros(host, copied);
        }
        return host == 0 ? UNALLOCATED : new Mapping.Data(host, copied);
    }

    private DiskImageException badEntry(long entry, long cluster) {
        return file.problem("corrupt qcow2 L2 table: the entry for guest offset 0x%x (0x%016x) has reserved bits set or points past the end of the file"
                .formatted(cluster << clusterBits, entry));
    }

    /**
     * Points guest cluster {@code cluster} at {@code entry} (a host offset and flags), in an L2
     * table of this image's own: one is allocated first if there is none, or copied if it is shared
     * with a snapshot.
     */
    void map(long cluster, long entry) throws IOException {
        L2Table table = ownTable(l1Index(cluster));
        table.entries.putLong(l2EntryAt(cluster), entry);
        table.dirty = true;
    }

    private L2Table ownTable(int l1Index) throws IOException {
        L2Table table = table(l1Index);
        if (table != null && (l1.getLong(l1Index * Long.BYTES) & COPIED) != 0) {
            return table;
        }
        long shared = 0;
        if (table == null) {
            ByteBuffer entries = cacheSlot();
            Arrays.fill(entries.array(), (byte) 0);
            table = new L2Table(0, entries);
            tables.put(l1Index, table);
        } else {
            shared = table.offset; // the snapshot keeps the old table; this image's copy starts out the same
        }
        table.offset = refcounts.allocate();
        file.write(table.offset, table.entries.duplicate().clear());
        l1.putLong(l1Index * Long.BYTES, table.offset | COPIED);
        l1Dirty = true;
        if (shared != 0) {
            refcounts.freeLater(shared, 1L << clusterBits);
        }
        return table;
    }

    /** The L2 table that L1 entry {@code l1Index} points at, read into the cache if it is not there; null if none. */
    private L2Table table(int l1Index) throws IOException {
        L2Table table = tables.get(l1Index);
        if (table != null) {
            return table;
        }
        long entry = l1.getLong(l1Index * Long.BYTES);
        long offset = entry & hostOffsetMask;
        if ((entry & l1Reserved) != 0 || offset >= refcounts.end()) {
            throw file.problem("corrupt qcow2 L1 table: entry %d (0x%016x) has reserved bits set or points past the end of the file"
                    .formatted(l1Index, entry));
        }
        if (offset == 0) {
            return null;
        }
        table = new L2Table(offset, cacheSlot());
        file.read(offset, table.entries);
        tables.put(l1Index, table);
        return table;
    }

    /** A buffer for one more table in the cache: the least recently used one's when the cache is full, committed first if changed. */
    private ByteBuffer cacheSlot() throws IOException {
        if (tables.size() < cacheCapacity) {
            return ByteBuffer.allocate(1 << clusterBits);
        }
        Map.Entry<Integer, L2Table> eldest = tables.entrySet().iterator().next();
        if (eldest.getValue().dirty) {
            commit();
        }
        tables.remove(eldest.getKey());
        return eldest.getValue().entries.clear();
    }

    /**
     * Writes the changed tables: first forces what they point at to the disk (data, new tables,
     * refcounts), then writes them, then forces them and frees the clusters they stopped pointing at.
     */
    void commit() throws IOException {
        if (!l1Dirty && tables.values().stream().noneMatch(table -> table.dirty)) {
            return;
        }
        file.force();
        for (L2Table table : tables.values()) {
            if (table.dirty) {
                file.write(table.offset, table.entries.duplicate().clear());
                table.dirty = false;
            }
        }
        if (l1Dirty) {
            file.write(l1Offset, l1.duplicate().clear());
            l1Dirty = false;
        }
        if (refcounts.hasPendingFrees()) {
            file.force();
            refcounts.applyFrees();
        }
    }

    private int l1Index(long cluster) {
        return (int) (cluster >>> (clusterBits - 3));
    }

    /** The byte offset of the cluster's entry in its L2 table. */
    private int l2EntryAt(long cluster) {
        return (int) (cluster & ((1L << (clusterBits - 3)) - 1)) * Long.BYTES;
    }
}
