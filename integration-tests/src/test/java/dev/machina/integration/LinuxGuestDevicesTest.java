package dev.machina.integration;

import dev.machina.console.GuestConsole;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * linux_guest on the Java CPU with the devices of the PCI bus: four disks at once (an ext4 file
 * system read-write, a read-only one, a volatile one and a qcow2 image made by qemu-img), the
 * entropy device and the virtio console (both ways: its output, and input typed after Ctrl-A c),
 * each checked from inside the guest and then from the host.
 * A second boot, with MSI turned off so that the disks interrupt through INTx and the {@code _PRT},
 * finds what the first one wrote.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LinuxGuestDevicesTest {
    private static final Duration COMMAND = LinuxGuestTest.COMMAND;
    private static final String GREETING = "written on the host";
    private static final int QCOW_MIB = 8;
    /** Where in the qcow2 disk the guest writes, and what: 64 KiB of a pattern the host knows. */
    private static final int QCOW_SEEK_KIB = 1000;
    private static final int QCOW_WRITE_KIB = 64;
    /** 64 bytes of /dev/hwrng in hex, on a line of their own. */
    private static final String RANDOM_HEX = "head -c 64 /dev/hwrng | od -An -v -tx1 | tr -d ' \\n'; echo";

    @TempDir
    static Path directory;
    private Path readWrite;
    private Path readOnly;
    private Path volatileDisk;
    private Path qcow;
    private String readOnlyDigest;
    private String volatileDigest;
    private GuestConsole guest;

    @BeforeAll
    void bootWithEveryDevice() throws Exception {
        LinuxGuestTest.assumeDebianPackageLists();
        Path content = Files.createDirectories(directory.resolve("content"));
        Files.writeString(content.resolve("greeting"), GREETING + "\n");
        readWrite = ext4(content, "rw.img");
        readOnly = ext4(content, "ro.img");
        volatileDisk = ext4(content, "volatile.img");
        qcow = directory.resolve("disk.qcow2");
        host("qemu-img", "create", "-q", "-f", "qcow2", qcow.toString(), QCOW_MIB + "M");
        readOnlyDigest = digest(readOnly);
        volatileDigest = digest(volatileDisk);
        guest = boot(List.of("--block=" + readWrite, "--block=" + readOnly + ",ro", "--block=" + volatileDisk + ",volatile",
                "--block=" + qcow + ",rw,qcow", "--virtio-rng", "--virtio-console"));
    }

    private GuestConsole boot(List<String> flags) throws Exception {
        List<String> all = new java.util.ArrayList<>(List.of("--backend=java", "--cpus=1", "--memory=512M"));
        all.addAll(flags);
        GuestConsole launched = LaunchedGuest.launch(LinuxGuestTest.REPOSITORY, "linux_guest", all);
        launched.awaitOutput(LinuxGuestTest.READY, LinuxGuestTest.BOOT);
        LinuxGuestTest.quietConsole(launched);
        return launched;
    }

    @AfterAll
    void shutDown() throws InterruptedException {
        if (guest != null) {
            guest.close();
        }
    }

    @Test
    @Order(1)
    void theGuestFindsEachDeviceOnThePciBusWithItsIds() throws Exception {
        String devices = guest.run("for d in /sys/bus/pci/devices/*; do echo $(basename $d) $(cat $d/vendor $d/device $d/class); done", COMMAND);
        assertThat(devices.lines().toList()).containsExactly(
                "0000:00:00.0 0x1b36 0x0008 0x060000",
                "0000:00:01.0 0x1af4 0x1042 0x018000",
                "0000:00:02.0 0x1af4 0x1042 0x018000",
                "0000:00:03.0 0x1af4 0x1042 0x018000",
                "0000:00:04.0 0x1af4 0x1042 0x018000",
                "0000:00:05.0 0x1af4 0x1044 0xff0000",
                "0000:00:06.0 0x1af4 0x1043 0x078000");
        assertThat(guest.run("grep -c 'PCI-MSI.*virtio' /proc/interrupts", COMMAND)).as("MSI-X vectors in use")
                .isNotEqualTo("0");
        assertThat(guest.transcript()).as("the launch names each device where the guest finds it")
                .contains("device: virtio-blk0 at PCI 00:01.0: " + readWrite + ",rw,raw (16,777,216 bytes)",
                        "device: virtio-rng at PCI 00:05.0", "device: virtio-console at PCI 00:06.0");
    }

    @Test
    @Order(2)
    void fourDisksAppearWithTheirSizesAndTheReadOnlyOneIsMarkedSo() throws Exception {
        assertThat(guest.run("cat /sys/block/vda/size /sys/block/vdd/size", COMMAND).lines().toList())
                .containsExactly(Long.toString(Files.size(readWrite) / 512), Long.toString((long) QCOW_MIB << 11));
        assertThat(guest.run("cat /sys/block/vda/ro /sys/block/vdb/ro /sys/block/vdc/ro", COMMAND).lines().toList())
                .containsExactly("0", "1", "0");
        // GET_ID: the serial is the host file's device and inode numbers, as Firecracker's is.
        String serial = Long.toHexString((Long) Files.getAttribute(readWrite, "unix:dev")) + "-"
                + Long.toHexString((Long) Files.getAttribute(readWrite, "unix:ino"));
        assertThat(guest.run("cat /sys/block/vda/serial; echo", COMMAND)).as("no line break of its own").isEqualTo(serial);
    }

    @Test
    @Order(3)
    void aFileWrittenAndSyncedReachesTheHostFile() throws Exception {
        guest.run("mkdir -p /mnt/a && mount /dev/vda /mnt/a && cat /mnt/a/greeting", COMMAND);
        assertThat(guest.run("cat /mnt/a/greeting", COMMAND)).isEqualTo(GREETING);
        guest.run("echo written in the guest > /mnt/a/from-guest && sync", COMMAND);
        assertThat(host("debugfs", "-R", "cat /from-guest", readWrite.toString())).contains("written in the guest");
    }

    @Test
    @Order(4)
    void theReadOnlyDiskRefusesWritesAndTheFileIsUntouched() throws Exception {
        String reply = guest.run("dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>&1; echo status=$?", COMMAND);
        assertThat(reply).contains("status=1");
        assertThat(guest.run("mkdir -p /mnt/b && mount -o ro /dev/vdb /mnt/b && cat /mnt/b/greeting", COMMAND)).isEqualTo(GREETING);
        assertThat(digest(readOnly)).isEqualTo(readOnlyDigest);
    }

    @Test
    @Order(5)
    void theVolatileDiskTakesWritesThatNeverReachTheFile() throws Exception {
        guest.run("mkdir -p /mnt/c && mount /dev/vdc /mnt/c && seq 100000 > /mnt/c/numbers && sync", COMMAND);
        guest.run("umount /mnt/c && mount /dev/vdc /mnt/c", COMMAND);
        assertThat(guest.run("tail -1 /mnt/c/numbers", COMMAND)).isEqualTo("100000");
        assertThat(guest.run("rm /mnt/c/numbers && fstrim /mnt/c && echo trimmed", COMMAND))
                .as("discard, which a volatile disk offers").isEqualTo("trimmed");
        assertThat(digest(volatileDisk)).isEqualTo(volatileDigest);
    }

    @Test
    @Order(6)
    void theEntropyDeviceGivesRandomBytes() throws Exception {
        assertThat(guest.run("cat /sys/class/misc/hw_random/rng_current", COMMAND)).startsWith("virtio_rng");
        String hex = guest.run(RANDOM_HEX, COMMAND);
        assertThat(hex).hasSize(128).isNotEqualTo("0".repeat(128));
        assertThat(guest.run(RANDOM_HEX, COMMAND)).isNotEqualTo(hex);
    }

    @Test
    @Order(7)
    void hvc0CarriesACommandsOutput() throws Exception {
        assertThat(guest.run("echo through the virtio console $((6 * 7)) > /dev/hvc0", COMMAND))
                .isEqualTo("through the virtio console 42");
    }

    @Test
    @Order(8)
    void whatIsTypedIntoHvc0AfterCtrlACReachesTheGuest() throws Exception {
        guest.run("exec 3</dev/hvc0", COMMAND); // hvc0 is open, so what arrives is kept for a reader
        guest.send("\u0001c" + "typed into hvc0\n" + "\u0001c");
        assertThat(guest.run("head -n 1 <&3; exec 3<&-", COMMAND)).isEqualTo("typed into hvc0");
    }

    @Test
    @Order(9)
    void theGuestWritesTheQcowImage() throws Exception {
        guest.run("seq 1 100000 | head -c %d | dd of=/dev/vdd bs=1024 seek=%d conv=fsync 2>/dev/null"
                .formatted(QCOW_WRITE_KIB * 1024, QCOW_SEEK_KIB), COMMAND);
        assertThat(guest.run("dd if=/dev/vdd bs=1024 skip=%d count=%d 2>/dev/null | md5sum"
                .formatted(QCOW_SEEK_KIB, QCOW_WRITE_KIB), COMMAND)).isEqualTo(md5(expectedQcowWrite()) + "  -");
    }

    @Test
    @Order(10)
    void afterPowerOffTheQcowImagePassesQemuImgCheckAndHoldsWhatTheGuestWrote() throws Exception {
        guest.run("umount /mnt/a /mnt/b /mnt/c", COMMAND);
        guest.send("poweroff -f\n");
        assertThat(guest.awaitExit(COMMAND)).as("exit status; transcript:\n%s", guest.transcript()).isZero();
        guest = null;

        assertThat(host("qemu-img", "check", qcow.toString())).contains("No errors were found");
        Path raw = directory.resolve("qcow.raw");
        host("qemu-img", "convert", "-O", "raw", qcow.toString(), raw.toString());
        byte[] image = Files.readAllBytes(raw);
        byte[] expected = new byte[QCOW_MIB << 20];
        byte[] written = expectedQcowWrite();
        System.arraycopy(written, 0, expected, QCOW_SEEK_KIB * 1024, written.length);
        assertThat(Arrays.equals(image, expected)).as("the image's contents, converted to raw").isTrue();
        assertThat(digest(readOnly)).isEqualTo(readOnlyDigest);
        assertThat(digest(volatileDisk)).isEqualTo(volatileDigest);
    }

    @Test
    @Order(11)
    void aSecondBootWithInterruptsThroughIntxFindsTheFileTheFirstWrote() throws Exception {
        guest = boot(List.of("--block=" + readWrite, "--cmdline-add=pci=nomsi"));
        assertThat(guest.run("grep -c 'PCI-MSI' /proc/interrupts", COMMAND)).as("no MSI").isEqualTo("0");
        assertThat(guest.run("grep virtio /proc/interrupts | grep -c IO-APIC", COMMAND)).as("INTx through the IOAPIC").isEqualTo("1");
        assertThat(guest.run("mkdir -p /mnt/a && mount /dev/vda /mnt/a && cat /mnt/a/from-guest", COMMAND))
                .isEqualTo("written in the guest");
        guest.send("poweroff -f\n");
        assertThat(guest.awaitExit(COMMAND)).as("exit status; transcript:\n%s", guest.transcript()).isZero();
        guest = null;
    }

    /** What {@code seq 1 100000 | head -c} gives, computed here. */
    private static byte[] expectedQcowWrite() {
        StringBuilder numbers = new StringBuilder();
        for (int i = 1; numbers.length() < QCOW_WRITE_KIB * 1024; i++) {
            numbers.append(i).append('\n');
        }
        return Arrays.copyOf(numbers.toString().getBytes(StandardCharsets.US_ASCII), QCOW_WRITE_KIB * 1024);
    }

    private static Path ext4(Path content, String name) throws Exception {
        Path image = directory.resolve(name);
        host("mke2fs", "-q", "-t", "ext4", "-d", content.toString(), image.toString(), "16M");
        return image;
    }

    /** Runs a host tool, failing the test with its output if it fails; returns what it printed. */
    private static String host(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(process.exitValue()).as("%s: %s", String.join(" ", command), output).isZero();
        return output;
    }

    private static String digest(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static String md5(byte[] bytes) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }
}
