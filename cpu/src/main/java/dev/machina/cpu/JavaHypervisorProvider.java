package dev.machina.cpu;

import dev.machina.cpu.decode.CodeCache;
import dev.machina.cpu.mmu.Mmu;
import dev.machina.hypervisor.Hypervisor;
import dev.machina.hypervisor.HypervisorProvider;
import dev.machina.hypervisor.x86.X86MemoryMap;

/** The pure-Java backend as {@link java.util.ServiceLoader} finds it: always usable, never accelerated. */
public final class JavaHypervisorProvider implements HypervisorProvider {
    public static final String NAME = "java";
    /** The share of the heap the code cache's tables may take: the rest holds the decoded code, the translator's work and a kernel being loaded. */
    private static final int HEAP_SHARE = 4;
    /** HotSpot compresses references in heaps below 32 GiB, to 4 bytes. */
    private static final long COMPRESSED_REFERENCES_BELOW = 32L << 30;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Availability probe() {
        return new Availability(true, false, "pure-Java x86-64 CPU");
    }

    @Override
    public Hypervisor open() {
        return new JavaHypervisor();
    }

    @Override
    public MemoryLimit memoryLimit() {
        return memoryLimit(Runtime.getRuntime().maxMemory());
    }

    /** The limit with a heap of at most {@code maxHeap} bytes. */
    static MemoryLimit memoryLimit(long maxHeap) {
        MemoryLimit addressable = new MemoryLimit(X86MemoryMap.maxRam(Mmu.PHYSICAL_ADDRESS_BITS),
                "the Java CPU's %d-bit physical addresses, less the 1 GiB hole below 4 GiB".formatted(Mmu.PHYSICAL_ADDRESS_BITS));
        int referenceBytes = maxHeap < COMPRESSED_REFERENCES_BELOW ? 4 : 8;
        long tables = CodeCache.maxRam(maxHeap / HEAP_SHARE, referenceBytes) & -(1L << 30);
        return addressable.min(new MemoryLimit(tables, ("the Java CPU's code cache takes %d bytes of heap per 4 KiB of RAM, "
                + "up to a quarter of this JVM's %d MiB heap: -Xmx in scripts/jvm.options")
                .formatted(2 * referenceBytes, maxHeap >> 20)));
    }
}
