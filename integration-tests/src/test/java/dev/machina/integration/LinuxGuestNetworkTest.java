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

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * linux_guest on the Java CPU with virtio-net on a TAP interface, in a network namespace the test
 * makes ({@link NetworkNamespace}): the guest pings the host's end, and a file of
 * {@value #TRANSFER_MIB} MiB of random bytes crosses TCP each way (socat on the host, busybox nc in
 * the guest) and arrives with the same MD5; the guest negotiates the checksum and segmentation
 * offloads, and the host's frames toward it are larger than the MTU. (The guest's own frames are
 * not checked so: how much its TCP stack puts into one segment follows its pacing rate, which on
 * the Java CPU is low enough that it often sends single MSS segments, offload or not.) The transfers print their throughput as the guest's
 * clock-free console timing measures it.
 *
 * <p>{@value #TRANSFER_MIB} MiB rather than the 100: on the Java CPU the guest moves a few
 * MiB per second (the figures this test prints), and the suite cannot afford minutes per direction.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LinuxGuestNetworkTest {
    static final int TRANSFER_MIB = 16;
    private static final Duration COMMAND = LinuxGuestTest.COMMAND;
    private static final Duration TRANSFER = Duration.ofMinutes(5);
    /** An MTU of 1500 and the Ethernet header. */
    private static final long MAX_ETHERNET_FRAME = 1514;

    @TempDir
    static Path directory;
    private NetworkNamespace namespace;
    private GuestConsole guest;
    private Path sent;
    private String sentMd5;

    @BeforeAll
    void bootOnATap() throws Exception {
        LinuxGuestTest.assumeDebianPackageLists();
        NetworkNamespace.assumeAvailable();
        namespace = NetworkNamespace.create();
        byte[] data = new byte[TRANSFER_MIB << 20];
        new Random(14).nextBytes(data);
        sent = Files.write(directory.resolve("sent"), data);
        sentMd5 = md5(data);
        guest = LaunchedGuest.launch(namespace.wrapper(), LinuxGuestTest.REPOSITORY, "linux_guest",
                List.of("--backend=java", "--cpus=1", "--memory=512M", "--net=tap:" + NetworkNamespace.TAP));
        guest.awaitOutput(LinuxGuestTest.READY, LinuxGuestTest.BOOT);
        LinuxGuestTest.quietConsole(guest);
    }

    @AfterAll
    void shutDown() throws Exception {
        if (guest != null) {
            guest.close();
        }
        if (namespace != null) {
            namespace.close();
        }
    }

    @Test
    @Order(1)
    void theGuestHasEth0WithItsMacAndMtuAndTheLaunchNamesTheTap() throws Exception {
        assertThat(guest.run("cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu", COMMAND).lines().toList())
                .containsExactly("52:54:00:12:34:56", "1500");
        assertThat(guest.transcript()).contains("device: virtio-net0 at PCI 00:01.0: TAP tap0, MAC 52:54:00:12:34:56, MTU 1500");
        // The driver's negotiated features, bit 0 first: CSUM, GUEST_CSUM, GUEST_TSO4 (7) and HOST_TSO4 (11), MAC (5), STATUS (16).
        String features = guest.run("cat /sys/class/net/eth0/device/features", COMMAND);
        assertThat(List.of(0, 1, 5, 7, 11, 16)).allSatisfy(bit -> assertThat(features.charAt(bit)).as("feature bit %d", bit).isEqualTo('1'));
    }

    @Test
    @Order(2)
    void theGuestPingsTheHostSideOfTheTap() throws Exception {
        guest.run("ip link set eth0 up && ip addr add %s/24 dev eth0".formatted(NetworkNamespace.GUEST_ADDRESS), COMMAND);
        assertThat(guest.run("cat /sys/class/net/eth0/carrier", COMMAND)).as("link up").isEqualTo("1");
        assertThat(guest.run("ping -c 3 -W 10 " + NetworkNamespace.HOST_ADDRESS, COMMAND)).contains("3 packets received");
    }

    @Test
    @Order(3)
    void aFileFromTheHostArrivesWhole() throws Exception {
        long packets = namespace.tapStatistic("tx_packets");
        long bytes = namespace.tapStatistic("tx_bytes");
        Process sender = namespace.listen("-u", "OPEN:" + sent, "TCP-LISTEN:5001,bind=" + NetworkNamespace.HOST_ADDRESS);
        GuestConsole.Reply reply = guest.timed("nc %s 5001 > /tmp/received && md5sum < /tmp/received"
                .formatted(NetworkNamespace.HOST_ADDRESS), TRANSFER);
        NetworkNamespace.awaitSuccess(sender, COMMAND);
        assertThat(reply.output()).isEqualTo(sentMd5 + "  -");
        assertThat((namespace.tapStatistic("tx_bytes") - bytes) / (namespace.tapStatistic("tx_packets") - packets))
                .as("the average frame toward the guest is larger than the MTU: the host segments nothing (GUEST_TSO4)")
                .isGreaterThan(MAX_ETHERNET_FRAME);
        System.out.printf("virtio-net on a TAP: %d MiB host to guest (and its MD5) in %.1f s%n", TRANSFER_MIB, reply.time().toMillis() / 1e3);
    }

    @Test
    @Order(4)
    void theGuestSendsItBackWhole() throws Exception {
        Path received = directory.resolve("received");
        Process receiver = namespace.listen("-u", "TCP-LISTEN:5002,bind=" + NetworkNamespace.HOST_ADDRESS, "CREATE:" + received);
        GuestConsole.Reply reply = guest.timed("nc %s 5002 < /tmp/received".formatted(NetworkNamespace.HOST_ADDRESS), TRANSFER);
        NetworkNamespace.awaitSuccess(receiver, COMMAND);
        assertThat(md5(Files.readAllBytes(received))).isEqualTo(sentMd5);
        System.out.printf("virtio-net on a TAP: %d MiB guest to host in %.1f s%n", TRANSFER_MIB, reply.time().toMillis() / 1e3);
    }

    static String md5(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }
}
