package dev.machina.vmm.devices.virtio.net;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Where a network device's frames go and come from on the host. Every frame crosses this interface
 * as virtio-net sees it: a {@link NetDevice#HEADER_SIZE}-byte {@code virtio_net_hdr} (checksum and
 * segmentation offload), then the Ethernet frame.
 *
 * <p>Threading: {@link #receive} and {@link #transmit} are called on the device's worker, and
 * {@link #awaitFrames} and {@link #stopWaiting} on the device's receive watcher; a backend keeps
 * the two sides apart.
 */
sealed interface NetBackend extends AutoCloseable permits TapBackend, PasstBackend {
    /** The offload feature bits (VIRTIO_NET_F_CSUM, GUEST_TSO4...) this backend can carry. */
    long offloads();

    /** The device's negotiated features, so that the host sends only what the guest accepts. */
    void negotiated(long features) throws IOException;

    /** The MTU the guest is told (VIRTIO_NET_F_MTU). */
    int mtu();

    /**
     * Reads the next frame waiting on the host side into {@code buffer}, header first, without
     * blocking, and returns its length with the header, or 0 if none waits.
     *
     * @throws IOException if the host side failed for good
     */
    int receive(MemorySegment buffer) throws IOException;

    /**
     * Sends {@code length} bytes of {@code buffer} (header, then frame) to the host side; returns
     * whether the host took it.
     */
    boolean transmit(MemorySegment buffer, int length) throws IOException;

    /** Blocks until frames may be waiting or {@link #stopWaiting} is called. */
    void awaitFrames() throws IOException;

    /** Ends the current or next {@link #awaitFrames}, from another thread. */
    void stopWaiting();

    /** What the device line says about this backend. */
    String describe();

    @Override
    void close();
}
