package dev.machina.vmm.devices.virtio.net;

import dev.machina.vmm.config.MacAddress;
import dev.machina.vmm.devices.virtio.Activation;
import dev.machina.vmm.devices.virtio.Threads;
import dev.machina.vmm.devices.virtio.VirtioDevice;
import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * virtio-net (device id 1), one receive and one transmit queue, over a {@link NetBackend}: a TAP
 * interface ({@link #tap}) or passt's user-mode network ({@link #userMode}). The guest is told its
 * MAC address, that the link is up, and the MTU; the offloads the backend carries are offered.
 *
 * <p>Frames from the host are read one at a time into a staging buffer on the worker, when the
 * guest has a receive buffer for them; while there are none, frames wait on the host side (the
 * TAP's queue, passt's socket). A watcher thread waits for the host side to become readable once
 * the worker has found it empty, and wakes the receive queue. Frames are never dropped without a
 * count in {@link #statistics}.
 */
public final class NetDevice implements VirtioDevice, AutoCloseable {
    public static final int DEVICE_TYPE = 1;
    /** struct virtio_net_hdr with num_buffers, as VERSION_1 always has it. */
    public static final int HEADER_SIZE = 12;
    /** The largest frame with its header: a 64 KiB segmentation-offloaded packet, Ethernet and VLAN headers included. */
    static final int MAX_FRAME = HEADER_SIZE + 65_536 + 18;
    private static final int RECEIVE = 0;
    private static final int TRANSMIT = 1;
    private static final int QUEUE_SIZE = 256;
    private static final int PCI_CLASS_ETHERNET = 0x02_00_00;
    private static final int NUM_BUFFERS = 10;
    /** struct virtio_net_config: mac[6], status, max_virtqueue_pairs, mtu. */
    private static final int CONFIG_SIZE = 12;
    private static final int LINK_UP = 1;

    private final String name;
    private final NetBackend backend;
    private final MacAddress mac;
    private final Consumer<String> log;
    private final NetStatistics statistics = new NetStatistics();
    private final byte[] config = new byte[CONFIG_SIZE];
    private final Arena arena = Arena.ofShared();
    private final MemorySegment received = arena.allocate(MAX_FRAME);
    private final MemorySegment transmitted = arena.allocate(MAX_FRAME);
    /** The length of the frame in {@link #received} not yet given to the guest; 0 if none. Worker only. */
    private int receivedLength;
    private boolean receiveFailed;
    private volatile Watcher watcher;

    private NetDevice(String name, NetBackend backend, MacAddress mac, Consumer<String> log) {
        this.name = name;
        this.backend = backend;
        this.mac = mac;
        this.log = log;
        for (int i = 0; i < 6; i++) {
            config[i] = (byte) mac.octet(i);
        }
        config[6] = LINK_UP;
        config[8] = 1; // one queue pair
        config[10] = (byte) backend.mtu();
        config[11] = (byte) (backend.mtu() >>> 8);
    }

    /**
     * A device on TAP interface {@code interfaceName} of the host, made if it does not exist.
     *
     * @throws IOException saying why the interface could not be had
     */
    public static NetDevice tap(String name, String interfaceName, MacAddress mac, Consumer<String> log) throws IOException {
        return new NetDevice(name, new TapBackend(interfaceName), mac, log);
    }

    /**
     * A device on a passt process of its own: DHCP, DNS, outbound TCP and UDP, and the host's
     * loopback at the gateway's address.
     *
     * @throws IOException if passt is not installed (the message says which package to install) or fails to start
     */
    public static NetDevice userMode(String name, MacAddress mac, Consumer<String> log) throws IOException {
        return new NetDevice(name, PasstBackend.start(), mac, log);
    }

    public NetStatistics statistics() {
        return statistics;
    }

    public MacAddress mac() {
        return mac;
    }

    /** The host side, for the device line. */
    public String describe() {
        return backend.describe() + ", MAC " + mac + ", MTU " + backend.mtu();
    }

    @Override
    public int deviceType() {
        return DEVICE_TYPE;
    }

    @Override
    public int pciClass() {
        return PCI_CLASS_ETHERNET;
    }

    @Override
    public long features() {
        return 1L << NetFeatures.MAC | 1L << NetFeatures.STATUS | 1L << NetFeatures.MTU | backend.offloads();
    }

    @Override
    public int[] queueSizes() {
        return new int[] {QUEUE_SIZE, QUEUE_SIZE};
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public long readConfig(int offset, int size) {
        long value = 0;
        for (int i = Math.min(offset + size, CONFIG_SIZE) - 1; i >= offset; i--) {
            value = value << 8 | (config[i] & 0xFF);
        }
        return value;
    }

    @Override
    public synchronized void activate(Activation activation) {
        try {
            backend.negotiated(activation.features());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        watcher = new Watcher(activation);
    }

    @Override
    public boolean canServe(int index) {
        if (index != RECEIVE || receivedLength > 0) {
            return true;
        }
        if (receiveFailed) {
            return false;
        }
        try {
            receivedLength = backend.receive(received);
        } catch (IOException e) {
            // The host side is gone (passt exited): the guest's link stays up but quiet; transmits fail and are counted.
            receiveFailed = true;
            log.accept(name + ": " + e.getMessage() + "; nothing more is received");
            return false;
        }
        if (receivedLength == 0) {
            watcher.drained();
            return false;
        }
        return true;
    }

    @Override
    public void serve(int index, SplitQueue queue, DescriptorChain chain) {
        if (index == RECEIVE) {
            queue.add(chain.head(), deliver(chain));
        } else {
            send(chain);
            queue.add(chain.head(), 0);
        }
    }

    /** Writes the staged frame into the guest's buffer and returns its length, or drops it (0) if it does not fit. */
    private int deliver(DescriptorChain chain) {
        int length = receivedLength;
        receivedLength = 0;
        if (length > chain.writableBytes()) {
            statistics.drop(NetStatistics.Drop.LARGER_THAN_GUEST_BUFFER);
            return 0;
        }
        received.set(JAVA_SHORT_UNALIGNED, NUM_BUFFERS, (short) 1);
        chain.write(0, received, 0, length);
        statistics.received(length - HEADER_SIZE);
        return length;
    }

    private void send(DescriptorChain chain) {
        long length = chain.readableBytes();
        if (length < HEADER_SIZE || length > MAX_FRAME) {
            statistics.drop(NetStatistics.Drop.MALFORMED_TRANSMIT);
            return;
        }
        chain.read(0, transmitted, 0, length);
        boolean taken;
        try {
            taken = backend.transmit(transmitted, (int) length);
        } catch (IOException e) {
            taken = false;
        }
        if (taken) {
            statistics.transmitted(length - HEADER_SIZE);
        } else {
            statistics.drop(NetStatistics.Drop.REFUSED_BY_HOST);
        }
    }

    @Override
    public synchronized void reset() {
        if (watcher != null) {
            watcher.stop();
            watcher = null;
        }
    }

    /** Stops receiving and lets the host side go (the TAP closed, passt stopped); after the transport is closed. */
    @Override
    public void close() {
        reset();
        backend.close();
        arena.close();
    }

    /**
     * The thread that waits, while the worker has found the host side empty, for frames to arrive,
     * and then wakes the receive queue: the worker itself never blocks on the host.
     */
    private final class Watcher {
        private final Thread thread;
        private final Activation activation;
        private volatile boolean empty = true;
        private volatile boolean running = true;

        Watcher(Activation activation) {
            this.activation = activation;
            this.thread = Thread.ofPlatform().daemon().name(name + "-receive").start(this::loop);
        }

        /** On the worker: the host side had nothing; wait for it again. */
        void drained() {
            empty = true;
            LockSupport.unpark(thread);
        }

        void stop() {
            running = false;
            backend.stopWaiting();
            LockSupport.unpark(thread);
            Threads.joinUninterruptibly(thread);
        }

        private void loop() {
            try {
                while (running) {
                    if (!empty) {
                        LockSupport.park(this);
                        continue;
                    }
                    empty = false;
                    backend.awaitFrames();
                    if (running) {
                        activation.wake().accept(RECEIVE);
                    }
                }
            } catch (IOException | RuntimeException e) {
                log.accept(name + ": waiting for frames: " + e.getMessage() + "; nothing more is received");
            }
        }
    }
}
