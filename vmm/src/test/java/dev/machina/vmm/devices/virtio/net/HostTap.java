package dev.machina.vmm.devices.virtio.net;

import dev.machina.vmm.config.MacAddress;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A {@link NetDevice} on a TAP interface of its own, up, with a /30 of the benchmarking range
 * (198.18.0.0/15) whose host end is on the interface and whose other end is the guest, known to the
 * host by a permanent neighbour entry (no ARP). IPv6 is off on it, so the host sends nothing the
 * test did not ask for. The interface goes when the device closes.
 */
public final class HostTap implements AutoCloseable {
    public final String name;
    public final NetDevice device;
    public final InetAddress host;
    public final InetAddress guest;
    public final byte[] hostMac;

    private HostTap(String name, NetDevice device, InetAddress host, InetAddress guest, byte[] hostMac) {
        this.name = name;
        this.device = device;
        this.host = host;
        this.guest = guest;
        this.hostMac = hostMac;
    }

    /** Skips the test unless this process may make TAP interfaces (root, /dev/net/tun, ip). */
    public static void assumeAvailable() {
        boolean ip = Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/usr/bin/ip"));
        assumeTrue(Files.isWritable(Path.of("/dev/net/tun")) && "root".equals(System.getProperty("user.name")) && ip,
                "needs root, /dev/net/tun and ip (iproute2) to make a TAP interface");
    }

    public static HostTap open(Consumer<String> log) throws IOException, InterruptedException {
        String name = "mtest" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt()) + ProcessHandle.current().pid() % 1000;
        MacAddress mac = MacAddress.local(1);
        NetDevice device = NetDevice.tap("virtio-net-test", name, mac, log);
        try {
            int block = ThreadLocalRandom.current().nextInt(1 << 15) << 2;
            byte[] base = {(byte) 198, (byte) (18 + (block >>> 16)), (byte) (block >>> 8), (byte) block};
            InetAddress host = Inet4Address.getByAddress(new byte[] {base[0], base[1], base[2], (byte) (base[3] + 1)});
            InetAddress guest = Inet4Address.getByAddress(new byte[] {base[0], base[1], base[2], (byte) (base[3] + 2)});
            Files.writeString(Path.of("/proc/sys/net/ipv6/conf", name, "disable_ipv6"), "1");
            ip("addr", "add", host.getHostAddress() + "/30", "dev", name);
            ip("link", "set", name, "up");
            ip("neigh", "replace", guest.getHostAddress(), "lladdr", mac.toString(), "dev", name, "nud", "permanent");
            byte[] hostMac = HexFormat.ofDelimiter(":").parseHex(Files.readString(Path.of("/sys/class/net", name, "address")).strip());
            return new HostTap(name, device, host, guest, hostMac);
        } catch (IOException | InterruptedException | RuntimeException e) {
            device.close();
            throw e;
        }
    }

    private static void ip(String... arguments) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("ip"));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + ": " + output);
        }
    }

    @Override
    public void close() {
        device.close();
    }
}
