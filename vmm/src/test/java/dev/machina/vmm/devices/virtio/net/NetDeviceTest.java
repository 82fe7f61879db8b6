package dev.machina.vmm.devices.virtio.net;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.vmm.devices.virtio.Activation;
import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.DriverRing;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * virtio-net on a real TAP interface of the host ({@link HostTap}), driven as Linux's driver drives
 * it: frames the host kernel sends reach the guest's receive buffers after the device wakes the
 * receive queue, and frames the guest transmits (with a checksum left to the host, as the CSUM
 * offload allows) reach a host socket. Needs root; skips otherwise.
 */
class NetDeviceTest {
    private static final int SIZE = 16;
    private static final long BUFFER = 0x10000;
    private static final int BUFFER_SIZE = 2048;
    private static final int PORT = 40_000;
    private static final int NEEDS_CSUM = 1;

    private final GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(4 << 20));
    private final DriverRing receiveRing = new DriverRing(memory, SIZE, 0x1000, 0x2000, 0x3000);
    private final DriverRing transmitRing = new DriverRing(memory, SIZE, 0x4000, 0x5000, 0x6000);
    private final SplitQueue receive = new SplitQueue(memory, SIZE);
    private final SplitQueue transmit = new SplitQueue(memory, SIZE);
    private final DescriptorChain chain = new DescriptorChain(SIZE);
    private final Semaphore receiveWakes = new Semaphore(0);
    private final List<String> log = new ArrayList<>();
    private HostTap tap;

    @BeforeEach
    void open() throws Exception {
        HostTap.assumeAvailable();
        tap = HostTap.open(log::add);
        receiveRing.configure(receive, false);
        transmitRing.configure(transmit, false);
        long features = 1L << NetFeatures.CSUM | 1L << NetFeatures.MAC;
        tap.device.activate(new Activation(features, List.of(receive, transmit), index -> {
            if (index == 0) {
                receiveWakes.release();
            }
        }));
    }

    @AfterEach
    void close() {
        if (tap != null) {
            tap.close();
        }
        memory.close();
        assertThat(log).isEmpty();
    }

    @Test
    void theConfigurationSaysTheMacTheLinkAndTheMtu() {
        NetDevice device = tap.device;
        assertThat(device.readConfig(0, 4)).isEqualTo(0x1200_5452L); // 52:54:00:12, little-endian
        assertThat(device.readConfig(4, 2)).isEqualTo(0x5734L); // 34:57: MacAddress.local(1)
        assertThat(device.readConfig(6, 2)).as("VIRTIO_NET_S_LINK_UP").isEqualTo(1);
        assertThat(device.readConfig(10, 2)).as("MTU").isEqualTo(1500);
        assertThat(device.features() & (1L << NetFeatures.GUEST_TSO4 | 1L << NetFeatures.HOST_TSO4))
                .as("TCP segmentation offered both ways").isNotZero();
    }

    @Test
    void aDatagramTheHostSendsArrivesInTheGuestsBuffer() throws Exception {
        byte[] payload = "from the host to the guest".getBytes(StandardCharsets.US_ASCII);
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(tap.host, 0))) {
            socket.send(new DatagramPacket(payload, payload.length, new InetSocketAddress(tap.guest, PORT)));
        }
        byte[] frame = receiveFrame();
        assertThat(Arrays.copyOfRange(frame, NetDevice.HEADER_SIZE, NetDevice.HEADER_SIZE + 6))
                .as("addressed to the guest's MAC").containsExactly(0x52, 0x54, 0x00, 0x12, 0x34, 0x57);
        assertThat(ByteBuffer.wrap(frame).order(java.nio.ByteOrder.LITTLE_ENDIAN).getShort(10)).as("num_buffers, little-endian").isEqualTo((short) 1);
        int ip = NetDevice.HEADER_SIZE + 14;
        assertThat(frame[ip + 9]).as("UDP").isEqualTo((byte) 17);
        assertThat(Arrays.copyOfRange(frame, ip + 28, frame.length)).isEqualTo(payload);
        assertThat(tap.device.statistics().received()).isEqualTo(1);
        assertThat(tap.device.statistics().bytesReceived()).isEqualTo(frame.length - NetDevice.HEADER_SIZE);
    }

    @Test
    void aDatagramTheGuestSendsWithItsChecksumLeftToTheHostReachesAHostSocket() throws Exception {
        byte[] payload = "from the guest to the host".getBytes(StandardCharsets.US_ASCII);
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(tap.host, 0))) {
            socket.setSoTimeout(10_000);
            byte[] frame = udpFrame(payload, socket.getLocalPort());
            memory.write(BUFFER, frame, 0, frame.length);
            transmitRing.descriptor(0, BUFFER, frame.length, 0, 0);
            transmitRing.offer(0);
            serve(1, transmit);
            DatagramPacket packet = new DatagramPacket(new byte[BUFFER_SIZE], BUFFER_SIZE);
            socket.receive(packet);
            assertThat(Arrays.copyOf(packet.getData(), packet.getLength())).isEqualTo(payload);
            assertThat(packet.getAddress()).isEqualTo(tap.guest);
        }
        assertThat(transmitRing.usedIdx()).isEqualTo(1);
        assertThat(tap.device.statistics().transmitted()).isEqualTo(1);
    }

    @Test
    void malformedTransmitsAndFramesTooLargeForTheGuestAreCountedNotLost() throws Exception {
        transmitRing.descriptor(0, BUFFER, 5, 0, 0);
        transmitRing.offer(0);
        serve(1, transmit);
        assertThat(tap.device.statistics().dropped(NetStatistics.Drop.MALFORMED_TRANSMIT)).isEqualTo(1);

        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(tap.host, 0))) {
            socket.send(new DatagramPacket(new byte[1000], 1000, new InetSocketAddress(tap.guest, PORT)));
        }
        assertThat(receiveWakes.tryAcquire(10, TimeUnit.SECONDS)).as("the receive queue woken").isTrue();
        receiveRing.descriptor(0, BUFFER, 100, DriverRing.WRITE, 0);
        receiveRing.offer(0);
        serve(0, receive);
        assertThat(receiveRing.usedLength(0)).isZero();
        assertThat(tap.device.statistics().dropped(NetStatistics.Drop.LARGER_THAN_GUEST_BUFFER)).isEqualTo(1);
    }

    /** Offers one receive buffer once the device has woken the receive queue, and returns what was written into it. */
    private byte[] receiveFrame() throws Exception {
        assertThat(receiveWakes.tryAcquire(10, TimeUnit.SECONDS)).as("the receive queue woken").isTrue();
        receiveRing.descriptor(0, BUFFER, BUFFER_SIZE, DriverRing.WRITE, 0);
        receiveRing.offer(0);
        serve(0, receive);
        assertThat(receiveRing.usedIdx()).isEqualTo(1);
        byte[] frame = new byte[receiveRing.usedLength(0)];
        memory.read(BUFFER, frame, 0, frame.length);
        return frame;
    }

    /** As the transport's worker does. */
    private void serve(int index, SplitQueue queue) throws Exception {
        while (tap.device.canServe(index) && queue.pop(chain)) {
            tap.device.serve(index, queue, chain);
        }
    }

    /**
     * A virtio-net header asking the host to complete the UDP checksum (NEEDS_CSUM, with the
     * pseudo-header's sum in the checksum field, as Linux leaves it), then Ethernet, IPv4 and UDP.
     */
    private byte[] udpFrame(byte[] payload, int port) {
        int udpLength = 8 + payload.length;
        ByteBuffer frame = ByteBuffer.allocate(NetDevice.HEADER_SIZE + 14 + 20 + udpLength);
        frame.put((byte) NEEDS_CSUM).put((byte) 0).putShort((short) 0).putShort((short) 0)
                .putShort(Short.reverseBytes((short) (14 + 20))).putShort(Short.reverseBytes((short) 6)).putShort((short) 0);
        frame.put(tap.hostMac).put(new byte[] {0x52, 0x54, 0x00, 0x12, 0x34, 0x57}).putShort((short) 0x0800);
        int ip = frame.position();
        frame.put((byte) 0x45).put((byte) 0).putShort((short) (20 + udpLength)).putInt(0).put((byte) 64).put((byte) 17)
                .putShort((short) 0).put(tap.guest.getAddress()).put(tap.host.getAddress());
        frame.putShort(ip + 10, (short) ~sum(frame.array(), ip, 20, 0));
        int pseudo = sum(tap.guest.getAddress(), 0, 4, 0);
        pseudo = sum(tap.host.getAddress(), 0, 4, pseudo);
        pseudo = fold(pseudo + 17 + udpLength);
        frame.putShort((short) 40_001).putShort((short) port).putShort((short) udpLength).putShort((short) pseudo).put(payload);
        return frame.array();
    }

    /** The ones'-complement sum of {@code length} bytes from {@code offset}, added to {@code sum}, folded to 16 bits. */
    private static int sum(byte[] bytes, int offset, int length, int sum) {
        for (int i = 0; i < length; i += 2) {
            sum += (bytes[offset + i] & 0xFF) << 8 | (i + 1 < length ? bytes[offset + i + 1] & 0xFF : 0);
        }
        return fold(sum);
    }

    private static int fold(int sum) {
        while (sum >>> 16 != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return sum;
    }
}
