package dev.machina.vmm.devices.virtio.vsock;

import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.vmm.devices.virtio.Activation;
import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.DriverRing;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * virtio-vsock's hybrid Unix socket protocol, with this test as the guest's driver (its rings in
 * guest memory) and real Unix sockets as the host programs: a host program's CONNECT becomes a
 * REQUEST to the guest and the guest's RESPONSE its OK line; bytes cross both ways within the
 * credit each side gives; the guest's connection to a host port reaches {@code <socket>_<port>};
 * a port with no listener is refused with a reset.
 */
class VsockDeviceTest {
    private static final long CID = 7;
    private static final int SIZE = 16;
    private static final int BUFFER = 4096 + VsockDevice.HEADER_SIZE;
    private static final long RECEIVE_BUFFERS = 0x100000;
    private static final long TRANSMIT_BUFFER = 0x200000;
    private static final int GUEST_BUFFER = 64 * 1024;

    @TempDir
    Path directory;

    private final GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(4 << 20));
    private final DriverRing receiveRing = new DriverRing(memory, SIZE, 0x1000, 0x2000, 0x3000);
    private final DriverRing transmitRing = new DriverRing(memory, SIZE, 0x4000, 0x5000, 0x6000);
    private final SplitQueue receive = new SplitQueue(memory, SIZE);
    private final SplitQueue transmit = new SplitQueue(memory, SIZE);
    private final SplitQueue events = new SplitQueue(memory, SIZE);
    private final DescriptorChain chain = new DescriptorChain(SIZE);
    private final Semaphore receiveWakes = new Semaphore(0);
    private final List<String> log = new ArrayList<>();
    private VsockDevice device;
    private int receiveUsed;
    private int transmitHead;

    record Packet(int sourcePort, int destinationPort, int op, int flags, long bufferSize, long forwarded, byte[] payload) {
    }

    @BeforeEach
    void open() throws Exception {
        device = new VsockDevice(CID, directory.resolve("v.sock"), log::add);
        receiveRing.configure(receive, false);
        transmitRing.configure(transmit, false);
        for (int i = 0; i < SIZE; i++) {
            receiveRing.descriptor(i, RECEIVE_BUFFERS + (long) i * BUFFER, BUFFER, DriverRing.WRITE, 0);
            receiveRing.offer(i);
        }
        device.activate(new Activation(0, List.of(receive, transmit, events), index -> {
            if (index == 0) {
                receiveWakes.release();
            }
        }));
    }

    @AfterEach
    void close() {
        device.close();
        memory.close();
        assertThat(log).isEmpty();
    }

    @Test
    void theConfigurationHoldsTheGuestsContextId() {
        assertThat(device.readConfig(0, 8)).isEqualTo(CID);
        assertThat(device.readConfig(0, 4)).isEqualTo(CID);
        assertThat(device.readConfig(4, 4)).isZero();
    }

    @Test
    void aHostProgramConnectsToAGuestPortAndBytesCrossBothWays() throws Exception {
        try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(device.socket()))) {
            host.write(ByteBuffer.wrap("CONNECT 1234\n".getBytes(StandardCharsets.US_ASCII)));
            Packet request = awaitPacket(1);
            assertThat(request.destinationPort()).isEqualTo(1234);
            int hostPort = request.sourcePort();
            assertThat(request.bufferSize()).as("buf_alloc advertised").isPositive();
            send(1234, hostPort, 2, 0, new byte[0]);
            assertThat(readLine(host)).isEqualTo("OK " + Integer.toUnsignedString(hostPort));

            byte[] fromHost = "from the host program".getBytes(StandardCharsets.US_ASCII);
            host.write(ByteBuffer.wrap(fromHost));
            Packet data = awaitPacket(5);
            assertThat(data.payload()).isEqualTo(fromHost);
            assertThat(data.destinationPort()).isEqualTo(1234);

            byte[] fromGuest = "from the guest's listener".getBytes(StandardCharsets.US_ASCII);
            send(1234, hostPort, 5, 0, fromGuest);
            ByteBuffer received = ByteBuffer.allocate(fromGuest.length);
            while (received.hasRemaining()) {
                host.read(received);
            }
            assertThat(received.array()).isEqualTo(fromGuest);

            send(1234, hostPort, 4, 3, new byte[0]); // SHUTDOWN, both ways: the guest closed
            assertThat(awaitPacket(3).destinationPort()).as("the reset that ends it").isEqualTo(1234);
            assertThat(host.read(ByteBuffer.allocate(1))).as("the host program sees the end").isEqualTo(-1);
        }
        assertThat(device.statistics().connections()).isEqualTo(1);
    }

    @Test
    void theHostSendsNoMoreThanTheGuestsCreditUntilItIsUpdated() throws Exception {
        try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(device.socket()))) {
            host.write(ByteBuffer.wrap("CONNECT 99\n".getBytes(StandardCharsets.US_ASCII)));
            int hostPort = awaitPacket(1).sourcePort();
            send(99, hostPort, 2, 0, new byte[0], 10_000, 0);
            readLine(host);
            host.write(ByteBuffer.wrap(new byte[30_000]));
            long delivered = 0;
            while (delivered < 10_000) {
                delivered += awaitPacket(5).payload().length;
            }
            assertThat(delivered).as("exactly the credit").isEqualTo(10_000);
            drain();
            assertThat(packets).as("nothing beyond the credit").isEmpty();
            send(99, hostPort, 6, 0, new byte[0], 10_000, 10_000); // CREDIT_UPDATE: all consumed
            while (delivered < 20_000) {
                delivered += awaitPacket(5).payload().length;
            }
            assertThat(delivered).isEqualTo(20_000);
        }
    }

    @Test
    void theGuestReachesAHostListenerOnThePortsSocketAndAPortWithoutOneIsReset() throws Exception {
        Path portSocket = Path.of(device.socket() + "_5000");
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(portSocket));
            send(40_000, 5000, 1, 0, new byte[0]); // REQUEST from guest port 40000
            Packet response = awaitPacket(2);
            assertThat(response.destinationPort()).isEqualTo(40_000);
            assertThat(response.sourcePort()).isEqualTo(5000);
            try (SocketChannel accepted = listener.accept()) {
                send(40_000, 5000, 5, 0, "hello host".getBytes(StandardCharsets.US_ASCII));
                ByteBuffer received = ByteBuffer.allocate(10);
                while (received.hasRemaining()) {
                    accepted.read(received);
                }
                assertThat(new String(received.array(), StandardCharsets.US_ASCII)).isEqualTo("hello host");
                accepted.write(ByteBuffer.wrap("hello guest".getBytes(StandardCharsets.US_ASCII)));
                assertThat(new String(awaitPacket(5).payload(), StandardCharsets.US_ASCII)).isEqualTo("hello guest");
            }
        }
        send(40_001, 5001, 1, 0, new byte[0]);
        assertThat(awaitPacket(3).destinationPort()).as("refused: RST").isEqualTo(40_001);
        assertThat(device.statistics().refused()).isEqualTo(1);
    }

    private final List<Packet> packets = new ArrayList<>();

    /** Waits, by the device's wakes of the receive queue, until a packet with {@code op} arrives, and returns it. */
    private Packet awaitPacket(int op) throws Exception {
        while (true) {
            drain();
            for (int i = 0; i < packets.size(); i++) {
                if (packets.get(i).op() == op) {
                    return packets.remove(i);
                }
            }
            assertThat(receiveWakes.tryAcquire(10, TimeUnit.SECONDS)).as("a packet with op %d; have %s", op, packets).isTrue();
        }
    }

    /** Serves the receive queue as the worker does, collects what arrived and gives the buffers back. */
    private void drain() throws Exception {
        while (device.canServe(0) && receive.pop(chain)) {
            device.serve(0, receive, chain);
        }
        for (; receiveUsed != receiveRing.usedIdx(); receiveUsed++) {
            int head = receiveRing.usedId(receiveUsed);
            int length = receiveRing.usedLength(receiveUsed);
            byte[] bytes = new byte[length];
            memory.read(RECEIVE_BUFFERS + (long) head * BUFFER, bytes, 0, length);
            ByteBuffer packet = ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            assertThat(packet.getLong(0)).as("source cid").isEqualTo(VsockDevice.HOST_CID);
            assertThat(packet.getLong(8)).as("destination cid").isEqualTo(CID);
            packets.add(new Packet(packet.getInt(16), packet.getInt(20), packet.getShort(30), packet.getInt(32),
                    packet.getInt(36) & 0xFFFF_FFFFL, packet.getInt(40) & 0xFFFF_FFFFL,
                    Arrays.copyOfRange(bytes, VsockDevice.HEADER_SIZE, VsockDevice.HEADER_SIZE + packet.getInt(24))));
            receiveRing.offer(head);
        }
    }

    private void send(int guestPort, int hostPort, int op, int flags, byte[] payload) throws Exception {
        send(guestPort, hostPort, op, flags, payload, GUEST_BUFFER, 0);
    }

    /** Transmits one packet from the guest, as the worker serves it. */
    private void send(int guestPort, int hostPort, int op, int flags, byte[] payload, int bufferSize, int forwarded) throws Exception {
        ByteBuffer packet = ByteBuffer.allocate(VsockDevice.HEADER_SIZE + payload.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        packet.putLong(CID).putLong(VsockDevice.HOST_CID).putInt(guestPort).putInt(hostPort).putInt(payload.length)
                .putShort((short) 1).putShort((short) op).putInt(flags).putInt(bufferSize).putInt(forwarded).put(payload);
        int head = transmitHead++ % SIZE;
        memory.write(TRANSMIT_BUFFER + (long) head * BUFFER, packet.array(), 0, packet.capacity());
        transmitRing.descriptor(head, TRANSMIT_BUFFER + (long) head * BUFFER, packet.capacity(), 0, 0);
        transmitRing.offer(head);
        while (device.canServe(1) && transmit.pop(chain)) {
            device.serve(1, transmit, chain);
        }
    }

    private static String readLine(SocketChannel channel) throws IOException {
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (channel.read(one) < 0) {
                return line.toString();
            }
            if (one.get(0) == '\n') {
                return line.toString();
            }
            line.append((char) one.get(0));
        }
    }
}
