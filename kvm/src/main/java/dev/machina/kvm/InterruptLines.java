package dev.machina.kvm;

/**
 * The guest's interrupt lines (GSIs of the in-kernel PIC and IOAPIC), driven through irqfds so a
 * device raises one with a single eventfd write and no ioctl:
 * <ul>
 * <li>a pulse (an edge) signals the line's plain irqfd, with which KVM raises and lowers the line;
 * <li>a level signals the line's resampling irqfd, which holds the line asserted until the guest's
 *     EOI; KVM then lowers it and signals the resamplefd, and the line is asserted again at once if
 *     the device still holds it. A device that lowers its line before the EOI leaves it asserted
 *     until that EOI (the guest may see one interrupt with nothing pending, as on shared PCI lines).
 * </ul>
 * A line's eventfds are created on its first use; afterwards driving it allocates nothing.
 */
final class InterruptLines implements AutoCloseable {
    /** The lines KVM routes by default: IOAPIC pins 0-23 (0-15 also reach the PIC). */
    static final int COUNT = 24;

    /** One line's eventfds and the level its device holds. */
    private static final class Line {
        final int gsi;
        final EventFd edge = EventFd.create();
        final EventFd level = EventFd.create();
        final EventFd resample = EventFd.create();
        volatile boolean asserted;

        Line(int gsi) {
            this.gsi = gsi;
        }

        void set(boolean value) {
            asserted = value;
            if (value) {
                level.signal();
            }
        }

        /** After the guest's EOI lowered the line: raise it again while the device holds it. */
        void resample() {
            if (asserted) {
                level.signal();
            }
        }

        void close() {
            edge.close();
            level.close();
            resample.close();
        }
    }

    private final KvmVm vm;
    private final EventFdLoop loop;
    private final Line[] lines = new Line[COUNT];

    InterruptLines(KvmVm vm, EventFdLoop loop) {
        this.vm = vm;
        this.loop = loop;
    }

    void set(int gsi, boolean asserted) {
        line(gsi).set(asserted);
    }

    void pulse(int gsi) {
        line(gsi).edge.signal();
    }

    private Line line(int gsi) {
        if (gsi < 0 || gsi >= COUNT) {
            throw new IllegalArgumentException("interrupt line " + gsi + " does not exist (0.." + (COUNT - 1) + ")");
        }
        Line line = lines[gsi];
        return line != null ? line : bind(gsi);
    }

    private synchronized Line bind(int gsi) {
        if (lines[gsi] != null) {
            return lines[gsi];
        }
        Line line = new Line(gsi);
        try {
            vm.assignIrqfd(line.edge, gsi);
            vm.assignResamplingIrqfd(line.level, line.resample, gsi);
            loop.watch(line.resample, "resampling of interrupt line " + gsi, line::resample);
        } catch (RuntimeException e) {
            line.close();
            throw e;
        }
        lines[gsi] = line;
        return line;
    }

    @Override
    public synchronized void close() {
        for (Line line : lines) {
            if (line != null) {
                loop.unwatch(line.resample);
                vm.deassignIrqfd(line.edge, line.gsi);
                vm.deassignIrqfd(line.level, line.gsi);
                line.close();
            }
        }
    }
}
