package dev.machina.vmm.devices.virtio.net;

/** virtio-net's feature bits (virtio 1.2, 5.1.3) that Machina offers. */
final class NetFeatures {
    /** The guest may leave checksums to the host (partial checksums in its frames). */
    static final int CSUM = 0;
    /** The guest takes frames with partial checksums. */
    static final int GUEST_CSUM = 1;
    static final int MTU = 3;
    static final int MAC = 5;
    static final int GUEST_TSO4 = 7;
    static final int GUEST_TSO6 = 8;
    static final int GUEST_ECN = 9;
    static final int HOST_TSO4 = 11;
    static final int HOST_TSO6 = 12;
    static final int HOST_ECN = 13;
    static final int STATUS = 16;

    private NetFeatures() {
    }

    static boolean has(long features, int bit) {
        return (features & (1L << bit)) != 0;
    }
}
