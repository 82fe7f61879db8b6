package dev.machina.kvm;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Hypervisor;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.x86.X86MemoryMap;

/** The KVM backend, holding {@code /dev/kvm} open while guests are created. */
final class KvmHypervisor implements Hypervisor {
    private final KvmSystem system;

    KvmHypervisor(KvmSystem system) {
        this.system = system;
    }

    @Override
    public String name() {
        return KvmProvider.NAME;
    }

    @Override
    public Guest createGuest(long memoryBytes) {
        GuestMemory memory = GuestMemory.allocate(X86MemoryMap.ram(memoryBytes));
        try {
            return new KvmGuest(system, memory);
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    /** Closes {@code /dev/kvm}; guests created meanwhile go on, for each VM holds its own reference. */
    @Override
    public void close() {
        system.close();
    }
}
