package dev.machina.kvm;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The guest's interrupt lines (GSIs of the in-kernel PIC and IOAPIC). A pulse, the edge a device
 * raises per event, is a write to an irqfd bound to the line: KVM raises and lowers the line
 * itself. A level a device holds goes through KVM_IRQ_LINE, which keeps the line asserted until
 * the device lowers it. Neither allocates once the line's irqfd exists.
 */
final class InterruptLines implements AutoCloseable {
    /** The lines KVM routes by default: IOAPIC pins 0-23 (0-15 also reach the PIC). */
    static final int COUNT = 24;

    private final KvmVm vm;
    private final AtomicReferenceArray<EventFd> irqfds = new AtomicReferenceArray<>(COUNT);

    InterruptLines(KvmVm vm) {
        this.vm = vm;
    }

    void set(int gsi, boolean asserted) {
        vm.setIrqLine(checked(gsi), asserted);
    }

    void pulse(int gsi) {
        EventFd irqfd = irqfds.get(checked(gsi));
        if (irqfd == null) {
            irqfd = bind(gsi);
        }
        irqfd.signal();
    }

    private synchronized EventFd bind(int gsi) {
        EventFd existing = irqfds.get(gsi);
        if (existing != null) {
            return existing;
        }
        EventFd irqfd = EventFd.create();
        try {
            vm.assignIrqfd(irqfd, gsi);
        } catch (RuntimeException e) {
            irqfd.close();
            throw e;
        }
        irqfds.set(gsi, irqfd);
        return irqfd;
    }

    private static int checked(int gsi) {
        if (gsi < 0 || gsi >= COUNT) {
            throw new IllegalArgumentException("interrupt line " + gsi + " does not exist (0.." + (COUNT - 1) + ")");
        }
        return gsi;
    }

    @Override
    public synchronized void close() {
        for (int gsi = 0; gsi < COUNT; gsi++) {
            EventFd irqfd = irqfds.getAndSet(gsi, null);
            if (irqfd != null) {
                vm.deassignIrqfd(irqfd, gsi);
                irqfd.close();
            }
        }
    }
}
