package dev.machina.vmm.devices.virtio;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.vmm.config.BlockSpec;
import dev.machina.vmm.devices.virtio.block.BlockDevice;
import dev.machina.vmm.devices.virtio.console.ConsoleDevice;
import dev.machina.vmm.devices.virtio.net.HostTap;
import dev.machina.vmm.devices.virtio.net.NetDevice;
import dev.machina.vmm.devices.virtio.net.NetStatistics;
import dev.machina.vmm.devices.virtio.queue.QueueFuzzer;
import dev.machina.vmm.devices.virtio.rng.EntropyDevice;
import dev.machina.vmm.devices.virtio.vsock.VsockDevice;
import dev.machina.vmm.devices.virtio.vsock.VsockStatistics;
import dev.machina.vmm.disk.DiskImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Each device serves the random descriptor tables of {@link QueueFuzzer}: well-formed chains of any
 * shape, with corrupt ones among them. Nothing but queue faults may come out (any other exception
 * fails the run), and the guest's mistakes about a request (a short buffer, an unknown type, a
 * sector past the end) are answered with a status, not a fault or a VMM error.
 */
class DeviceFuzzTest {
    private static final long CHAINS = 100_000;
    private static final long SEED = 0xB10C;
    private static final int DISK_BYTES = 1 << 20;

    @TempDir
    Path directory;

    @Test
    void theBlockDeviceSurvivesRandomChains() throws IOException {
        List<String> log = new ArrayList<>();
        try (DiskImage disk = disk()) {
            BlockDevice device = new BlockDevice("virtio-blk0", disk, log::add);
            QueueFuzzer.Result result = QueueFuzzer.run(SEED, CHAINS, memory -> blockServer(device, memory, SEED));
            System.out.println("virtio-blk: " + result + "; " + device.statistics().reads() + " reads, "
                    + device.statistics().writes() + " writes, " + device.statistics().flushes() + " flushes served");
            assertThat(result.chains()).isGreaterThanOrEqualTo(CHAINS);
            assertThat(log).as("host I/O errors").isEmpty();
            assertThat(device.statistics().reads()).as("reads that reached the disk").isPositive();
            assertThat(device.statistics().writes()).as("writes that reached the disk").isPositive();
        }
    }

    @Test
    void theEntropyDeviceSurvivesRandomChains() {
        EntropyDevice device = new EntropyDevice(new SecureRandom());
        QueueFuzzer.Result result = QueueFuzzer.run(SEED, CHAINS, memory -> (queue, chain) -> device.serve(0, queue, chain));
        System.out.println("virtio-rng: " + result);
        assertThat(device.bytesGiven()).isPositive();
    }

    @Test
    void theConsoleSurvivesRandomChains() {
        long[] transmitted = new long[1];
        ConsoleDevice device = new ConsoleDevice(value -> transmitted[0]++);
        QueueFuzzer.Result result = QueueFuzzer.run(SEED, CHAINS, memory -> (queue, chain) -> device.serve(1, queue, chain));
        System.out.println("virtio-console: " + result);
        assertThat(transmitted[0]).isPositive();
    }

    /**
     * virtio-net on a real TAP interface ({@link HostTap}; needs root): chains alternate between the
     * transmit queue, whose random headers and frames the host kernel takes or refuses (each
     * counted), and the receive queue, served whenever a frame the host sent (a datagram per
     * chain) is waiting, whatever the shape of the guest's buffer.
     */
    @Test
    void theNetworkDeviceSurvivesRandomChains() throws Exception {
        HostTap.assumeAvailable();
        List<String> log = new ArrayList<>();
        try (HostTap tap = HostTap.open(log::add); DatagramSocket socket = new DatagramSocket(new InetSocketAddress(tap.host, 0))) {
            NetDevice device = tap.device;
            device.activate(new Activation(0, List.of(), index -> { }));
            DatagramPacket datagram = new DatagramPacket(new byte[600], 600, new InetSocketAddress(tap.guest, 9));
            QueueFuzzer.Result result = QueueFuzzer.run(SEED, CHAINS, memory -> (queue, chain) -> {
                try {
                    socket.send(datagram);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                device.serve(device.canServe(0) && chain.head() % 2 == 0 ? 0 : 1, queue, chain);
            });
            NetStatistics statistics = device.statistics();
            System.out.println("virtio-net: " + result + "; " + statistics);
            assertThat(statistics.received()).as("frames delivered").isPositive();
            assertThat(statistics.transmitted() + statistics.dropped(NetStatistics.Drop.REFUSED_BY_HOST)
                    + statistics.dropped(NetStatistics.Drop.MALFORMED_TRANSMIT)).as("transmits accounted for").isPositive();
        }
        assertThat(log).isEmpty();
    }

    /**
     * virtio-vsock with a host listener on port 5000 ({@code <socket>_5000}): random chains on the
     * transmit queue, most with a header from the guest's port 5 to that port of a random
     * operation (so that streams are opened, carry bytes, are shut down and reset), and on the
     * receive queue, where the device's replies go.
     */
    @Test
    void theVsockDeviceSurvivesRandomChains() throws Exception {
        List<String> log = new ArrayList<>();
        Path socket = directory.resolve("v.sock");
        try (VsockDevice device = new VsockDevice(3, socket, log::add);
             ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket + "_5000"));
            device.activate(new Activation(0, List.of(), index -> { }));
            SplittableRandom random = new SplittableRandom(SEED);
            QueueFuzzer.Result result = QueueFuzzer.run(SEED, CHAINS, memory -> (queue, chain) -> {
                if (chain.segments() > 0 && !chain.writable(0) && chain.length(0) >= 44) {
                    long header = chain.address(0);
                    memory.writeLong(header, 3);
                    memory.writeLong(header + 8, 2);
                    memory.writeInt(header + 16, random.nextInt(4) == 0 ? random.nextInt() : 5);
                    memory.writeInt(header + 20, random.nextInt(4) == 0 ? random.nextInt() : 5000);
                    memory.writeInt(header + 24, (int) Math.min(random.nextInt(600), chain.readableBytes() - 44));
                    memory.writeShort(header + 28, (short) 1);
                    memory.writeShort(header + 30, (short) (1 + random.nextInt(7)));
                }
                device.serve(device.canServe(0) && chain.head() % 2 == 0 ? 0 : 1, queue, chain);
            });
            VsockStatistics statistics = device.statistics();
            System.out.println("virtio-vsock: " + result + "; " + statistics.connections() + " streams, " + statistics.bytesFromGuest()
                    + " bytes from the guest, " + statistics.malformedPackets() + " malformed packets");
            assertThat(statistics.connections()).as("streams opened").isPositive();
            assertThat(statistics.bytesFromGuest()).as("bytes the streams carried").isPositive();
            assertThat(statistics.malformedPackets()).isPositive();
        }
        assertThat(log).isEmpty();
    }

    /** {@code -Dmachina.fuzz.chains=N} runs N chains through each device and prints the figures. */
    @Test
    void onDemand() throws IOException {
        String chains = System.getProperty("machina.fuzz.chains");
        assumeTrue(chains != null, "set -Dmachina.fuzz.chains=N to fuzz each device with N chains");
        long count = Long.parseLong(chains);
        long seed = Long.getLong("machina.fuzz.seed", System.nanoTime());
        System.out.println("DeviceFuzzTest: seed " + seed + " (-Dmachina.fuzz.seed to run it again)");
        try (DiskImage disk = disk()) {
            System.out.println("virtio-blk: " + QueueFuzzer.run(seed, count,
                    memory -> blockServer(new BlockDevice("virtio-blk0", disk, line -> { }), memory, seed)));
        }
        EntropyDevice rng = new EntropyDevice(new SecureRandom());
        System.out.println("virtio-rng: " + QueueFuzzer.run(seed, count, memory -> (queue, chain) -> rng.serve(0, queue, chain)));
        ConsoleDevice console = new ConsoleDevice(value -> { });
        System.out.println("virtio-console: " + QueueFuzzer.run(seed, count, memory -> (queue, chain) -> console.serve(1, queue, chain)));
    }

    /**
     * Serves each chain as a block request. Where the chain's first buffer can hold a request
     * header, one is written there first, of a random type (the known ones mostly) for a random
     * sector up to twice the disk's end, so that most chains reach the device's reads, writes,
     * flushes and ranges rather than stopping at a header that is not one.
     */
    private static QueueFuzzer.Device blockServer(BlockDevice device, GuestMemory memory, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] types = {0, 1, 4, 8, 11, 13};
        return (queue, chain) -> {
            if (chain.segments() > 0 && !chain.writable(0) && chain.length(0) >= 16) {
                int type = random.nextInt(8) == 0 ? random.nextInt() : types[random.nextInt(types.length)];
                memory.writeInt(chain.address(0), type);
                memory.writeLong(chain.address(0) + 8, random.nextLong(2L * DISK_BYTES / BlockDevice.SECTOR));
            }
            device.serve(0, queue, chain);
        };
    }

    /** A small raw disk, so that the fuzzer's sectors land both inside and past its end. */
    private DiskImage disk() throws IOException {
        Path file = directory.resolve("fuzz.img");
        Files.write(file, new byte[DISK_BYTES]);
        return DiskImage.open(new BlockSpec(file, BlockSpec.Mode.READ_WRITE, BlockSpec.Format.RAW));
    }
}
