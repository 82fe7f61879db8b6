package dev.machina.vmm.devices.virtio.block;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.vmm.config.BlockSpec;
import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.DriverRing;
import dev.machina.vmm.devices.virtio.queue.QueueFault;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;
import dev.machina.vmm.disk.DiskImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * virtio-blk's requests as Linux's driver lays them out (a header, data buffers, a status byte),
 * each served over a real raw or volatile image, with the status and the bytes checked.
 */
class BlockDeviceTest {
    private static final int DISK_BYTES = 1 << 20;
    private static final int SIZE = 16;
    private static final long HEADER = 0x20000;
    private static final long DATA = 0x30000;
    private static final long STATUS = 0x40000;

    @TempDir
    Path directory;

    private final GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(4 << 20));
    private final DriverRing ring = new DriverRing(memory, SIZE, 0x1000, 0x2000, 0x3000);
    private final SplitQueue queue = new SplitQueue(memory, SIZE);
    private final DescriptorChain chain = new DescriptorChain(SIZE);
    private final List<String> log = new ArrayList<>();
    private DiskImage disk;

    @AfterEach
    void close() throws Exception {
        if (disk != null) {
            disk.close();
        }
        memory.close();
    }

    @Test
    void aWriteReachesTheFileAndAReadBringsItBack() throws Exception {
        Path file = image();
        BlockDevice device = device(file, BlockSpec.Mode.READ_WRITE);
        byte[] data = "sector three, written by the guest".getBytes(StandardCharsets.US_ASCII);
        memory.write(DATA, Arrays.copyOf(data, 512), 0, 512);
        assertThat(request(device, BlockDevice.OUT, 3, 512, false)).isEqualTo(BlockDevice.OK);
        assertThat(request(device, BlockDevice.FLUSH, 0, 0, false)).isEqualTo(BlockDevice.OK);
        assertThat(Arrays.copyOfRange(Files.readAllBytes(file), 3 * 512, 3 * 512 + data.length)).isEqualTo(data);

        memory.fill(DATA, 512, (byte) 0);
        assertThat(request(device, BlockDevice.IN, 3, 512, true)).isEqualTo(BlockDevice.OK);
        byte[] read = new byte[data.length];
        memory.read(DATA, read, 0, read.length);
        assertThat(read).isEqualTo(data);
        assertThat(ring.usedLength(ring.usedIdx() - 1)).as("data and status written").isEqualTo(513);
        assertThat(device.statistics().writes()).isEqualTo(1);
        assertThat(device.statistics().flushes()).isEqualTo(1);
    }

    @Test
    void requestsPastTheEndOrOfPartSectorsFailWithAnIoError() throws Exception {
        BlockDevice device = device(image(), BlockSpec.Mode.READ_WRITE);
        assertThat(request(device, BlockDevice.IN, DISK_BYTES / 512, 512, true)).isEqualTo(BlockDevice.IOERR);
        assertThat(request(device, BlockDevice.IN, DISK_BYTES / 512 - 1, 1024, true)).isEqualTo(BlockDevice.IOERR);
        assertThat(request(device, BlockDevice.OUT, 0, 100, false)).isEqualTo(BlockDevice.IOERR);
        assertThat(request(device, 77, 0, 0, false)).as("an unknown type").isEqualTo(BlockDevice.UNSUPP);
    }

    @Test
    void aReadOnlyDiskRefusesWritesAndOffersTheRoFeature() throws Exception {
        Path file = image();
        byte[] before = Files.readAllBytes(file);
        BlockDevice device = device(file, BlockSpec.Mode.READ_ONLY);
        assertThat(device.features() & (1L << BlockDevice.F_RO)).isNotZero();
        assertThat(request(device, BlockDevice.OUT, 0, 512, false)).isEqualTo(BlockDevice.IOERR);
        assertThat(range(device, BlockDevice.WRITE_ZEROES, 0, 8, 0)).isEqualTo(BlockDevice.IOERR);
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
    }

    @Test
    void getIdAnswersTheDisksSerial() throws Exception {
        BlockDevice device = device(image(), BlockSpec.Mode.READ_WRITE);
        assertThat(request(device, BlockDevice.GET_ID, 0, BlockDevice.ID_BYTES, true)).isEqualTo(BlockDevice.OK);
        byte[] id = new byte[BlockDevice.ID_BYTES];
        memory.read(DATA, id, 0, id.length);
        assertThat(new String(id, StandardCharsets.US_ASCII).replace("\0", "")).isEqualTo(disk.serial()).isNotEmpty();
    }

    @Test
    void writeZeroesZeroesTheSectorsAndDiscardGoesWhereTheImageCan() throws Exception {
        Path file = image();
        BlockDevice raw = device(file, BlockSpec.Mode.READ_WRITE);
        assertThat(raw.features() & (1L << BlockDevice.F_DISCARD)).as("raw cannot free space").isZero();
        assertThat(range(raw, BlockDevice.WRITE_ZEROES, 2, 4, 0)).isEqualTo(BlockDevice.OK);
        byte[] bytes = Files.readAllBytes(file);
        assertThat(Arrays.copyOfRange(bytes, 2 * 512, 6 * 512)).containsOnly(0);
        assertThat(bytes[6 * 512]).as("the sector after the range").isEqualTo((byte) 0x5A);
        assertThat(range(raw, BlockDevice.DISCARD, 0, 8, 0)).isEqualTo(BlockDevice.UNSUPP);
        disk.close();

        BlockDevice overlay = device(file, BlockSpec.Mode.VOLATILE);
        assertThat(overlay.features() & (1L << BlockDevice.F_DISCARD)).isNotZero();
        assertThat(range(overlay, BlockDevice.DISCARD, 0, 128, 0)).isEqualTo(BlockDevice.OK);
    }

    @Test
    void aChainWithoutRoomForHeaderAndStatusIsAQueueFault() throws Exception {
        BlockDevice device = device(image(), BlockSpec.Mode.READ_WRITE);
        ring.descriptor(0, HEADER, 8, 0, 0);
        ring.offer(0);
        assertThat(queue.pop(chain)).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> device.serve(0, queue, chain))
                .isInstanceOf(QueueFault.class).hasMessageContaining("no room for the header and status");
    }

    /**
     * Random well-formed requests of every type, their data split over one to four buffers of any
     * length, for sectors in and past the disk, checked against a model of the disk: each request's
     * status is what the model says, what a write changes reaches the file, and what a read returns
     * is the model's bytes.
     */
    @Test
    void randomRequestsAgreeWithAModelOfTheDisk() throws Exception {
        Path file = image();
        byte[] model = Files.readAllBytes(file);
        BlockDevice device = device(file, BlockSpec.Mode.READ_WRITE);
        java.util.SplittableRandom random = new java.util.SplittableRandom(0xD15C);
        int[] types = {BlockDevice.IN, BlockDevice.OUT, BlockDevice.FLUSH, BlockDevice.GET_ID, 99};
        for (int round = 0; round < 20_000; round++) {
            int type = types[random.nextInt(types.length)];
            long sector = random.nextInt(DISK_BYTES / 512 + 8);
            int buffers = 1 + random.nextInt(4);
            int[] lengths = new int[buffers];
            int total = 0;
            for (int i = 0; i < buffers; i++) {
                lengths[i] = random.nextInt(4) == 0 ? random.nextInt(2048) : 512 * random.nextInt(1, 5);
                total += lengths[i];
            }
            byte[] data = new byte[total];
            random.nextBytes(data);
            memory.write(DATA, data, 0, total);
            memory.writeInt(HEADER, type);
            memory.writeInt(HEADER + 4, 0);
            memory.writeLong(HEADER + 8, sector);
            boolean intoGuest = type != BlockDevice.OUT;
            ring.descriptor(0, HEADER, 16, DriverRing.NEXT, 1);
            long at = DATA;
            for (int i = 0; i < buffers; i++) {
                ring.descriptor(i + 1, at, lengths[i], DriverRing.NEXT | (intoGuest ? DriverRing.WRITE : 0), i + 2);
                at += lengths[i];
            }
            ring.descriptor(buffers + 1, STATUS, 1, DriverRing.WRITE, 0);
            int status = serve(device);

            boolean fits = total % 512 == 0 && sector * 512 + total <= DISK_BYTES;
            int expected = switch (type) {
                case BlockDevice.IN, BlockDevice.OUT -> fits ? BlockDevice.OK : BlockDevice.IOERR;
                case BlockDevice.FLUSH, BlockDevice.GET_ID -> BlockDevice.OK;
                default -> BlockDevice.UNSUPP;
            };
            assertThat(status).as("round %d: type %d, sector %d, %d bytes", round, type, sector, total).isEqualTo(expected);
            if (type == BlockDevice.OUT && status == BlockDevice.OK) {
                System.arraycopy(data, 0, model, (int) sector * 512, total);
            } else if (type == BlockDevice.IN && status == BlockDevice.OK) {
                byte[] read = new byte[total];
                memory.read(DATA, read, 0, total);
                assertThat(Arrays.equals(read, 0, total, model, (int) sector * 512, (int) sector * 512 + total))
                        .as("round %d: the bytes read", round).isTrue();
                assertThat(ring.usedLength(ring.usedIdx() - 1)).isEqualTo(total + 1);
            }
        }
        assertThat(log).isEmpty();
        disk.flush();
        assertThat(Arrays.equals(Files.readAllBytes(file), model)).as("the file is the model").isTrue();
    }

    /** A header, {@code length} bytes of data at {@link #DATA} (written by the device if {@code intoGuest}) and the status; returns the status. */
    private int request(BlockDevice device, int type, long sector, int length, boolean intoGuest) throws QueueFault {
        memory.writeInt(HEADER, type);
        memory.writeInt(HEADER + 4, 0);
        memory.writeLong(HEADER + 8, sector);
        int next = 1;
        ring.descriptor(0, HEADER, 16, DriverRing.NEXT, next);
        if (length > 0) {
            ring.descriptor(next, DATA, length, DriverRing.NEXT | (intoGuest ? DriverRing.WRITE : 0), next + 1);
            next++;
        }
        ring.descriptor(next, STATUS, 1, DriverRing.WRITE, 0);
        return serve(device);
    }

    /** A DISCARD or WRITE_ZEROES request for one range; returns the status. */
    private int range(BlockDevice device, int type, long sector, int sectors, int flags) throws QueueFault {
        memory.writeInt(HEADER, type);
        memory.writeLong(HEADER + 8, 0);
        memory.writeLong(DATA, sector);
        memory.writeInt(DATA + 8, sectors);
        memory.writeInt(DATA + 12, flags);
        ring.descriptor(0, HEADER, 16, DriverRing.NEXT, 1);
        ring.descriptor(1, DATA, 16, DriverRing.NEXT, 2);
        ring.descriptor(2, STATUS, 1, DriverRing.WRITE, 0);
        return serve(device);
    }

    private int serve(BlockDevice device) throws QueueFault {
        memory.writeByte(STATUS, (byte) 0xEE);
        ring.offer(0);
        assertThat(queue.pop(chain)).isTrue();
        device.serve(0, queue, chain);
        return memory.readByte(STATUS);
    }

    private Path image() throws Exception {
        byte[] bytes = new byte[DISK_BYTES];
        Arrays.fill(bytes, (byte) 0x5A);
        return Files.write(directory.resolve("disk.img"), bytes);
    }

    private BlockDevice device(Path file, BlockSpec.Mode mode) throws Exception {
        disk = DiskImage.open(new BlockSpec(file, mode, BlockSpec.Format.RAW));
        ring.zero();
        queue.reset();
        ring.configure(queue, false);
        return new BlockDevice("virtio-blk0", disk, log::add);
    }
}
