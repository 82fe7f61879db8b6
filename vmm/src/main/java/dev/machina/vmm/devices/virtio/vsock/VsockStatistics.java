package dev.machina.vmm.devices.virtio.vsock;

import java.util.concurrent.atomic.LongAdder;

/** What a vsock device has carried: streams, bytes each way, and what it refused. */
public final class VsockStatistics {
    private final LongAdder connections = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder bytesToGuest = new LongAdder();
    private final LongAdder bytesFromGuest = new LongAdder();
    private final LongAdder malformed = new LongAdder();

    void connected() {
        connections.increment();
    }

    void connectionRefused() {
        refused.increment();
    }

    void toGuest(long bytes) {
        bytesToGuest.add(bytes);
    }

    void fromGuest(long bytes) {
        bytesFromGuest.add(bytes);
    }

    void malformed() {
        malformed.increment();
    }

    /** Streams established, either way. */
    public long connections() {
        return connections.sum();
    }

    /** Guest connections to host ports with no listener. */
    public long refused() {
        return refused.sum();
    }

    public long bytesToGuest() {
        return bytesToGuest.sum();
    }

    public long bytesFromGuest() {
        return bytesFromGuest.sum();
    }

    /** Packets the guest got wrong (bad header, beyond its credit) and receive buffers too small for a header. */
    public long malformedPackets() {
        return malformed.sum();
    }
}
