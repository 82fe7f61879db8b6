package dev.machina.kvm;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.spi.Traps;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A guest's doorbells as KVM ioeventfds: each doorbell of a BELL trap is an eventfd that KVM
 * signals when the guest writes there, without the vCPU leaving the kernel; the guest's
 * {@link EventFdLoop} then calls the trap's handler with the doorbell's offset.
 */
final class IoeventfdBells implements AutoCloseable {
    /** One doorbell: its guest-physical address and its eventfd. */
    private record Bell(long address, EventFd eventFd) {
    }

    private final KvmVm vm;
    private final EventFdLoop loop;
    private final Map<Traps.Registration, List<Bell>> byTrap = new HashMap<>();

    IoeventfdBells(KvmVm vm, EventFdLoop loop) {
        this.vm = vm;
        this.loop = loop;
    }

    /** Registers an ioeventfd for every doorbell of {@code trap}. */
    synchronized void attach(Traps.Registration trap) {
        List<Bell> bells = new ArrayList<>();
        try {
            for (long offset = 0; offset < trap.range().size(); offset += Guest.BELL_STRIDE) {
                Bell bell = new Bell(trap.range().start() + offset, EventFd.create());
                try {
                    vm.assignIoeventfd(bell.eventFd, bell.address);
                } catch (RuntimeException e) {
                    bell.eventFd.close();
                    throw e;
                }
                bells.add(bell);
                long rung = offset;
                loop.watch(bell.eventFd, "doorbell handler of " + trap, () -> trap.bellHandler().ring(rung));
            }
        } catch (RuntimeException e) {
            release(bells);
            throw e;
        }
        byTrap.put(trap, bells);
    }

    /** Unregisters the doorbells of {@code trap}; a ring already signalled may still be delivered. */
    synchronized void detach(Traps.Registration trap) {
        List<Bell> bells = byTrap.remove(trap);
        if (bells != null) {
            release(bells);
        }
    }

    private void release(List<Bell> bells) {
        for (Bell bell : bells) {
            loop.unwatch(bell.eventFd);
            vm.deassignIoeventfd(bell.eventFd, bell.address);
            bell.eventFd.close();
        }
    }

    /** Unregisters every doorbell. */
    @Override
    public synchronized void close() {
        byTrap.values().forEach(this::release);
        byTrap.clear();
    }
}
