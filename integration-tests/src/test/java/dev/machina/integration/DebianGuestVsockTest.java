package dev.machina.integration;

import dev.machina.console.GuestConsole;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * debian_guest on the Java CPU with virtio-vsock, socat on the guest's side and this test as the
 * host programs, through Firecracker's hybrid protocol: {@value #MIB} MiB of random bytes from a
 * host program to a guest listener and back from the guest to a host listener on
 * {@code <socket>_<port>}, each with matching MD5; and {@value #STREAMS} streams at once to a
 * guest echo server, each getting its own bytes back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Disabled("not yet seen passing: in three tries on the shared 2-core machine debian_guest with virtio-vsock did not reach "
        + "its ready line within 8 to 15 minutes, the vCPU mostly idle from before the vsock driver loaded; open. "
        + "VsockDeviceTest covers the protocol against real Unix sockets, and linux_guest loads the driver (/dev/vsock)")
class DebianGuestVsockTest {
    private static final int MIB = 10;
    private static final int STREAMS = 16;
    private static final int STREAM_BYTES = 32 * 1024;
    /** DebianGuestTest's 8 minutes were not enough for a boot on a 2-core machine that other test runs shared. */
    private static final Duration BOOT = Duration.ofMinutes(15);
    private static final Duration COMMAND = Duration.ofMinutes(2);
    private static final Duration TRANSFER = Duration.ofMinutes(5);

    @TempDir
    static Path directory;
    private Path socket;
    private byte[] data;
    private GuestConsole guest;

    @BeforeAll
    void boot() throws Exception {
        socket = directory.resolve("v.sock");
        data = new byte[MIB << 20];
        new Random(19).nextBytes(data);
        guest = DebianGuestTest.boot(List.of("--virtio-vsock", "--vsock-cid=5", "--vsock-socket=" + socket), BOOT);
    }

    @AfterAll
    void shutDown() throws InterruptedException {
        if (guest != null) {
            guest.close();
        }
    }

    @Test
    @Order(1)
    void theGuestHasItsContextId() throws Exception {
        guest.run("modprobe vmw_vsock_virtio_transport", COMMAND);
        assertThat(guest.run("ls /dev/vsock && cat /sys/module/vmw_vsock_virtio_transport/refcnt >/dev/null && echo loaded", COMMAND))
                .isEqualTo("/dev/vsock\nloaded");
        assertThat(guest.transcript()).contains("device: virtio-vsock at PCI 00:02.0: context id 5; host programs connect to " + socket);
    }

    @Test
    @Order(2)
    void aHostProgramSendsTenMibToAGuestListener() throws Exception {
        listenInGuest("socat -d -d -u VSOCK-LISTEN:5000 CREATE:/tmp/from-host");
        try (SocketChannel host = connect(5000)) {
            host.write(ByteBuffer.wrap(data));
            host.shutdownOutput();
            assertThat(host.read(ByteBuffer.allocate(1))).as("the guest closes when it has all").isEqualTo(-1);
        }
        GuestConsole.Reply reply = guest.timed("wait; md5sum < /tmp/from-host", TRANSFER);
        assertThat(reply.output()).isEqualTo(LinuxGuestNetworkTest.md5(data) + "  -");
    }

    @Test
    @Order(3)
    void theGuestSendsThemBackToAHostListener() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket + "_6000"));
            try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
                Future<byte[]> received = executor.submit(() -> {
                    try (SocketChannel accepted = listener.accept()) {
                        return Channels.newInputStream(accepted).readAllBytes();
                    }
                });
                GuestConsole.Reply reply = guest.timed("socat -u OPEN:/tmp/from-host VSOCK-CONNECT:2:6000; echo status=$?", TRANSFER);
                assertThat(reply.output()).isEqualTo("status=0");
                assertThat(LinuxGuestNetworkTest.md5(received.get(1, TimeUnit.MINUTES))).isEqualTo(LinuxGuestNetworkTest.md5(data));
            }
        }
    }

    @Test
    @Order(4)
    void manyStreamsAtOnceEachGetTheirOwnBytesBack() throws Exception {
        listenInGuest("socat -d -d VSOCK-LISTEN:5001,fork EXEC:cat");
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Boolean>> echoed = new ArrayList<>();
            for (int stream = 0; stream < STREAMS; stream++) {
                byte[] bytes = Arrays.copyOfRange(data, stream * STREAM_BYTES, (stream + 1) * STREAM_BYTES);
                echoed.add(executor.submit(() -> {
                    try (SocketChannel host = connect(5001)) {
                        executor.submit(() -> host.write(ByteBuffer.wrap(bytes)));
                        ByteBuffer back = ByteBuffer.allocate(bytes.length);
                        while (back.hasRemaining() && host.read(back) >= 0) {
                            // reading until all came back
                        }
                        return Arrays.equals(back.array(), bytes);
                    }
                }));
            }
            for (Future<Boolean> stream : echoed) {
                assertThat(stream.get(5, TimeUnit.MINUTES)).as("a stream's bytes echoed").isTrue();
            }
        }
    }

    /** Starts {@code socat -d -d ...} in the background in the guest and returns once it says it listens. */
    private void listenInGuest(String socat) throws Exception {
        guest.run("rm -f /tmp/listening; %s 2>/tmp/listening &".formatted(socat), COMMAND);
        guest.run("until grep -q 'listening on' /tmp/listening; do sleep 0.1; done", COMMAND);
    }

    /** Connects to the guest's port through the device's socket: CONNECT, then the OK line. */
    private SocketChannel connect(int port) throws IOException {
        SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        host.write(ByteBuffer.wrap("CONNECT %d\n".formatted(port).getBytes(StandardCharsets.US_ASCII)));
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (host.read(one.clear()) > 0 && one.get(0) != '\n') {
            line.append((char) one.get(0));
        }
        assertThat(line.toString()).matches("OK \\d+");
        return host;
    }
}
