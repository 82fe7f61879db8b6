package dev.machina.integration;

import com.sun.net.httpserver.HttpServer;
import dev.machina.console.GuestConsole;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * linux_guest on the Java CPU with {@code virtio-net} and no TAP: the user-mode network through
 * passt, which the VMM starts. The guest gets its address, gateway and DNS server by DHCP (busybox
 * udhcpc), and fetches a file from an HTTP server on the host's loopback, which passt maps to the
 * gateway's address.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LinuxGuestUserNetworkTest {
    private static final Duration COMMAND = LinuxGuestTest.COMMAND;
    private static final int FILE_BYTES = 4 << 20;
    /** udhcpc's script: configures the interface from the lease and writes the gateway and DNS server where the test reads them. */
    private static final String DHCP_SCRIPT = "printf '#!/bin/sh\\n[ \"$1\" = bound ] || exit 0\\nifconfig $interface $ip netmask $subnet"
            + "\\nip route add default via $router\\necho $router > /tmp/router\\necho $dns > /tmp/dns\\n' > /tmp/dhcp.sh && chmod +x /tmp/dhcp.sh";

    private HttpServer server;
    private String fileMd5;
    private GuestConsole guest;

    @BeforeAll
    void bootOnPasst() throws Exception {
        LinuxGuestTest.assumeDebianPackageLists();
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/passt")), "needs passt (./test installs it: apt-get install passt)");
        byte[] file = new byte[FILE_BYTES];
        new Random(15).nextBytes(file);
        fileMd5 = LinuxGuestNetworkTest.md5(file);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/file", exchange -> {
            exchange.sendResponseHeaders(200, file.length);
            try (var body = exchange.getResponseBody()) {
                body.write(file);
            }
        });
        server.start();
        guest = LaunchedGuest.launch(LinuxGuestTest.REPOSITORY, "linux_guest",
                List.of("--backend=java", "--cpus=1", "--memory=512M", "--virtio-net"));
        guest.awaitOutput(LinuxGuestTest.READY, LinuxGuestTest.BOOT);
        LinuxGuestTest.quietConsole(guest);
    }

    @AfterAll
    void shutDown() throws Exception {
        if (guest != null) {
            guest.close();
        }
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    @Order(1)
    void theGuestGetsAnAddressAGatewayAndADnsServerByDhcp() throws Exception {
        assertThat(guest.transcript()).contains("device: virtio-net0 at PCI 00:01.0: user-mode network (passt)");
        guest.run(DHCP_SCRIPT, COMMAND);
        assertThat(guest.run("ip link set eth0 up && udhcpc -i eth0 -n -q -s /tmp/dhcp.sh >/dev/null 2>&1; echo $?", COMMAND))
                .as("udhcpc's exit status").isEqualTo("0");
        assertThat(guest.run("cat /tmp/router", COMMAND)).matches("\\d+\\.\\d+\\.\\d+\\.\\d+");
        assertThat(guest.run("cat /tmp/dns", COMMAND)).as("a DNS server offered").isNotBlank();
        assertThat(guest.run("cat /sys/class/net/eth0/mtu", COMMAND)).as("passt's MTU, which the device offers").isEqualTo("65520");
    }

    @Test
    @Order(2)
    void theGuestFetchesAFileFromTheHostsLoopbackThroughTheGateway() throws Exception {
        GuestConsole.Reply reply = guest.timed("wget -q -O - http://$(cat /tmp/router):%d/file | md5sum"
                .formatted(server.getAddress().getPort()), COMMAND);
        assertThat(reply.output()).isEqualTo(fileMd5 + "  -");
        System.out.printf("virtio-net on passt: %d MiB from the host's loopback in %.1f s%n", FILE_BYTES >> 20, reply.time().toMillis() / 1e3);
    }
}
