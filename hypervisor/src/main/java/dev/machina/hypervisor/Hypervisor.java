package dev.machina.hypervisor;

/** A backend that runs guests: KVM, or the pure-Java CPU. */
public interface Hypervisor extends AutoCloseable {
    /** The name {@code --backend} uses for it. */
    String name();

    /** Creates a guest with {@code memoryBytes} of RAM laid out as {@link dev.machina.hypervisor.x86.X86MemoryMap} says. */
    Guest createGuest(long memoryBytes);

    @Override
    default void close() {
    }
}
