package dev.machina.vmm.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A qcow2 image's header as docs/interop/qcow2.txt in QEMU's tree lays it out (big-endian),
 * version 2 or 3, with the header extensions Machina needs. {@link #read} checks every field it
 * keeps: an image from elsewhere may be damaged or made to attack its reader, so each offset and
 * size must lie in the file and within QEMU's own limits before any table is read or allocated.
 */
record Qcow2Header(int version, int clusterBits, long size, int l1Entries, long l1Offset, long refcountTableOffset,
                   int refcountTableClusters, int refcountOrder, long autoclearFeatures,
                   Optional<String> backingFile, Optional<String> backingFormat) {
    /** "QFI\xfb". */
    private static final int MAGIC = 0x514649fb;
    /** Where the fields Machina writes lie: the refcount table's offset, its cluster count right after it. */
    static final int REFCOUNT_TABLE_OFFSET_FIELD = 48;
    static final int AUTOCLEAR_FEATURES_FIELD = 88;

    private static final int V2_LENGTH = 72;
    private static final int V3_LENGTH = 104;
    private static final int MIN_CLUSTER_BITS = 9;
    private static final int MAX_CLUSTER_BITS = 21;
    private static final int MAX_REFCOUNT_ORDER = 6;
    /** QEMU's limits (QCOW_MAX_L1_SIZE, QCOW_MAX_REFTABLE_SIZE, the backing name's): larger ones it refuses too. */
    private static final long MAX_L1_BYTES = 32 << 20;
    static final long MAX_REFCOUNT_TABLE_BYTES = 8 << 20;
    private static final int MAX_BACKING_NAME_BYTES = 1023;

    /** Incompatible feature bits: an image with one its reader does not know must not be opened. */
    private static final long DIRTY = 1;
    private static final long CORRUPT = 1 << 1;
    private static final long EXTERNAL_DATA_FILE = 1 << 2;
    private static final long COMPRESSION_TYPE = 1 << 3;
    private static final long EXTENDED_L2 = 1 << 4;
    private static final long KNOWN_INCOMPATIBLE = DIRTY | CORRUPT | EXTERNAL_DATA_FILE | COMPRESSION_TYPE | EXTENDED_L2;

    private static final int END_OF_EXTENSIONS = 0;
    private static final int BACKING_FORMAT_EXTENSION = 0xe2792aca;
    private static final int FEATURE_NAMES_EXTENSION = 0x6803f857;
    private static final int FEATURE_NAME_ENTRY_BYTES = 48;

    int clusterSize() {
        return 1 << clusterBits;
    }

    /** Whether {@code file} begins with the qcow2 magic. */
    static boolean hasMagic(HostFile file) throws IOException {
        ByteBuffer magic = ByteBuffer.allocate(Integer.BYTES);
        file.read(0, magic);
        return magic.getInt(0) == MAGIC;
    }

    /**
     * Reads and checks {@code file}'s header; refuses what Machina cannot read, and a dirty or
     * corrupt image unless it is opened read-only.
     */
    static Qcow2Header read(HostFile file) throws IOException {
        if (!hasMagic(file)) {
            throw file.problem("is not a qcow2 image (it does not begin with QFI\\xfb)");
        }
        long fileSize = file.size();
        ByteBuffer fixed = ByteBuffer.allocate(V3_LENGTH + 1);
        file.read(0, fixed);
        int version = fixed.getInt(4);
        if (version != 2 && version != 3) {
            throw file.problem("is qcow2 version " + Integer.toUnsignedString(version) + ", which Machina does not read (only 2 and 3)");
        }
        int headerLength = version == 2 ? V2_LENGTH : fixed.getInt(100);
        if (fileSize < (version == 2 ? V2_LENGTH : V3_LENGTH)) {
            throw cutShort(file, fileSize);
        }
        int clusterBits = fixed.getInt(20);
        if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
            throw corrupt(file, "cluster_bits is " + clusterBits + ", not 9 to 21");
        }
        int clusterSize = 1 << clusterBits;
        if (version == 3 && (headerLength < V3_LENGTH || headerLength > clusterSize)) {
            throw corrupt(file, "header_length is " + Integer.toUnsignedString(headerLength) + ", not " + V3_LENGTH + " to the cluster size");
        }
        if (fileSize < headerLength) {
            throw cutShort(file, fileSize);
        }
        if (fixed.getInt(32) != 0) {
            throw file.problem("is encrypted, which Machina does not support");
        }
        long incompatible = version == 2 ? 0 : fixed.getLong(72);
        int refcountOrder = version == 2 ? 4 : fixed.getInt(96);
        int compressionType = headerLength > V3_LENGTH ? fixed.get(V3_LENGTH) & 0xff : 0;

        ByteBuffer first = ByteBuffer.allocate(clusterSize);
        file.read(0, first);
        Map<Integer, String> featureNames = new HashMap<>();
        Optional<String> backingFormat = Optional.empty();
        long backingOffset = fixed.getLong(8);
        int extensionsEnd = backingOffset > 0 && backingOffset < clusterSize ? (int) backingOffset : clusterSize;
        for (int at = headerLength; at + 8 <= extensionsEnd; ) {
            int type = first.getInt(at);
            int length = first.getInt(at + 4);
            if (type == END_OF_EXTENSIONS) {
                break;
            }
            if (length < 0 || length > extensionsEnd - at - 8) {
                throw corrupt(file, "header extension 0x%08x at byte %d runs past the header".formatted(type, at));
            }
            switch (type) {
                case BACKING_FORMAT_EXTENSION -> backingFormat = Optional.of(text(first, at + 8, length));
                case FEATURE_NAMES_EXTENSION -> {
                    for (int entry = at + 8; entry + FEATURE_NAME_ENTRY_BYTES <= at + 8 + length; entry += FEATURE_NAME_ENTRY_BYTES) {
                        if (first.get(entry) == 0) { // an incompatible feature's name
                            featureNames.put(first.get(entry + 1) & 0xff, text(first, entry + 2, FEATURE_NAME_ENTRY_BYTES - 2));
                        }
                    }
                }
                default -> { } // one Machina has no use for, which a reader may skip
            }
            at += 8 + (length + 7 & ~7);
        }

        if ((incompatible & ~KNOWN_INCOMPATIBLE) != 0) {
            List<String> unknown = new ArrayList<>();
            for (long bits = incompatible & ~KNOWN_INCOMPATIBLE; bits != 0; bits &= bits - 1) {
                int bit = Long.numberOfTrailingZeros(bits);
                unknown.add(bit + (featureNames.containsKey(bit) ? " (\"" + featureNames.get(bit) + "\")" : ""));
            }
            throw file.problem("uses incompatible qcow2 feature bit " + String.join(", ", unknown) + ", which Machina does not know");
        }
        if ((incompatible & EXTERNAL_DATA_FILE) != 0) {
            throw file.problem("keeps its data in an external data file, which Machina does not support");
        }
        if ((incompatible & EXTENDED_L2) != 0) {
            throw file.problem("uses extended L2 entries (subclusters), which Machina does not support");
        }
        if (compressionType != 0) {
            throw file.problem(compressionType == 1 ? "compresses clusters with zstd, which Machina does not read (only deflate)"
                    : "has unknown compression type " + compressionType);
        }
        if ((incompatible & CORRUPT) != 0 && !file.readOnly()) {
            throw file.problem("is marked corrupt: repair it with qemu-img check -r all, or open it ro");
        }
        if ((incompatible & DIRTY) != 0 && !file.readOnly()) {
            throw file.problem("was not closed cleanly (its dirty bit is set: its refcounts may be stale): "
                    + "repair it with qemu-img check -r all, or open it ro");
        }
        if (refcountOrder < 0 || refcountOrder > MAX_REFCOUNT_ORDER) {
            throw corrupt(file, "refcount_order is " + refcountOrder + ", not 0 to 6");
        }

        long size = fixed.getLong(24);
        long l1Entries = Integer.toUnsignedLong(fixed.getInt(36));
        long l1Offset = fixed.getLong(40);
        long clustersPerL2Table = clusterSize / Long.BYTES;
        if (size < 0) {
            throw corrupt(file, "the virtual size is negative");
        }
        if (l1Entries < Math.ceilDiv(Math.ceilDiv(size, clusterSize), clustersPerL2Table)) {
            throw corrupt(file, "its L1 table of " + l1Entries + " entries is too small for its virtual size of " + size + " bytes");
        }
        if (l1Entries * Long.BYTES > MAX_L1_BYTES) {
            throw corrupt(file, "its L1 table of " + l1Entries + " entries is larger than 32 MiB");
        }
        checkTable(file, "L1 table", l1Offset, l1Entries * Long.BYTES, clusterSize, fileSize);
        long refcountTableOffset = fixed.getLong(48);
        long refcountTableBytes = Integer.toUnsignedLong(fixed.getInt(56)) << clusterBits;
        if (refcountTableBytes == 0 || refcountTableBytes > MAX_REFCOUNT_TABLE_BYTES) {
            throw corrupt(file, "its refcount table of " + refcountTableBytes + " bytes is empty or larger than 8 MiB");
        }
        checkTable(file, "refcount table", refcountTableOffset, refcountTableBytes, clusterSize, fileSize);

        Optional<String> backingFile = Optional.empty();
        long backingNameBytes = Integer.toUnsignedLong(fixed.getInt(16));
        if (backingOffset != 0 && backingNameBytes != 0) {
            if (backingNameBytes > MAX_BACKING_NAME_BYTES || backingOffset < 0 || backingOffset > clusterSize - backingNameBytes) {
                throw corrupt(file, "the backing file's name (%d bytes at byte %d) is not inside the header cluster"
                        .formatted(backingNameBytes, backingOffset));
            }
            backingFile = Optional.of(text(first, (int) backingOffset, (int) backingNameBytes));
        }
        return new Qcow2Header(version, clusterBits, size, (int) l1Entries, l1Offset, refcountTableOffset,
                (int) (refcountTableBytes >> clusterBits), refcountOrder, version == 2 ? 0 : fixed.getLong(88), backingFile, backingFormat);
    }

    private static void checkTable(HostFile file, String table, long offset, long bytes, int clusterSize, long fileSize)
            throws DiskImageException {
        if ((offset & (clusterSize - 1)) != 0) {
            throw corrupt(file, "its %s at byte 0x%x is not cluster aligned".formatted(table, offset));
        }
        if (offset < 0 || offset > fileSize - bytes) {
            throw corrupt(file, "its %s (%d bytes at byte 0x%x) lies past the end of the file (%d bytes)"
                    .formatted(table, bytes, offset, fileSize));
        }
    }

    private static DiskImageException cutShort(HostFile file, long fileSize) {
        return file.problem("is cut short: it ends at byte " + fileSize + ", inside its qcow2 header");
    }

    private static DiskImageException corrupt(HostFile file, String problem) {
        return file.problem("corrupt qcow2 header: " + problem);
    }

    /** A name in the header, which a NUL may end before its field does. */
    private static String text(ByteBuffer bytes, int at, int length) {
        byte[] name = new byte[length];
        bytes.get(at, name);
        int end = 0;
        while (end < length && name[end] != 0) {
            end++;
        }
        return new String(name, 0, end, StandardCharsets.UTF_8);
    }
}
