package dev.machina.vmm.disk;

import dev.machina.vmm.disk.Qcow2Map.Mapping;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A qcow2 image, version 2 or 3: guest clusters mapped to host clusters by {@link Qcow2Map}, host
 * clusters counted by {@link Qcow2Refcounts}, what was never written read from the backing file
 * (raw or qcow2, its name relative to the image's directory) or as zeros. Compressed clusters
 * (deflate) are read, and rewritten uncompressed when written to; clusters shared with internal
 * snapshots are copied before they are written. Writing keeps the image consistent on the disk
 * at every step, so no dirty bit is needed and {@code qemu-img check} finds nothing after
 * {@link #flush} or {@link #close}.
 *
 * <p>Not supported (each refused by name when the image is opened): encryption, external data
 * files, extended L2 entries, zstd compression, unknown incompatible features; dirty (lazy
 * refcounts) and corrupt-marked images only read-only. Machina writes no compressed clusters and
 * does not read snapshots, only keeps them intact.
 */
final class Qcow2Image implements DiskImage {
    /** A backing chain deeper than this is taken for a loop (an image that is its own backing file, at some remove). */
    private static final int MAX_BACKING_DEPTH = 32;

    private final HostFile file;
    private final Qcow2Header header;
    private final Qcow2Refcounts refcounts;
    private final Qcow2Map map;
    /** The backing file, or null without one. */
    private final DiskImage backing;
    private final int clusterBits;
    /** A whole cluster, for writing part of one that must be copied first; null when read-only. */
    private final ByteBuffer copy;
    private final Inflater inflater = new Inflater(true);
    /** The last compressed cluster inflated, and where it came from: a guest reads a cluster in several requests. */
    private byte[] deflated;
    private byte[] inflated;
    private long inflatedFrom = -1;

    private Qcow2Image(HostFile file, Qcow2Header header, Qcow2Refcounts refcounts, Qcow2Map map, DiskImage backing) {
        this.file = file;
        this.header = header;
        this.refcounts = refcounts;
        this.map = map;
        this.backing = backing;
        this.clusterBits = header.clusterBits();
        this.copy = file.readOnly() ? null : ByteBuffer.allocate(header.clusterSize());
    }

    static Qcow2Image open(HostFile file) throws IOException {
        return open(file, 0);
    }

    private static Qcow2Image open(HostFile file, int depth) throws IOException {
        Qcow2Header header = Qcow2Header.read(file);
        Qcow2Refcounts refcounts = new Qcow2Refcounts(file, header);
        Qcow2Map map = new Qcow2Map(file, header, refcounts);
        if (!file.readOnly() && header.autoclearFeatures() != 0) {
            // What these bits vouch for (bitmaps in step with the data) stops holding once Machina
            // writes; a writer that does not keep it up must clear them.
            file.write(Qcow2Header.AUTOCLEAR_FEATURES_FIELD, ByteBuffer.allocate(Long.BYTES));
        }
        DiskImage backing = header.backingFile().isPresent() ? openBacking(file, header, depth) : null;
        return new Qcow2Image(file, header, refcounts, map, backing);
    }

    /** Opens the backing file read-only, in the format the header names, else qcow2 if it has the magic, else raw. */
    private static DiskImage openBacking(HostFile file, Qcow2Header header, int depth) throws DiskImageException {
        if (depth >= MAX_BACKING_DEPTH) {
            throw file.problem("its chain of backing files is deeper than " + MAX_BACKING_DEPTH + " (does it loop?)");
        }
        Path path = file.path().resolveSibling(header.backingFile().orElseThrow());
        try {
            return HostFile.open(path, true, backing -> {
                String format = header.backingFormat().orElse(Qcow2Header.hasMagic(backing) ? "qcow2" : "raw");
                return switch (format) {
                    case "qcow2" -> open(backing, depth + 1);
                    case "raw" -> new RawImage(backing);
                    default -> throw backing.problem("is in format " + format + ", which Machina does not read (only raw and qcow2)");
                };
            });
        } catch (DiskImageException e) {
            throw file.problem("backing file " + e.getMessage());
        }
    }

    @Override
    public long size() {
        return header.size();
    }

    @Override
    public boolean readOnly() {
        return file.readOnly();
    }

    @Override
    public String serial() {
        return file.serial();
    }

    @Override
    public void read(long offset, ByteBuffer target) throws IOException {
        Requests.checkRange(this, offset, target.remaining());
        Requests.forEachPiece(offset, target, clusterBits, (cluster, within, piece) -> read(cluster, map.mapping(cluster), within, piece));
    }

    /** Fills {@code piece} with guest cluster {@code cluster}'s bytes from {@code within} on, as {@code mapping} places them. */
    private void read(long cluster, Mapping mapping, int within, ByteBuffer piece) throws IOException {
        switch (mapping) {
            case Mapping.Data data -> file.read(data.host() + within, piece);
            case Mapping.Zeros zeros -> Requests.fillZeros(piece, piece.remaining());
            case Mapping.Compressed compressed -> piece.put(inflate(compressed), within, piece.remaining());
            case Mapping.Unallocated unallocated -> {
                long offset = (cluster << clusterBits) + within;
                int inBacking = backing == null ? 0 : Math.clamp(backing.size() - offset, 0, piece.remaining());
                int limit = piece.limit();
                piece.limit(piece.position() + inBacking);
                if (inBacking > 0) {
                    backing.read(offset, piece);
                }
                piece.limit(limit);
                Requests.fillZeros(piece, piece.remaining()); // past the end of a smaller backing file
            }
        }
    }

    private byte[] inflate(Mapping.Compressed compressed) throws IOException {
        if (compressed.offset() == inflatedFrom) {
            return inflated;
        }
        int clusterSize = header.clusterSize();
        if (inflated == null) {
            inflated = new byte[clusterSize];
            deflated = new byte[2 * clusterSize]; // the most a compressed entry's sector count can span
        }
        inflatedFrom = -1;
        file.read(compressed.offset(), ByteBuffer.wrap(deflated, 0, compressed.length()));
        inflater.reset();
        inflater.setInput(deflated, 0, compressed.length());
        int produced = 0;
        try {
            while (produced < clusterSize) {
                int more = inflater.inflate(inflated, produced, clusterSize - produced);
                if (more == 0) { // the input ran out, or the stream ended, first
                    break;
                }
                produced += more;
            }
        } catch (DataFormatException e) {
            produced = -1;
        }
        if (produced < clusterSize) {
            throw file.problem("corrupt qcow2 compressed cluster at 0x%x: it does not inflate to a whole cluster".formatted(compressed.offset()));
        }
        inflatedFrom = compressed.offset();
        return inflated;
    }

    @Override
    public void write(long offset, ByteBuffer source) throws IOException {
        file.checkWritable();
        Requests.checkRange(this, offset, source.remaining());
        Requests.forEachPiece(offset, source, clusterBits, this::write);
    }

    /**
     * Writes {@code piece} into guest cluster {@code cluster} from {@code within} on: in place if
     * the cluster is this image's own data, else as a whole cluster, what the piece does not cover
     * copied from what it read as before, into the zeroed cluster it keeps or a new one.
     */
    private void write(long cluster, int within, ByteBuffer piece) throws IOException {
        Mapping mapping = map.mapping(cluster);
        long own = ownCluster(mapping);
        if (mapping instanceof Mapping.Data && own != 0) {
            file.write(own + within, piece);
            return;
        }
        long host = own != 0 ? own : refcounts.allocate();
        ByteBuffer whole = piece;
        if (piece.remaining() < header.clusterSize()) {
            read(cluster, mapping, 0, copy.clear());
            whole = copy.position(within).put(piece).clear();
        }
        file.write(host, whole);
        map.map(cluster, host | Qcow2Map.COPIED);
        if (own == 0) {
            release(mapping);
        }
    }

    /** The host cluster of this image's alone that a guest cluster has, which it may write in place: its data, or a zeroed one it keeps; else 0. */
    private static long ownCluster(Mapping mapping) {
        return switch (mapping) {
            case Mapping.Data(long host, boolean copied) when copied -> host;
            case Mapping.Zeros(long host, boolean copied) when copied -> host;
            default -> 0;
        };
    }

    /** Whether a guest cluster takes up host space (perhaps shared with a snapshot, or with other compressed clusters). */
    private static boolean holdsSpace(Mapping mapping) {
        return mapping instanceof Mapping.Data || mapping instanceof Mapping.Compressed
                || mapping instanceof Mapping.Zeros zeros && zeros.host() != 0;
    }

    /** Frees the host space a guest cluster has stopped using, once its new mapping is on the disk. */
    private void release(Mapping old) {
        switch (old) {
            case Mapping.Data data -> refcounts.freeLater(data.host(), header.clusterSize());
            case Mapping.Zeros zeros when zeros.host() != 0 -> refcounts.freeLater(zeros.host(), header.clusterSize());
            case Mapping.Compressed compressed -> refcounts.freeLater(compressed.offset(), compressed.length());
            default -> { }
        }
    }

    private boolean readsAsZeros(Mapping mapping) {
        return mapping instanceof Mapping.Zeros || mapping instanceof Mapping.Unallocated && backing == null;
    }

    /** Version 3's zero flag: a cluster can read as zeros without a backing file's bytes showing. */
    private boolean hasZeroFlag() {
        return header.version() >= 3;
    }

    /**
     * Whole clusters get version 3's zero flag: with {@code mayUnmap} they give up their host
     * cluster, without it this image's own data cluster is kept, zeroed. The rest, and every
     * cluster of a version 2 image, is written with zeros, except where it reads as zeros already.
     */
    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) throws IOException {
        file.checkWritable();
        Requests.checkRange(this, offset, length);
        Requests.forEachPiece(offset, length, clusterBits, (cluster, within, bytes) -> {
            Mapping mapping = map.mapping(cluster);
            if (readsAsZeros(mapping)) {
                return;
            }
            long own = ownCluster(mapping);
            if (bytes < header.clusterSize() || !hasZeroFlag()) {
                Requests.writeZeroes(this, (cluster << clusterBits) + within, bytes);
            } else if (!mayUnmap && own != 0) {
                map.map(cluster, own | Qcow2Map.COPIED | Qcow2Map.ZERO);
            } else {
                map.map(cluster, Qcow2Map.ZERO);
                release(mapping);
            }
        });
    }

    /** Version 3 only: there, a cluster given up reads as zeros rather than as the backing file. */
    @Override
    public boolean supportsDiscard() {
        return !file.readOnly() && hasZeroFlag();
    }

    /** Gives up the host clusters of the guest clusters wholly inside the range, which then read as zeros; nothing on version 2. */
    @Override
    public void discard(long offset, long length) throws IOException {
        file.checkWritable();
        Requests.checkRange(this, offset, length);
        if (!hasZeroFlag()) {
            return;
        }
        Requests.forEachPiece(offset, length, clusterBits, (cluster, within, bytes) -> {
            Mapping mapping = map.mapping(cluster);
            if (bytes == header.clusterSize() && holdsSpace(mapping)) {
                map.map(cluster, Qcow2Map.ZERO);
                release(mapping);
            }
        });
    }

    @Override
    public void flush() throws IOException {
        if (!file.readOnly()) {
            map.commit();
            file.force();
        }
    }

    @Override
    public void close() throws IOException {
        try (file; backing) {
            flush();
        } finally {
            inflater.end();
        }
    }
}
