package dev.machina.vmm.devices.virtio.net;

import java.util.concurrent.atomic.LongAdder;

/** What a network device has carried, for the statistics a user asks for: frames and bytes each way, and every frame dropped, by why. */
public final class NetStatistics {
    /** Why a frame went no further; each is counted, none is silent. */
    public enum Drop {
        /** A frame from the host did not fit the guest's receive buffer (a frame longer than the MTU the guest was told). */
        LARGER_THAN_GUEST_BUFFER("received frames larger than the guest's buffer"),
        /** A transmit chain shorter than the virtio-net header or longer than the largest frame. */
        MALFORMED_TRANSMIT("transmitted chains without a header or too long"),
        /** The host side refused a frame (an interface that is down, a malformed offload header). */
        REFUSED_BY_HOST("transmitted frames the host refused");

        private final String description;

        Drop(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    private final LongAdder received = new LongAdder();
    private final LongAdder bytesReceived = new LongAdder();
    private final LongAdder transmitted = new LongAdder();
    private final LongAdder bytesTransmitted = new LongAdder();
    private final LongAdder[] drops = new LongAdder[Drop.values().length];

    NetStatistics() {
        for (int i = 0; i < drops.length; i++) {
            drops[i] = new LongAdder();
        }
    }

    void received(long bytes) {
        received.increment();
        bytesReceived.add(bytes);
    }

    void transmitted(long bytes) {
        transmitted.increment();
        bytesTransmitted.add(bytes);
    }

    void drop(Drop why) {
        drops[why.ordinal()].increment();
    }

    /** Frames handed to the guest. */
    public long received() {
        return received.sum();
    }

    /** Their bytes, Ethernet header included, virtio-net header not. */
    public long bytesReceived() {
        return bytesReceived.sum();
    }

    /** Frames the guest sent that the host took. */
    public long transmitted() {
        return transmitted.sum();
    }

    public long bytesTransmitted() {
        return bytesTransmitted.sum();
    }

    public long dropped(Drop why) {
        return drops[why.ordinal()].sum();
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("received %,d frames (%,d bytes), transmitted %,d frames (%,d bytes)"
                .formatted(received(), bytesReceived(), transmitted(), bytesTransmitted()));
        for (Drop why : Drop.values()) {
            text.append(", %,d %s".formatted(dropped(why), why.description()));
        }
        return text.toString();
    }
}
