package dev.machina.vmm.devices.virtio.net;

import dev.machina.hypervisor.os.Posix;
import dev.machina.hypervisor.os.PosixException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A host TAP interface (opened through /dev/net/tun, made if it does not exist) with a virtio-net
 * header on every frame (IFF_VNET_HDR), so that checksums and TCP segmentation pass between guest
 * and host kernel as offloads and large transfers are never segmented in Java. The descriptor is
 * non-blocking; the receive watcher waits in poll(2) on it and on an eventfd that stops the wait.
 */
final class TapBackend implements NetBackend {
    private static final long TUNSETIFF = 0x4004_54CAL;
    private static final long TUNSETOFFLOAD = 0x4004_54D0L;
    private static final long TUNSETVNETHDRSZ = 0x4004_54D8L;
    private static final short IFF_TAP = 0x0002;
    private static final short IFF_NO_PI = 0x1000;
    private static final short IFF_VNET_HDR = 0x4000;
    private static final int IFREQ_SIZE = 40;
    private static final int IFREQ_FLAGS = 16;
    /** The TUN_F_ bits TUNSETOFFLOAD takes: what the reader of the TAP (the guest) accepts. */
    private static final int TUN_F_CSUM = 0x01;
    private static final int TUN_F_TSO4 = 0x02;
    private static final int TUN_F_TSO6 = 0x04;
    private static final int TUN_F_TSO_ECN = 0x08;
    private static final int EFD_NONBLOCK = 0x800;
    private static final int EFD_CLOEXEC = 0x80000;
    private static final short POLLIN = 1;
    private static final int POLLFD_SIZE = 8;
    private static final int MTU = 1500;
    /** Guest transmit offloads the kernel always accepts in a vnet header, and the receive ones TUNSETOFFLOAD can grant. */
    private static final long OFFLOADS = 1L << NetFeatures.CSUM | 1L << NetFeatures.HOST_TSO4 | 1L << NetFeatures.HOST_TSO6
            | 1L << NetFeatures.HOST_ECN | 1L << NetFeatures.GUEST_CSUM | 1L << NetFeatures.GUEST_TSO4
            | 1L << NetFeatures.GUEST_TSO6 | 1L << NetFeatures.GUEST_ECN;
    private static final MethodHandle EVENTFD = Posix.errnoCall("eventfd", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle POLL = Posix.errnoCall("poll", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);

    private final String name;
    private final int tap;
    private final int stop;
    private final Arena arena = Arena.ofShared();
    /** The watcher's poll set (the TAP, then the eventfd) and eventfd counter, reused for every wait. */
    private final MemorySegment pollSet = arena.allocate(2 * POLLFD_SIZE);
    private final MemorySegment counter = arena.allocate(JAVA_LONG);
    /** The stopper's eventfd increment, apart from the watcher's counter. */
    private final MemorySegment one = arena.allocate(JAVA_LONG);

    /**
     * Attaches to TAP interface {@code name}, making it if there is none.
     *
     * @throws IOException saying why the interface could not be had (no permission, in use...)
     */
    TapBackend(String name) throws IOException {
        this.name = name;
        int fd = -1;
        try {
            fd = Posix.open("/dev/net/tun", Posix.O_RDWR | Posix.O_NONBLOCK);
            MemorySegment request = arena.allocate(IFREQ_SIZE);
            byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, request, 0, bytes.length);
            request.set(JAVA_SHORT, IFREQ_FLAGS, (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR));
            Posix.ioctl(fd, TUNSETIFF, request, "TUNSETIFF(" + name + ")");
            MemorySegment headerSize = arena.allocateFrom(JAVA_INT, NetDevice.HEADER_SIZE);
            Posix.ioctl(fd, TUNSETVNETHDRSZ, headerSize, "TUNSETVNETHDRSZ");
            Posix.ioctl(fd, TUNSETOFFLOAD, 0, "TUNSETOFFLOAD");
            this.stop = (int) Posix.checked("eventfd", () -> (int) EVENTFD.invokeExact(Posix.errnoCapture(), 0, EFD_NONBLOCK | EFD_CLOEXEC));
        } catch (PosixException e) {
            if (fd >= 0) {
                Posix.close(fd);
            }
            arena.close();
            throw new IOException("TAP interface " + name + ": " + e.getMessage(), e);
        }
        this.tap = fd;
        pollSet.set(JAVA_INT, 0, tap);
        pollSet.set(JAVA_SHORT, 4, POLLIN);
        pollSet.set(JAVA_INT, POLLFD_SIZE, stop);
        pollSet.set(JAVA_SHORT, POLLFD_SIZE + 4, POLLIN);
        one.set(JAVA_LONG, 0, 1);
    }

    @Override
    public long offloads() {
        return OFFLOADS;
    }

    /** Tells the kernel which offloaded frames the guest takes: none unless it negotiated them. */
    @Override
    public void negotiated(long features) throws IOException {
        int flags = 0;
        if (NetFeatures.has(features, NetFeatures.GUEST_CSUM)) {
            flags |= TUN_F_CSUM;
            flags |= NetFeatures.has(features, NetFeatures.GUEST_TSO4) ? TUN_F_TSO4 : 0;
            flags |= NetFeatures.has(features, NetFeatures.GUEST_TSO6) ? TUN_F_TSO6 : 0;
            flags |= NetFeatures.has(features, NetFeatures.GUEST_ECN) ? TUN_F_TSO_ECN : 0;
        }
        try {
            Posix.ioctl(tap, TUNSETOFFLOAD, flags, "TUNSETOFFLOAD");
        } catch (PosixException e) {
            throw new IOException("TAP interface " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public int mtu() {
        return MTU;
    }

    @Override
    public int receive(MemorySegment buffer) throws IOException {
        long read = Posix.readOrErrno(tap, buffer, buffer.byteSize());
        if (read == -Posix.EAGAIN || read == -Posix.EINTR) {
            return 0;
        }
        if (read < 0) {
            throw new IOException("reading TAP interface %s: %s".formatted(name, Posix.describe((int) -read)));
        }
        return (int) read;
    }

    @Override
    public boolean transmit(MemorySegment buffer, int length) {
        // A TAP write takes the whole frame or fails (a malformed header, the interface down): never in part.
        return Posix.writeOrErrno(tap, buffer, length) == length;
    }

    @Override
    public void awaitFrames() throws IOException {
        while (true) {
            try {
                Posix.checked("poll", () -> (int) POLL.invokeExact(Posix.errnoCapture(), pollSet, 2L, -1));
                break;
            } catch (PosixException e) {
                if (e.errno() != Posix.EINTR) {
                    throw new IOException("waiting for TAP interface " + name + ": " + e.getMessage(), e);
                }
            }
        }
        if (pollSet.get(JAVA_SHORT, POLLFD_SIZE + 6) != 0) {
            Posix.readOrErrno(stop, counter, Long.BYTES); // consumed, so that the next wait waits
        }
    }

    @Override
    public void stopWaiting() {
        Posix.writeOrErrno(stop, one, Long.BYTES);
    }

    @Override
    public String describe() {
        return "TAP " + name;
    }

    @Override
    public void close() {
        Posix.close(tap);
        Posix.close(stop);
        arena.close();
    }
}
