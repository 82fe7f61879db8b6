package dev.machina.vmm.devices.virtio.vsock;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * One vsock stream between a guest port and a host Unix socket, with both sides' credit (virtio
 * 1.2, 5.10.6.3): what the guest sent that the host socket has not yet taken waits in
 * {@link #toHost}, never more than the {@link #BUFFER} the guest was told it may have in flight.
 * Used on the device's worker only, under the device's lock.
 */
final class Connection {
    /** The receive buffer advertised to the guest (buf_alloc), and the size of {@link #toHost}. */
    static final int BUFFER = 256 * 1024;

    enum State {
        /** A host program connected to the device's socket and has not yet sent its whole {@code CONNECT} line. */
        AWAITING_CONNECT_LINE,
        /** The guest was sent a REQUEST for a host program and has not answered. */
        AWAITING_RESPONSE,
        ESTABLISHED
    }

    final SocketChannel channel;
    final SelectionKey key;
    final int hostPort;
    int guestPort;
    State state;
    final ByteBuffer toHost = ByteBuffer.allocateDirect(BUFFER);
    final MemorySegment toHostMemory = MemorySegment.ofBuffer(toHost);
    /** The CONNECT line read so far. */
    final StringBuilder line = new StringBuilder();

    /** The guest's buffer and how much of what it was sent it has consumed. */
    long peerBufferSize;
    long peerForwarded;
    /** Bytes sent to the guest, and bytes of the guest's taken by the host socket (fwd_cnt). */
    long sentToGuest;
    long forwarded;
    long advertisedForwarded;

    /** What the guest must be sent: the reason this connection is in the device's queue of work. */
    boolean requestDue;
    boolean responseDue;
    boolean creditUpdateDue;
    boolean resetDue;
    boolean shutdownDue;
    /** The host socket may have bytes or room; the guest must not be sent data beyond its credit. */
    boolean readable;
    boolean hostClosed;
    boolean guestShutSend;
    /** The guest closed both ways: the reset that ends the stream waits until the host socket has all the guest sent. */
    boolean closeWhenFlushed;
    boolean queued;
    /** Closed on the host side and gone from the device's connections: only a reset may still be owed. */
    boolean closed;

    Connection(SocketChannel channel, SelectionKey key, int hostPort, int guestPort, State state) {
        this.channel = channel;
        this.key = key;
        this.hostPort = hostPort;
        this.guestPort = guestPort;
        this.state = state;
        toHost.flip();
    }

    /** How many bytes the guest can take now. */
    long guestCredit() {
        return Math.max(0, peerBufferSize - (sentToGuest - peerForwarded));
    }

    /** Bytes of the guest's waiting to be taken by the host socket. */
    int pending() {
        return toHost.remaining();
    }

    /** Writes what the guest sent to the host socket, as much as it takes now; returns how many bytes that was. */
    int flush() throws IOException {
        int written = toHost.hasRemaining() ? channel.write(toHost) : 0;
        forwarded += written;
        if (forwarded - advertisedForwarded >= BUFFER / 2 || (!toHost.hasRemaining() && forwarded != advertisedForwarded && written > 0)) {
            creditUpdateDue = true;
        }
        return written;
    }

    /** Room left after what waits, for bytes the guest sends: its credit keeps it within BUFFER. */
    boolean fits(long length) {
        return toHost.limit() + length <= toHost.capacity() || toHost.remaining() + length <= toHost.capacity();
    }

    /** Copies {@code length} bytes the guest sent (through {@code copier}) behind what waits. */
    void append(int length, Copier copier) {
        if (toHost.limit() + length > toHost.capacity()) {
            toHost.compact().flip();
        }
        int at = toHost.limit();
        copier.copy(toHostMemory, at, length);
        toHost.limit(at + length);
    }

    @FunctionalInterface
    interface Copier {
        void copy(MemorySegment target, long offset, int length);
    }

    void close() {
        closed = true;
        key.cancel();
        try {
            channel.close();
        } catch (IOException e) {
            // Closing a Unix socket the peer may already have closed: nothing to do about it.
        }
    }
}
