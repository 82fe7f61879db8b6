package dev.machina.vmm.devices.virtio.block;

import dev.machina.vmm.devices.virtio.VirtioDevice;
import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.QueueFault;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;
import dev.machina.vmm.disk.DiskImage;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * virtio-blk (device id 2) over a {@link DiskImage}: reads, writes, flushes that reach the disk
 * before they complete, the disk's serial through GET_ID, and discard and write-zeroes where the
 * image can. Data moves between guest RAM and the image through one reused bounce buffer, so that
 * every write to RAM goes through the guest memory's door and a request allocates nothing.
 *
 * <p>A request the device cannot serve (out of the disk's range, a write to a read-only disk, a
 * host I/O error) completes with an error status for the guest; only a malformed chain is a queue
 * fault.
 */
public final class BlockDevice implements VirtioDevice {
    public static final int DEVICE_TYPE = 2;
    public static final int SECTOR = 512;
    static final int F_SEG_MAX = 2;
    static final int F_RO = 5;
    static final int F_BLK_SIZE = 6;
    static final int F_FLUSH = 9;
    static final int F_DISCARD = 13;
    static final int F_WRITE_ZEROES = 14;
    static final int IN = 0;
    static final int OUT = 1;
    static final int FLUSH = 4;
    static final int GET_ID = 8;
    static final int DISCARD = 11;
    static final int WRITE_ZEROES = 13;
    static final int OK = 0;
    static final int IOERR = 1;
    static final int UNSUPP = 2;
    static final int ID_BYTES = 20;

    private static final int QUEUE_SIZE = 256;
    private static final int HEADER = 16;
    private static final int SEGMENT_ENTRY = 16;
    private static final int BOUNCE_SIZE = 256 << 10;
    private static final int PCI_CLASS_STORAGE = 0x01_80_00;
    private static final int CONFIG_SIZE = 60;
    /** One discard or write-zeroes segment per request: what Linux sends unless told more. */
    private static final int MAX_RANGE_SEGMENTS = 1;
    private static final long MAX_RANGE_SECTORS = (1L << 32) - 1;
    private static final int UNMAP = 1;

    private final String name;
    private final DiskImage disk;
    private final Consumer<String> log;
    private final ByteBuffer bounce = ByteBuffer.allocateDirect(BOUNCE_SIZE);
    private final MemorySegment bounceMemory = MemorySegment.ofBuffer(bounce);
    private final byte[] id = new byte[ID_BYTES];
    private final MemorySegment idMemory = MemorySegment.ofArray(id);
    private final BlockStatistics statistics = new BlockStatistics();

    /** A device named {@code name} (in logs) for {@code disk}; failed host I/O is logged to {@code log}. */
    public BlockDevice(String name, DiskImage disk, Consumer<String> log) {
        this.name = name;
        this.disk = disk;
        this.log = log;
        byte[] serial = disk.serial().getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(serial, 0, id, 0, Math.min(serial.length, ID_BYTES));
    }

    public BlockStatistics statistics() {
        return statistics;
    }

    @Override
    public int deviceType() {
        return DEVICE_TYPE;
    }

    @Override
    public int pciClass() {
        return PCI_CLASS_STORAGE;
    }

    @Override
    public long features() {
        long features = 1L << F_SEG_MAX | 1L << F_BLK_SIZE | 1L << F_FLUSH;
        if (disk.readOnly()) {
            features |= 1L << F_RO;
        } else {
            features |= 1L << F_WRITE_ZEROES;
            if (disk.supportsDiscard()) {
                features |= 1L << F_DISCARD;
            }
        }
        return features;
    }

    @Override
    public int[] queueSizes() {
        return new int[] {QUEUE_SIZE};
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        long value = 0;
        for (int i = size - 1; i >= 0; i--) {
            value = (value << 8) | configByte(offset + i);
        }
        return value;
    }

    /** struct virtio_blk_config, byte by byte: fields the driver reads at any width. */
    private int configByte(int offset) {
        long field;
        int start;
        if (offset < 8) {
            field = disk.size() / SECTOR;       // capacity
            start = 0;
        } else if (offset >= 12 && offset < 16) {
            field = QUEUE_SIZE - 2;             // seg_max: the chain also holds the header and the status
            start = 12;
        } else if (offset >= 20 && offset < 24) {
            field = SECTOR;                     // blk_size
            start = 20;
        } else if (offset >= 34 && offset < 36) {
            field = 1;                          // num_queues
            start = 34;
        } else if (offset >= 36 && offset < 56) {
            start = offset & ~3;
            field = switch (start) {
                case 36, 48 -> MAX_RANGE_SECTORS;   // max_discard_sectors, max_write_zeroes_sectors
                case 40, 52 -> MAX_RANGE_SEGMENTS;  // max_discard_seg, max_write_zeroes_seg
                default -> 1;                       // discard_sector_alignment, in sectors
            };
        } else if (offset == 56) {
            field = 1;                          // write_zeroes_may_unmap
            start = 56;
        } else {
            return 0;
        }
        return (int) (field >>> (8 * (offset - start))) & 0xFF;
    }

    @Override
    public void writeConfig(int offset, int size, long value) {
        // Only writeback is writable, and only with VIRTIO_BLK_F_CONFIG_WCE, which is not offered:
        // the device always writes through to the image and flushes on request.
    }

    @Override
    public void serve(int index, SplitQueue queue, DescriptorChain chain) throws QueueFault {
        if (chain.readableBytes() < HEADER || chain.writableBytes() < 1) {
            throw new QueueFault("request %d has %d readable and %d writable bytes: no room for the header and status"
                    .formatted(chain.head(), chain.readableBytes(), chain.writableBytes()));
        }
        long statusOffset = chain.writableBytes() - 1;
        int type = (int) chain.readU32(0);
        long sector = chain.readU64(8);
        long written = 0;
        int status;
        try {
            status = switch (type) {
                case IN -> {
                    long length = statusOffset;
                    int result = read(chain, sector, length);
                    written = result == OK ? length : 0;
                    yield result;
                }
                case OUT -> write(chain, sector, chain.readableBytes() - HEADER);
                case FLUSH -> flush();
                case GET_ID -> {
                    written = chain.write(0, idMemory, 0, Math.min(ID_BYTES, statusOffset));
                    yield OK;
                }
                case DISCARD, WRITE_ZEROES -> ranges(chain, type);
                default -> UNSUPP;
            };
        } catch (IOException e) {
            statistics.failed();
            log.accept("%s: %s".formatted(name, e.getMessage()));
            status = IOERR;
        }
        chain.writeU8(statusOffset, status);
        queue.add(chain.head(), (int) (written + 1));
    }

    private int read(DescriptorChain chain, long sector, long length) throws IOException {
        if (!inRange(sector, length)) {
            return IOERR;
        }
        long done = 0;
        while (done < length) {
            int piece = (int) Math.min(BOUNCE_SIZE, length - done);
            bounce.clear().limit(piece);
            disk.read(sector * SECTOR + done, bounce);
            chain.write(done, bounceMemory, 0, piece);
            done += piece;
        }
        statistics.read(length);
        return OK;
    }

    private int write(DescriptorChain chain, long sector, long length) throws IOException {
        if (disk.readOnly()) {
            return IOERR;
        }
        if (!inRange(sector, length)) {
            return IOERR;
        }
        long done = 0;
        while (done < length) {
            int piece = (int) Math.min(BOUNCE_SIZE, length - done);
            chain.read(HEADER + done, bounceMemory, 0, piece);
            bounce.clear().limit(piece);
            disk.write(sector * SECTOR + done, bounce);
            done += piece;
        }
        statistics.written(length);
        return OK;
    }

    private int flush() throws IOException {
        disk.flush();
        statistics.flushed();
        return OK;
    }

    /** DISCARD and WRITE_ZEROES: segments of (sector, sectors, flags) after the header. */
    private int ranges(DescriptorChain chain, int type) throws QueueFault, IOException {
        if (disk.readOnly()) {
            return IOERR;
        }
        if (type == DISCARD && !disk.supportsDiscard()) {
            return UNSUPP;
        }
        long segments = (chain.readableBytes() - HEADER) / SEGMENT_ENTRY;
        if (segments < 1 || segments > MAX_RANGE_SEGMENTS) {
            return UNSUPP;
        }
        for (long i = 0; i < segments; i++) {
            long at = HEADER + i * SEGMENT_ENTRY;
            long sector = chain.readU64(at);
            long sectors = chain.readU32(at + 8);
            long flags = chain.readU32(at + 12);
            if ((flags & ~UNMAP) != 0 || (type == DISCARD && flags != 0)) {
                return UNSUPP;
            }
            if (!inRange(sector, sectors * SECTOR)) {
                return type == DISCARD ? UNSUPP : IOERR;
            }
            if (type == DISCARD) {
                disk.discard(sector * SECTOR, sectors * SECTOR);
            } else {
                disk.writeZeroes(sector * SECTOR, sectors * SECTOR, (flags & UNMAP) != 0);
            }
        }
        return OK;
    }

    /** Whether {@code length} bytes from {@code sector} are whole sectors within the disk. */
    private boolean inRange(long sector, long length) {
        return length % SECTOR == 0 && sector >= 0 && sector <= disk.size() / SECTOR
                && length <= disk.size() - sector * SECTOR;
    }
}
