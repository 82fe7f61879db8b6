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
     * What a probe found: {@code usable} says the backend can open at all, {@code accelerated}
     * that it runs guest code on hardware virtualization; {@code detail} says why, in a few words.
     */
    record Availability(boolean usable, boolean accelerated, String detail) {
    }
}
