package dev.machina.cpu.chipset;

import dev.machina.hypervisor.Trap;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.spi.Traps;
import dev.machina.hypervisor.x86.X86MemoryMap;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * The chipset of one guest of the Java backend, wired as KVM's in-kernel irqchip with QEMU's
 * routing: the PIC pair, the IOAPIC, the PIT with port 0x61, and a local APIC per vCPU on one
 * {@link ApicBus}. The PIT drives ISA IRQ 0, which reaches PIC IRQ 0 and IOAPIC pin 2 (the ACPI
 * interrupt source override the guest is given); GSIs 0-15 reach PIC IRQ n (except the cascade,
 * 2) and IOAPIC pin n, GSIs 16-23 the IOAPIC alone. The PIC's INTR goes to the boot processor's
 * LINT0.
 *
 * <p>The local APICs are not traps: each vCPU routes accesses to its own APIC's page to its own
 * {@link LocalApic}. {@link #close()} stops the timer thread.
 */
public final class Chipset implements AutoCloseable {
    public static final int GSI_COUNT = IoApic.PINS;
    private static final int ISA_IRQS = 16;
    private static final int PIT_IOAPIC_PIN = 2;

    private final LongSupplier clock;
    private final long tscOrigin;
    private final Pic pic = new Pic();
    private final IoApic ioApic;
    private final ApicBus bus;
    private final Pit pit;
    private final TimerThread timer;
    private volatile LocalApic[] apics = {};

    /** The chipset of a guest whose traps are {@code traps}, on the host's {@link System#nanoTime()} clock. */
    public Chipset(String guestName, Traps traps) {
        this(guestName, traps, System::nanoTime);
    }

    Chipset(String guestName, Traps traps, LongSupplier clock) {
        this.clock = clock;
        this.tscOrigin = clock.getAsLong();
        this.bus = new ApicBus(this::endOfInterrupt, pic::acknowledge);
        this.ioApic = new IoApic(bus);
        this.pit = new Pit(clock, this::pulsePitIrq, this::wakeTimer);
        this.timer = new TimerThread(guestName + "-chipset-timer", pit, clock);
        register(traps, Trap.Kind.MEM, X86MemoryMap.IOAPIC_BASE, IoApic.SIZE, ioApic);
        register(traps, Trap.Kind.IO, Pic.MASTER_PORT, Pic.PORTS, pic.master());
        register(traps, Trap.Kind.IO, Pic.SLAVE_PORT, Pic.PORTS, pic.slave());
        register(traps, Trap.Kind.IO, Pic.ELCR_PORT, Pic.PORTS, pic.elcr());
        register(traps, Trap.Kind.IO, Pit.PORT, Pit.PORTS, pit);
        register(traps, Trap.Kind.IO, Pit.SYSTEM_CONTROL_PORT, 1, pit.systemControlPort());
        timer.start();
    }

    private static void register(Traps traps, Trap.Kind kind, long start, long size, TrapHandler handler) {
        traps.add(kind, new AddressRange(start, size), handler, registration -> { });
    }

    /**
     * Creates the local APIC of vCPU {@code vcpuId} (its APIC ID; 0 is the boot processor, whose
     * LINT0 the PIC drives), with its own TSC. Call once per vCPU, on any thread.
     */
    public synchronized LocalApic localApic(int vcpuId, ProcessorControl control) {
        if (vcpuId < 0 || vcpuId >= ApicBus.BROADCAST) {
            throw new IllegalArgumentException("vCPU " + vcpuId + " has no xAPIC ID (0..254)");
        }
        if (vcpuId < apics.length && apics[vcpuId] != null) {
            throw new IllegalArgumentException("vCPU " + vcpuId + " has a local APIC already");
        }
        LocalApic apic = new LocalApic(vcpuId, control, bus, new Tsc(clock, tscOrigin), clock);
        LocalApic[] grown = Arrays.copyOf(apics, Math.max(apics.length, vcpuId + 1));
        grown[vcpuId] = apic;
        apics = grown;
        if (vcpuId == 0) {
            pic.connectOutput(apic::setLint0);
        }
        return apic;
    }

    /** How many local APICs, and so vCPUs, the guest has: the cores of its one processor package. */
    public int processorCount() {
        int count = 0;
        for (LocalApic apic : apics) {
            count += apic != null ? 1 : 0;
        }
        return count;
    }

    /** Fixed, edge-triggered {@code vector} into vCPU {@code vcpuId}'s APIC: {@link dev.machina.hypervisor.Vcpu#interrupt(int)}. */
    public void interrupt(int vcpuId, int vector) {
        LocalApic[] current = apics;
        if (vcpuId >= current.length || current[vcpuId] == null) {
            throw new IllegalArgumentException("vCPU " + vcpuId + " has no local APIC");
        }
        current[vcpuId].accept(DeliveryMode.FIXED, vector, false);
    }

    /** {@link dev.machina.hypervisor.Guest#setInterruptLine}: drives GSI {@code gsi}. */
    public void setInterruptLine(int gsi, boolean asserted) {
        if (gsi < 0 || gsi >= GSI_COUNT) {
            throw new IllegalArgumentException("GSI " + gsi + " is outside 0.." + (GSI_COUNT - 1));
        }
        if (gsi < ISA_IRQS && gsi != Pic.CASCADE_IRQ) {
            pic.setIrq(gsi, asserted);
        }
        ioApic.setLine(gsi, asserted);
    }

    /** {@link dev.machina.hypervisor.Guest#pulseInterruptLine}: one edge on GSI {@code gsi}. */
    public void pulseInterruptLine(int gsi) {
        setInterruptLine(gsi, true);
        setInterruptLine(gsi, false);
    }

    /** {@link dev.machina.hypervisor.Guest#signalMsi}. */
    public void signalMsi(long address, int data) {
        bus.signalMsi(address, data);
    }

    private void pulsePitIrq() {
        pic.setIrq(0, true);
        pic.setIrq(0, false);
        ioApic.setLine(PIT_IOAPIC_PIN, true);
        ioApic.setLine(PIT_IOAPIC_PIN, false);
    }

    private void endOfInterrupt(int vector) {
        ioApic.endOfInterrupt(vector);
    }

    private void wakeTimer() {
        timer.wake();
    }

    @Override
    public void close() {
        timer.close();
    }
}
