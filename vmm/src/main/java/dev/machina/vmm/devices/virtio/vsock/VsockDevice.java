package dev.machina.vmm.devices.virtio.vsock;

import dev.machina.vmm.devices.virtio.Activation;
import dev.machina.vmm.devices.virtio.Threads;
import dev.machina.vmm.devices.virtio.VirtioDevice;
import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.QueueFault;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * virtio-vsock (device id 19), stream sockets between the guest and host programs over
 * Firecracker's hybrid protocol on a Unix socket: a host program connects to {@link #socket},
 * writes {@code CONNECT <port>\n}, reads {@code OK <hostport>\n} and then has a stream to the
 * guest's listener on that port; a guest connecting to the host (context id 2) on port P reaches a
 * listener on {@code <socket>_P}.
 *
 * <p>All connection state is guarded by this object's lock. A watcher thread waits on the host
 * sockets (a selector) and queues the connections whose sockets are ready; the device's worker
 * does every read and write, without blocking, and sends the guest at most its credit.
 */
public final class VsockDevice implements VirtioDevice, AutoCloseable {
    public static final int DEVICE_TYPE = 19;
    static final int HEADER_SIZE = 44;
    static final long HOST_CID = 2;
    private static final int RECEIVE = 0;
    private static final int TRANSMIT = 1;
    private static final int QUEUE_SIZE = 256;
    private static final int PCI_CLASS_OTHER = 0xFF_00_00;
    private static final int TYPE_STREAM = 1;
    private static final int OP_REQUEST = 1;
    private static final int OP_RESPONSE = 2;
    private static final int OP_RST = 3;
    private static final int OP_SHUTDOWN = 4;
    private static final int OP_RW = 5;
    private static final int OP_CREDIT_UPDATE = 6;
    private static final int OP_CREDIT_REQUEST = 7;
    private static final int SHUTDOWN_RECEIVE = 1;
    private static final int SHUTDOWN_SEND = 2;
    /** The largest payload of one packet to the guest: Linux's receive buffers hold 4 KiB. */
    private static final int MAX_PAYLOAD = 4096;
    private static final int MAX_CONNECT_LINE = 32;
    /** Host-side ports of host-initiated connections start here, as Firecracker's do, clear of the guest's. */
    private static final int FIRST_HOST_PORT = 1 << 30;

    private final long cid;
    private final Path socket;
    private final Consumer<String> log;
    private final ServerSocketChannel listener;
    private final Selector selector;
    private final Thread watcher;
    private final List<Connection> connections = new ArrayList<>();
    /** Connections with something for the guest or a host socket ready, in order. */
    private final ArrayDeque<Connection> work = new ArrayDeque<>();
    /** Resets for packets that belong to no connection: host port in the high half, guest port in the low. */
    private final ArrayDeque<Long> orphanResets = new ArrayDeque<>();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment header = arena.allocate(HEADER_SIZE);
    private final ByteBuffer payload = ByteBuffer.allocateDirect(MAX_PAYLOAD);
    private final MemorySegment payloadMemory = MemorySegment.ofBuffer(payload);
    private final ByteBuffer oneByte = ByteBuffer.allocate(1);
    private final VsockStatistics statistics = new VsockStatistics();
    private volatile boolean running = true;
    private volatile Activation activation;
    private boolean acceptDue;
    private int nextHostPort = FIRST_HOST_PORT;

    /** The packet staged for the guest's next receive buffer. */
    private boolean staged;
    private int stagedOp;
    private int stagedFlags;
    private int stagedHostPort;
    private int stagedGuestPort;
    private Connection stagedConnection;

    /**
     * A device for the guest with context id {@code cid}, listening on {@code socket} (a stale
     * socket file there is replaced).
     *
     * @throws IOException if the socket cannot be made
     */
    public VsockDevice(long cid, Path socket, Consumer<String> log) throws IOException {
        this.cid = cid;
        this.socket = socket;
        this.log = log;
        Files.deleteIfExists(socket);
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            listener.bind(UnixDomainSocketAddress.of(socket));
            listener.configureBlocking(false);
            selector = Selector.open();
            listener.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            listener.close();
            throw new IOException("vsock socket " + socket + ": " + e.getMessage(), e);
        }
        watcher = Thread.ofPlatform().daemon().name("virtio-vsock-host").start(this::watch);
    }

    public Path socket() {
        return socket;
    }

    public long cid() {
        return cid;
    }

    public VsockStatistics statistics() {
        return statistics;
    }

    @Override
    public int deviceType() {
        return DEVICE_TYPE;
    }

    @Override
    public int pciClass() {
        return PCI_CLASS_OTHER;
    }

    @Override
    public int[] queueSizes() {
        return new int[] {QUEUE_SIZE, QUEUE_SIZE, QUEUE_SIZE};
    }

    @Override
    public int configSize() {
        return Long.BYTES;
    }

    @Override
    public long readConfig(int offset, int size) {
        return offset >= Long.BYTES ? 0 : (cid >>> (8 * offset)) & (-1L >>> (64 - 8 * Math.min(size, Long.BYTES - offset)));
    }

    @Override
    public void activate(Activation activation) {
        this.activation = activation;
        activation.wake().accept(RECEIVE);
    }

    /** The driver reset: every stream ends, as after a transport reset the guest's sockets do. */
    @Override
    public synchronized void reset() {
        activation = null;
        connections.forEach(Connection::close);
        connections.clear();
        work.clear();
        orphanResets.clear();
        staged = false;
        stagedConnection = null;
    }

    @Override
    public synchronized boolean canServe(int index) {
        if (index != RECEIVE) {
            return index == TRANSMIT;
        }
        return staged || stage();
    }

    @Override
    public synchronized void serve(int index, SplitQueue queue, DescriptorChain chain) throws QueueFault {
        if (index == RECEIVE) {
            queue.add(chain.head(), deliver(chain));
        } else {
            receiveFromGuest(chain);
            queue.add(chain.head(), 0);
            if (!work.isEmpty() || !orphanResets.isEmpty()) {
                wakeReceive();
            }
        }
    }

    // ---- to the guest ----

    /** Decides the next packet for the guest, doing the host-side work that needs no guest buffer on the way. */
    private boolean stage() {
        if (acceptDue) {
            acceptAll();
        }
        Long orphan = orphanResets.poll();
        if (orphan != null) {
            stageControl(OP_RST, 0, (int) (orphan >>> 32), (int) (long) orphan, null);
            return true;
        }
        for (Connection connection; (connection = work.peekFirst()) != null; ) {
            if (!connection.closed && stageFor(connection)) {
                return true;
            }
            work.pollFirst();
            connection.queued = false;
        }
        return false;
    }

    /** Stages the next packet {@code connection} owes the guest, if any. */
    private boolean stageFor(Connection connection) {
        if (connection.resetDue) {
            connection.resetDue = false;
            remove(connection);
            stageControl(OP_RST, 0, connection.hostPort, connection.guestPort, null);
            return true;
        }
        if (connection.readable) {
            serviceHostSocket(connection);
            if (connection.resetDue) {
                return stageFor(connection);
            }
        }
        if (connection.requestDue) {
            connection.requestDue = false;
            stageControl(OP_REQUEST, 0, connection.hostPort, connection.guestPort, connection);
            return true;
        }
        if (connection.responseDue) {
            connection.responseDue = false;
            stageControl(OP_RESPONSE, 0, connection.hostPort, connection.guestPort, connection);
            return true;
        }
        if (connection.state == Connection.State.ESTABLISHED && connection.readable && !connection.hostClosed
                && connection.guestCredit() > 0 && stageData(connection)) {
            return true;
        }
        if (connection.shutdownDue) {
            connection.shutdownDue = false;
            stageControl(OP_SHUTDOWN, SHUTDOWN_SEND, connection.hostPort, connection.guestPort, connection);
            return true;
        }
        if (connection.creditUpdateDue) {
            connection.creditUpdateDue = false;
            stageControl(OP_CREDIT_UPDATE, 0, connection.hostPort, connection.guestPort, connection);
            return true;
        }
        return false;
    }

    /** Reads up to the guest's credit from the host socket into the payload; false (and the socket watched again) if it has none now. */
    private boolean stageData(Connection connection) {
        payload.clear().limit((int) Math.min(MAX_PAYLOAD, connection.guestCredit()));
        int read;
        try {
            read = connection.channel.read(payload);
        } catch (IOException e) {
            connection.resetDue = true;
            return stageFor(connection);
        }
        if (read < 0) {
            connection.hostClosed = true;
            connection.shutdownDue = true;
            return false;
        }
        if (read == 0) {
            connection.readable = false;
            watch(connection);
            return false;
        }
        payload.flip();
        stageControl(OP_RW, 0, connection.hostPort, connection.guestPort, connection);
        return true;
    }

    private void stageControl(int op, int flags, int hostPort, int guestPort, Connection connection) {
        staged = true;
        stagedOp = op;
        stagedFlags = flags;
        stagedHostPort = hostPort;
        stagedGuestPort = guestPort;
        stagedConnection = connection;
        if (op != OP_RW) {
            payload.clear().flip();
        }
    }

    /** Writes the staged packet into the guest's buffer (as much of its payload as fits) and returns the length written. */
    private int deliver(DescriptorChain chain) {
        if (!staged || chain.writableBytes() < HEADER_SIZE) {
            statistics.malformed();
            return 0;
        }
        int length = (int) Math.min(payload.remaining(), chain.writableBytes() - HEADER_SIZE);
        Connection connection = stagedConnection;
        header.set(JAVA_LONG_UNALIGNED, 0, HOST_CID);
        header.set(JAVA_LONG_UNALIGNED, 8, cid);
        header.set(JAVA_INT_UNALIGNED, 16, stagedHostPort);
        header.set(JAVA_INT_UNALIGNED, 20, stagedGuestPort);
        header.set(JAVA_INT_UNALIGNED, 24, length);
        header.set(JAVA_SHORT_UNALIGNED, 28, (short) TYPE_STREAM);
        header.set(JAVA_SHORT_UNALIGNED, 30, (short) stagedOp);
        header.set(JAVA_INT_UNALIGNED, 32, stagedFlags);
        header.set(JAVA_INT_UNALIGNED, 36, Connection.BUFFER);
        header.set(JAVA_INT_UNALIGNED, 40, connection == null ? 0 : (int) connection.forwarded);
        chain.write(0, header);
        chain.write(HEADER_SIZE, payloadMemory, payload.position(), length);
        payload.position(payload.position() + length);
        if (connection != null) {
            connection.sentToGuest += length;
            connection.advertisedForwarded = connection.forwarded;
        }
        statistics.toGuest(length);
        if (!payload.hasRemaining()) {
            staged = false;
            stagedConnection = null;
        }
        return HEADER_SIZE + length;
    }

    // ---- from the guest ----

    private void receiveFromGuest(DescriptorChain chain) throws QueueFault {
        if (chain.readableBytes() < HEADER_SIZE) {
            statistics.malformed();
            return;
        }
        long sourceCid = chain.readU64(0);
        long destinationCid = chain.readU64(8);
        int guestPort = (int) chain.readU32(16);
        int hostPort = (int) chain.readU32(20);
        long length = chain.readU32(24);
        int type = chain.readU16(28);
        int op = chain.readU16(30);
        int flags = (int) chain.readU32(32);
        if (sourceCid != cid || destinationCid != HOST_CID || type != TYPE_STREAM || length > chain.readableBytes() - HEADER_SIZE) {
            statistics.malformed();
            if (op != OP_RST) {
                orphanResets.add((long) hostPort << 32 | (guestPort & 0xFFFF_FFFFL));
            }
            return;
        }
        Connection connection = find(hostPort, guestPort);
        if (connection == null) {
            if (op == OP_REQUEST) {
                connectToHost(hostPort, guestPort, chain.readU32(36), chain.readU32(40));
            } else if (op != OP_RST) {
                orphanResets.add((long) hostPort << 32 | (guestPort & 0xFFFF_FFFFL));
            }
            return;
        }
        long creditBefore = connection.guestCredit();
        connection.peerBufferSize = chain.readU32(36);
        connection.peerForwarded = chain.readU32(40);
        switch (op) {
            case OP_RESPONSE -> established(connection);
            case OP_RW -> fromGuest(connection, chain, (int) length);
            case OP_CREDIT_REQUEST -> connection.creditUpdateDue = true;
            case OP_SHUTDOWN -> shutdown(connection, flags);
            case OP_RST -> remove(connection);
            case OP_CREDIT_UPDATE -> { }
            default -> connection.resetDue = true; // a second REQUEST, or an operation there is none of
        }
        if (connection.creditUpdateDue || connection.resetDue || (creditBefore == 0 && connection.guestCredit() > 0)) {
            enqueue(connection);
        }
    }

    /** The guest connects to host port {@code hostPort}: a listener on {@code <socket>_<hostPort>}. */
    private void connectToHost(int hostPort, int guestPort, long guestBuffer, long guestForwarded) {
        Path target = Path.of(socket + "_" + Integer.toUnsignedString(hostPort));
        SocketChannel channel = null;
        try {
            // Without blocking: a listener whose backlog is full (a program that stopped accepting)
            // must not stall the device's worker; the guest gets a reset instead.
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.configureBlocking(false);
            if (!channel.connect(UnixDomainSocketAddress.of(target))) {
                throw new IOException("the listener on " + target + " accepts no more connections now");
            }
            Connection connection = new Connection(channel, channel.register(selector, 0), hostPort, guestPort,
                    Connection.State.ESTABLISHED);
            connection.key.attach(connection);
            connection.peerBufferSize = guestBuffer;
            connection.peerForwarded = guestForwarded;
            connections.add(connection);
            connection.responseDue = true;
            connection.readable = true;
            enqueue(connection);
            statistics.connected();
        } catch (IOException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // The connection failed already; the guest is told by the reset below.
                }
            }
            statistics.connectionRefused();
            orphanResets.add((long) hostPort << 32 | (guestPort & 0xFFFF_FFFFL));
        }
    }

    /** The guest accepted a host program's connection: the program is told, and its bytes flow. */
    private void established(Connection connection) {
        if (connection.state != Connection.State.AWAITING_RESPONSE) {
            connection.resetDue = true;
            return;
        }
        connection.state = Connection.State.ESTABLISHED;
        try {
            ByteBuffer ok = ByteBuffer.wrap(("OK " + Integer.toUnsignedString(connection.hostPort) + "\n").getBytes(StandardCharsets.US_ASCII));
            while (ok.hasRemaining()) {
                if (connection.channel.write(ok) == 0) {
                    throw new IOException("the host program does not read its OK line");
                }
            }
            statistics.connected();
            connection.readable = true;
            enqueue(connection);
        } catch (IOException e) {
            connection.resetDue = true;
        }
    }

    private void fromGuest(Connection connection, DescriptorChain chain, int length) {
        if (connection.state != Connection.State.ESTABLISHED || connection.guestShutSend || !connection.fits(length)) {
            // Data beyond the credit the guest was given, or after it said it would send no more.
            statistics.malformed();
            connection.resetDue = true;
            return;
        }
        connection.append(length, (target, offset, count) -> chain.read(HEADER_SIZE, target, offset, count));
        statistics.fromGuest(length);
        flushToHost(connection);
    }

    private void shutdown(Connection connection, int flags) {
        if ((flags & SHUTDOWN_SEND) != 0) {
            connection.guestShutSend = true;
            flushToHost(connection);
        }
        if ((flags & (SHUTDOWN_SEND | SHUTDOWN_RECEIVE)) == (SHUTDOWN_SEND | SHUTDOWN_RECEIVE)) {
            // Both ways closed: the guest waits for the reset that ends the connection (5.10.6.6),
            // sent once the host socket has taken everything the guest sent.
            connection.closeWhenFlushed = true;
            connection.resetDue |= connection.pending() == 0;
        }
    }

    /** Gives the host socket what the guest sent, as much as it takes now; the rest when it is writable again. */
    private void flushToHost(Connection connection) {
        try {
            connection.flush();
            if (connection.pending() == 0 && connection.guestShutSend && connection.channel.isOpen()) {
                connection.channel.shutdownOutput();
            }
        } catch (IOException e) {
            connection.resetDue = true;
            return;
        }
        if (connection.pending() > 0) {
            watch(connection);
        } else if (connection.closeWhenFlushed) {
            connection.resetDue = true;
        }
        if (connection.creditUpdateDue || connection.resetDue) {
            enqueue(connection);
        }
    }

    // ---- the host side ----

    /** Host programs connected to the socket: each must now send its CONNECT line. */
    private void acceptAll() {
        acceptDue = false;
        try {
            for (SocketChannel channel; (channel = listener.accept()) != null; ) {
                channel.configureBlocking(false);
                Connection connection = new Connection(channel, channel.register(selector, SelectionKey.OP_READ), nextHostPort++, 0,
                        Connection.State.AWAITING_CONNECT_LINE);
                connection.key.attach(connection);
                connections.add(connection);
            }
        } catch (IOException e) {
            log.accept("virtio-vsock: accepting on " + socket + ": " + e.getMessage());
        }
        listener.keyFor(selector).interestOps(SelectionKey.OP_ACCEPT);
        selector.wakeup();
    }

    /** The host socket was ready: read a CONNECT line, or give it what the guest sent. */
    private void serviceHostSocket(Connection connection) {
        if (connection.state == Connection.State.AWAITING_CONNECT_LINE) {
            readConnectLine(connection);
            return;
        }
        if (connection.pending() > 0) {
            flushToHost(connection);
        }
    }

    /** Reads the CONNECT line byte by byte, so that none of the stream after it is taken. */
    private void readConnectLine(Connection connection) {
        try {
            while (true) {
                oneByte.clear();
                int read = connection.channel.read(oneByte);
                if (read < 0) {
                    remove(connection);
                    return;
                }
                if (read == 0) {
                    connection.readable = false;
                    watch(connection);
                    return;
                }
                char c = (char) oneByte.get(0);
                if (c == '\n') {
                    break;
                }
                connection.line.append(c);
                if (connection.line.length() > MAX_CONNECT_LINE) {
                    break;
                }
            }
        } catch (IOException e) {
            remove(connection);
            return;
        }
        String line = connection.line.toString().strip();
        if (!line.matches("CONNECT \\d{1,10}") || Long.parseLong(line.substring(8)) > 0xFFFF_FFFFL) {
            log.accept("virtio-vsock: a host program sent \"%s\" instead of CONNECT <port>; closed".formatted(line));
            remove(connection);
            return;
        }
        connection.guestPort = (int) Long.parseLong(line.substring(8));
        connection.state = Connection.State.AWAITING_RESPONSE;
        connection.requestDue = true;
        connection.readable = false;
    }

    private void watch(Connection connection) {
        if (connection.key.isValid()) {
            connection.key.interestOps(SelectionKey.OP_READ | (connection.pending() > 0 ? SelectionKey.OP_WRITE : 0));
            selector.wakeup();
        }
    }

    private void enqueue(Connection connection) {
        if (!connection.queued) {
            connection.queued = true;
            work.addLast(connection);
        }
    }

    private Connection find(int hostPort, int guestPort) {
        for (Connection connection : connections) {
            if (connection.hostPort == hostPort && connection.guestPort == guestPort && connection.state != Connection.State.AWAITING_CONNECT_LINE) {
                return connection;
            }
        }
        return null;
    }

    private void remove(Connection connection) {
        connections.remove(connection);
        connection.close();
    }

    /** The watcher: marks connections whose host sockets are ready and wakes the receive queue. */
    private void watch() {
        try {
            while (running) {
                selector.select();
                synchronized (this) {
                    for (SelectionKey key : selector.selectedKeys()) {
                        if (!key.isValid()) {
                            continue;
                        }
                        key.interestOps(0);
                        if (key.attachment() instanceof Connection connection) {
                            connection.readable = true;
                            enqueue(connection);
                        } else {
                            acceptDue = true;
                        }
                    }
                    selector.selectedKeys().clear();
                }
                wakeReceive();
            }
        } catch (IOException | RuntimeException e) {
            if (running) {
                log.accept("virtio-vsock: watching the host sockets: " + e.getMessage());
            }
        }
    }

    private void wakeReceive() {
        Activation current = activation;
        if (current != null) {
            current.wake().accept(RECEIVE);
        }
    }

    @Override
    public void close() {
        running = false;
        selector.wakeup();
        Threads.joinUninterruptibly(watcher);
        reset();
        try {
            selector.close();
            listener.close();
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.accept("virtio-vsock: closing " + socket + ": " + e.getMessage());
        }
        arena.close();
    }
}
