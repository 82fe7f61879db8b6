package dev.machina.hypervisor;

/**
 * A backend as {@link java.util.ServiceLoader} finds it. Probing is cheap and has no lasting
 * effect; opening may fail with a {@link HypervisorException} that says why.
 */
public interface HypervisorProvider {
    /** The name {@code --backend} uses for it. */
    String name();

    /** Whether this backend can run here, and whether it runs guests on hardware virtualization. */
    Availability probe();

    Hypervisor open();

    /**
     * The most RAM this backend can give a guest on this host, checked before anything is opened
     * or mapped so that a size beyond it is one line rather than a failure deep in a backend.
     */
    MemoryLimit memoryLimit();

    /**
     * What a probe found: {@code usable} says the backend can open at all, {@code accelerated}
     * that it runs guest code on hardware virtualization; {@code detail} says why, in a few words.
     */
    record Availability(boolean usable, boolean accelerated, String detail) {
    }

    /** At most {@code bytes} of guest RAM; {@code reason} says what sets the bound, in a few words. */
    record MemoryLimit(long bytes, String reason) {
        /** The tighter of the two. */
        public MemoryLimit min(MemoryLimit other) {
            return other.bytes < bytes ? other : this;
        }
    }
}
