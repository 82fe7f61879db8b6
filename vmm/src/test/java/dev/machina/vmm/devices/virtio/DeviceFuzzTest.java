package dev.machina.vmm.devices.virtio;

import dev.machina.vmm.config.BlockSpec;
import dev.machina.vmm.devices.virtio.block.BlockDevice;
import dev.machina.vmm.devices.virtio.console.ConsoleDevice;
import dev.machina.vmm.devices.virtio.queue.QueueFuzzer;
import dev.machina.vmm.devices.virtio.rng.EntropyDevice;
import dev.machina.vmm.disk.DiskImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

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

    @TempDir
    Path directory;

    @Test
    void theBlockDeviceSurvivesRandomChains() throws IOException {
        List<String> log = new ArrayList<>();
        try (DiskImage disk = disk()) {
            QueueFuzzer.Result result = QueueFuzzer.run(SEED, CHAINS,
                    memory -> blockServer(new BlockDevice("virtio-blk0", disk, log::add)));
            System.out.println("virtio-blk: " + result);
            assertThat(result.chains()).isGreaterThanOrEqualTo(CHAINS);
            assertThat(log).as("host I/O errors").isEmpty();
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

    /** {@code -Dmachina.fuzz.chains=N} runs N chains through each device and prints the figures. */
    @Test
    void onDemand() throws IOException {
        String chains = System.getProperty("machina.fuzz.chains");
        assumeTrue(chains != null, "set -Dmachina.fuzz.chains=N to fuzz each device with N chains");
        long count = Long.parseLong(chains);
        long seed = Long.getLong("machina.fuzz.seed", System.nanoTime());
        System.out.println("DeviceFuzzTest: seed " + seed + " (-Dmachina.fuzz.seed to run it again)");
        try (DiskImage disk = disk()) {
            System.out.println("virtio-blk: " + QueueFuzzer.run(seed, count, memory -> blockServer(new BlockDevice("virtio-blk0", disk, line -> { }))));
        }
        EntropyDevice rng = new EntropyDevice(new SecureRandom());
        System.out.println("virtio-rng: " + QueueFuzzer.run(seed, count, memory -> (queue, chain) -> rng.serve(0, queue, chain)));
        ConsoleDevice console = new ConsoleDevice(value -> { });
        System.out.println("virtio-console: " + QueueFuzzer.run(seed, count, memory -> (queue, chain) -> console.serve(1, queue, chain)));
    }

    private static QueueFuzzer.Device blockServer(BlockDevice device) {
        return (queue, chain) -> device.serve(0, queue, chain);
    }

    /** A 1 MiB raw disk, so that the fuzzer's sectors land both inside and past its end. */
    private DiskImage disk() throws IOException {
        Path file = directory.resolve("fuzz.img");
        Files.write(file, new byte[1 << 20]);
        return DiskImage.open(new BlockSpec(file, BlockSpec.Mode.READ_WRITE, BlockSpec.Format.RAW));
    }
}
