package dev.machina.cpu.chipset;

import dev.machina.hypervisor.x86.X86MemoryMap;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.LongSupplier;

/**
 * One vCPU's local APIC in xAPIC mode (no x2APIC): the registers of its 4 KiB page, IA32_APIC_BASE,
 * the interrupt request/in-service/trigger-mode sets with their priority classes, IPIs through the
 * {@link ApicBus}, the local vector table and the timer (one-shot, periodic, TSC-deadline).
 *
 * <p>The owning vCPU's thread makes every {@link InterruptController} call. Other threads (other
 * vCPUs' IPIs, the IOAPIC, MSIs from device threads, the PIC on LINT0) only {@link #accept} messages:
 * that sets bits atomically in the IRR and TMR, or flags an NMI or ExtINT, and wakes the vCPU.
 *
 * <p>The timer counts the APIC bus clock, which ticks once per nanosecond as in KVM, divided by the
 * divide configuration.
 */
public final class LocalApic implements InterruptController {
    /** The clock the timer counts before division: one tick per nanosecond, the CPUID 0x15 crystal. */
    public static final long TIMER_FREQUENCY_HZ = Tsc.CRYSTAL_HZ;

    static final int ID = 0x20;
    static final int VERSION = 0x30;
    static final int TPR = 0x80;
    static final int APR = 0x90;
    static final int PPR = 0xA0;
    static final int EOI = 0xB0;
    static final int LDR = 0xD0;
    static final int DFR = 0xE0;
    static final int SVR = 0xF0;
    static final int ISR = 0x100;
    static final int TMR = 0x180;
    static final int IRR = 0x200;
    static final int ESR = 0x280;
    static final int ICR_LOW = 0x300;
    static final int ICR_HIGH = 0x310;
    static final int LVT_TIMER = 0x320;
    static final int LVT_LINT0 = 0x350;
    static final int LVT_ERROR = 0x370;
    static final int TIMER_INITIAL_COUNT = 0x380;
    static final int TIMER_CURRENT_COUNT = 0x390;
    static final int TIMER_DIVIDE = 0x3E0;

    /** Version 0x14 (an integrated APIC) with six LVT entries: timer, thermal, perf, LINT0, LINT1, error. */
    static final int VERSION_VALUE = 0x0005_0014;

    static final long BASE_BSP = 1 << 8;
    static final long BASE_ENABLE = 1 << 11;
    private static final long BASE_ADDRESS_MASK = 0xF_FFFF_F000L;

    static final int LVT_MASKED = 1 << 16;
    static final int LVT_LEVEL_TRIGGERED = 1 << 15;
    private static final int LVT_COUNT = 6;
    /** Writable bits of each LVT entry, in register order; delivery status and remote IRR read 0. */
    private static final int[] LVT_WRITABLE = {
        0x700FF,  // timer: vector, mask, mode
        0x107FF,  // thermal: vector, delivery mode, mask
        0x107FF,  // performance counters
        0x1A7FF,  // LINT0: vector, delivery mode, polarity, trigger mode, mask
        0x1A7FF,  // LINT1
        0x100FF,  // error: vector, mask
    };
    private static final int LINT0_INDEX = (LVT_LINT0 - LVT_TIMER) >> 4;
    private static final int ERROR_INDEX = (LVT_ERROR - LVT_TIMER) >> 4;

    static final int TIMER_ONE_SHOT = 0;
    static final int TIMER_PERIODIC = 1;
    static final int TIMER_TSC_DEADLINE = 2;

    static final int SVR_ENABLE = 1 << 8;
    private static final int SVR_WRITABLE = 0x3FF;
    private static final int ICR_LOW_WRITABLE = 0xCCFFF;
    private static final int ICR_LOGICAL = 1 << 11;
    private static final int ICR_LEVEL_ASSERT = 1 << 14;
    private static final int ICR_LEVEL_TRIGGERED = 1 << 15;
    private static final int DFR_FLAT = 0xF;
    static final int ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
    /** Vectors 0-15 are reserved for exceptions and are illegal as interrupts. */
    private static final int FIRST_LEGAL_VECTOR = 16;

    private final ProcessorControl control;
    private final ApicBus bus;
    private final Tsc tsc;
    private final LongSupplier clock;
    private final boolean bootProcessor;

    private final VectorSet requested = new VectorSet();
    private final VectorSet inService = new VectorSet();
    private final VectorSet levelTriggered = new VectorSet();
    private final AtomicIntegerArray lvt = new AtomicIntegerArray(LVT_COUNT);

    // Read by other threads when they address this APIC.
    private volatile int id;
    private volatile int taskPriority;
    private volatile int logicalDestination;
    private volatile int destinationFormat;
    private volatile long apicBase;

    // Set by other threads, taken by the owner.
    private volatile boolean nmiPending;
    private volatile boolean extIntPending;
    private volatile boolean lint0Level;

    // The owner's alone.
    private int spuriousVector;
    private int errorStatus;
    private int pendingErrors;
    private int icrLow;
    private int icrHigh;
    private int timerInitialCount;
    private int timerDivide;
    private int timerShift;
    private long timerStart;
    private long timerExpiry;
    private long tscDeadline;

    /**
     * The local APIC of vCPU {@code id} (also its APIC ID; 0 is the boot processor), attached to
     * {@code bus}; {@code clock} is the {@link System#nanoTime()} scale the core calls
     * {@link #advanceTo} with.
     */
    public LocalApic(int id, ProcessorControl control, ApicBus bus, Tsc tsc, LongSupplier clock) {
        this.id = id;
        this.control = control;
        this.bus = bus;
        this.tsc = tsc;
        this.clock = clock;
        this.bootProcessor = id == 0;
        this.apicBase = X86MemoryMap.LOCAL_APIC_BASE | BASE_ENABLE | (bootProcessor ? BASE_BSP : 0);
        reset();
        bus.attach(this);
    }

    /** This vCPU's time-stamp counter, which the TSC-deadline timer compares against. */
    public Tsc tsc() {
        return tsc;
    }

    /**
     * The INIT reset, which the core performs on its own thread when it acts on
     * {@link ProcessorControl#init()}: every register returns to its power-up value except the APIC
     * ID and IA32_APIC_BASE.
     */
    public void reset() {
        requested.clear();
        inService.clear();
        levelTriggered.clear();
        for (int i = 0; i < LVT_COUNT; i++) {
            lvt.set(i, LVT_MASKED);
        }
        if (bootProcessor) {
            // No firmware runs before the guest to put the boot processor in virtual-wire mode, so
            // it starts there, as KVM's LINT0 quirk does: the PIC reaches the CPU through LINT0.
            lvt.set(LINT0_INDEX, DeliveryMode.EXTINT.ordinal() << 8);
        }
        taskPriority = 0;
        logicalDestination = 0;
        destinationFormat = -1;
        spuriousVector = 0xFF;
        errorStatus = 0;
        pendingErrors = 0;
        icrLow = 0;
        icrHigh = 0;
        timerInitialCount = 0;
        timerDivide = 0;
        timerShift = 1;
        timerExpiry = Long.MAX_VALUE;
        tscDeadline = 0;
        nmiPending = false;
        extIntPending = false;
    }

    // ---- InterruptController: the owning vCPU's thread ----

    @Override
    public boolean hasInterrupt() {
        if (extIntReady()) {
            return true;
        }
        int vector = requested.highest();
        return vector >= 0 && priorityClass(vector) > priorityClass(processorPriority());
    }

    @Override
    public int acknowledgeInterrupt() {
        if (extIntReady()) {
            extIntPending = false;
            return bus.acknowledgeExtInt();
        }
        int vector = requested.highest();
        if (vector < 0 || priorityClass(vector) <= priorityClass(processorPriority())) {
            return -1;
        }
        requested.remove(vector);
        inService.add(vector);
        return vector;
    }

    @Override
    public boolean hasNmi() {
        return nmiPending;
    }

    @Override
    public void acknowledgeNmi() {
        nmiPending = false;
    }

    @Override
    public long nextDeadline() {
        return timerExpiry;
    }

    @Override
    public void advanceTo(long now) {
        if (now < timerExpiry) {
            return;
        }
        int entry = lvt.get(0);
        if ((entry & LVT_MASKED) == 0) {
            requestVector(entry & 0xFF, false);
        }
        if (timerMode(entry) == TIMER_PERIODIC) {
            long period = timerPeriod();
            // Periods the core slept through are coalesced into this one interrupt.
            timerExpiry += ((now - timerExpiry) / period + 1) * period;
        } else {
            timerExpiry = Long.MAX_VALUE;
            tscDeadline = 0;
        }
    }

    @Override
    public int readRegister(int offset) {
        return switch (offset) {
            case ID -> id << 24;
            case VERSION -> VERSION_VALUE;
            case TPR -> taskPriority;
            case APR -> arbitrationPriority();
            case PPR -> processorPriority();
            case LDR -> logicalDestination;
            case DFR -> destinationFormat;
            case SVR -> spuriousVector;
            case ESR -> errorStatus;
            case ICR_LOW -> icrLow;
            case ICR_HIGH -> icrHigh;
            case TIMER_INITIAL_COUNT -> timerInitialCount;
            case TIMER_CURRENT_COUNT -> timerCurrentCount();
            case TIMER_DIVIDE -> timerDivide;
            default -> readTableRegister(offset);
        };
    }

    private int readTableRegister(int offset) {
        if ((offset & 0xF) != 0) {
            return 0;
        }
        if (offset >= ISR && offset < ISR + 0x80) {
            return inService.register((offset - ISR) >> 4);
        }
        if (offset >= TMR && offset < TMR + 0x80) {
            return levelTriggered.register((offset - TMR) >> 4);
        }
        if (offset >= IRR && offset < IRR + 0x80) {
            return requested.register((offset - IRR) >> 4);
        }
        if (offset >= LVT_TIMER && offset <= LVT_ERROR) {
            return lvt.get((offset - LVT_TIMER) >> 4);
        }
        return 0;
    }

    @Override
    public void writeRegister(int offset, int value) {
        switch (offset) {
            case ID -> id = value >>> 24;
            case TPR -> taskPriority = value & 0xFF;
            case EOI -> endOfInterrupt();
            case LDR -> logicalDestination = value & 0xFF00_0000;
            case DFR -> destinationFormat = value | 0x0FFF_FFFF;
            case SVR -> writeSpuriousVector(value);
            case ESR -> {
                errorStatus = pendingErrors;
                pendingErrors = 0;
            }
            case ICR_HIGH -> icrHigh = value & 0xFF00_0000;
            case ICR_LOW -> {
                icrLow = value & ICR_LOW_WRITABLE;
                sendIpi();
            }
            case TIMER_INITIAL_COUNT -> startTimer(value);
            case TIMER_DIVIDE -> {
                timerDivide = value & 0xB;
                timerShift = (((timerDivide & 3) | ((timerDivide & 8) >> 1)) + 1) & 7;
            }
            default -> {
                if (offset >= LVT_TIMER && offset <= LVT_ERROR && (offset & 0xF) == 0) {
                    writeLvt((offset - LVT_TIMER) >> 4, value);
                }
            }
        }
    }

    @Override
    public long apicBase() {
        return apicBase;
    }

    /**
     * Moves or enables/disables the APIC; the BSP flag is read-only. Clearing the enable bit is a
     * hardware disable, which resets the registers; the core maps the register page at the new
     * base ({@code apicBase() & ~0xFFF}) and only while enabled.
     */
    @Override
    public void setApicBase(long value) {
        boolean wasEnabled = enabled();
        apicBase = (value & (BASE_ADDRESS_MASK | BASE_ENABLE)) | (apicBase & BASE_BSP);
        if (wasEnabled && !enabled()) {
            reset();
        }
    }

    @Override
    public long tscDeadline() {
        return tscDeadline;
    }

    /** Arms (or with 0 disarms) the TSC-deadline timer; ignored unless the timer is in that mode. */
    @Override
    public void setTscDeadline(long value) {
        if (timerMode(lvt.get(0)) != TIMER_TSC_DEADLINE) {
            return;
        }
        tscDeadline = value;
        timerExpiry = value == 0 ? Long.MAX_VALUE : tsc.nanoTimeAt(value);
    }

    // ---- Inputs from other threads ----

    /**
     * The LINT0 pin, driven by the PIC's INTR output. In ExtINT (virtual-wire) mode the level is what
     * matters and the vector comes from the PIC at acknowledge time; in fixed or NMI mode a rising
     * edge raises the interrupt.
     */
    public void setLint0(boolean level) {
        boolean rising = level && !lint0Level;
        lint0Level = level;
        if (!rising) {
            return;
        }
        int entry = lvt.get(LINT0_INDEX);
        if ((entry & LVT_MASKED) == 0) {
            switch (DeliveryMode.decode(entry, 8)) {
                case FIXED -> requestVector(entry & 0xFF, (entry & LVT_LEVEL_TRIGGERED) != 0);
                case NMI -> nmiPending = true;
                default -> {
                }
            }
        }
        control.wake();
    }

    /** Takes a message from the bus; any thread. */
    void accept(DeliveryMode mode, int vector, boolean levelTriggeredMode) {
        switch (mode) {
            case FIXED, LOWEST_PRIORITY -> requestVector(vector, levelTriggeredMode);
            case NMI -> {
                nmiPending = true;
                control.wake();
            }
            case EXTINT -> {
                extIntPending = true;
                control.wake();
            }
            case INIT -> control.init();
            case STARTUP -> control.startup(vector & 0xFF);
            case SMI, RESERVED -> {
                // No system-management mode.
            }
        }
    }

    boolean enabled() {
        return (apicBase & BASE_ENABLE) != 0;
    }

    boolean matchesPhysical(int destination) {
        return destination == ApicBus.BROADCAST || destination == id;
    }

    /** Flat model: a bit per APIC; cluster model: a cluster number in bits 7:4 and a bit per APIC in 3:0. */
    boolean matchesLogical(int destination) {
        if (destination == ApicBus.BROADCAST) {
            return true;
        }
        int logicalId = logicalDestination >>> 24;
        if (destinationFormat >>> 28 == DFR_FLAT) {
            return (logicalId & destination) != 0;
        }
        return (logicalId >>> 4) == (destination >>> 4) && (logicalId & destination & 0xF) != 0;
    }

    /** What lowest-priority arbitration compares: the TPR (the only priority other threads may read). */
    int taskPriority() {
        return taskPriority;
    }

    // ---- Internals ----

    private void requestVector(int vector, boolean levelTriggeredMode) {
        if (vector < FIRST_LEGAL_VECTOR) {
            return;
        }
        if (levelTriggeredMode) {
            levelTriggered.add(vector);
        } else {
            levelTriggered.remove(vector);
        }
        requested.add(vector);
        control.wake();
    }

    private boolean extIntReady() {
        if (extIntPending) {
            return true;
        }
        if (!lint0Level) {
            return false;
        }
        // A hardware-disabled APIC passes the PIC's INTR straight to the processor.
        int entry = lvt.get(LINT0_INDEX);
        return !enabled() || ((entry & LVT_MASKED) == 0 && DeliveryMode.decode(entry, 8) == DeliveryMode.EXTINT);
    }

    private static int priorityClass(int priority) {
        return priority >>> 4;
    }

    private int processorPriority() {
        int tpr = taskPriority;
        int serviced = Math.max(inService.highest(), 0) & 0xF0;
        return priorityClass(tpr) >= priorityClass(serviced) ? tpr : serviced;
    }

    private int arbitrationPriority() {
        int tpr = taskPriority;
        int serviced = Math.max(inService.highest(), 0) & 0xF0;
        int pending = Math.max(requested.highest(), 0) & 0xF0;
        if (priorityClass(tpr) >= priorityClass(pending) && priorityClass(tpr) > priorityClass(serviced)) {
            return tpr;
        }
        return Math.max(tpr & 0xF0, Math.max(serviced, pending));
    }

    private void endOfInterrupt() {
        int vector = inService.highest();
        if (vector < 0) {
            return;
        }
        inService.remove(vector);
        if (levelTriggered.contains(vector)) {
            bus.endOfInterrupt(vector);
        }
    }

    private void writeSpuriousVector(int value) {
        spuriousVector = value & SVR_WRITABLE;
        if ((value & SVR_ENABLE) == 0) {
            for (int i = 0; i < LVT_COUNT; i++) {
                lvt.set(i, lvt.get(i) | LVT_MASKED);
            }
        }
    }

    private void writeLvt(int index, int value) {
        int entry = value & LVT_WRITABLE[index];
        if ((spuriousVector & SVR_ENABLE) == 0) {
            entry |= LVT_MASKED;
        }
        int previous = lvt.getAndSet(index, entry);
        boolean wasDeadline = timerMode(previous) == TIMER_TSC_DEADLINE;
        if (index == 0 && wasDeadline != (timerMode(entry) == TIMER_TSC_DEADLINE)) {
            // Entering or leaving TSC-deadline mode disarms the timer; between one-shot and
            // periodic it runs on, as in KVM, so a guest switching modes keeps its next tick.
            timerExpiry = Long.MAX_VALUE;
            timerInitialCount = 0;
            tscDeadline = 0;
        }
    }

    private void sendIpi() {
        DeliveryMode mode = DeliveryMode.decode(icrLow, 8);
        int vector = icrLow & 0xFF;
        boolean levelTriggeredMode = (icrLow & ICR_LEVEL_TRIGGERED) != 0;
        if (mode == DeliveryMode.INIT && levelTriggeredMode && (icrLow & ICR_LEVEL_ASSERT) == 0) {
            return; // INIT level de-assert: only old APICs resynchronised their arbitration IDs with it.
        }
        if ((mode == DeliveryMode.FIXED || mode == DeliveryMode.LOWEST_PRIORITY) && vector < FIRST_LEGAL_VECTOR) {
            reportError(ESR_SEND_ILLEGAL_VECTOR);
            return;
        }
        bus.sendIpi(this, ApicBus.Shorthand.decode(icrLow), icrHigh >>> 24, (icrLow & ICR_LOGICAL) != 0,
                mode, vector, levelTriggeredMode);
    }

    private void reportError(int bit) {
        pendingErrors |= bit;
        int entry = lvt.get(ERROR_INDEX);
        if ((entry & LVT_MASKED) == 0) {
            requestVector(entry & 0xFF, false);
        }
    }

    private static int timerMode(int entry) {
        return (entry >>> 17) & 3;
    }

    private long timerPeriod() {
        return Integer.toUnsignedLong(timerInitialCount) << timerShift;
    }

    private void startTimer(int count) {
        if (timerMode(lvt.get(0)) == TIMER_TSC_DEADLINE) {
            return;
        }
        timerInitialCount = count;
        timerStart = clock.getAsLong();
        timerExpiry = count == 0 ? Long.MAX_VALUE : timerStart + timerPeriod();
    }

    private int timerCurrentCount() {
        int entry = lvt.get(0);
        if (timerInitialCount == 0 || timerMode(entry) == TIMER_TSC_DEADLINE) {
            return 0;
        }
        long period = timerPeriod();
        long elapsed = clock.getAsLong() - timerStart;
        long remaining = timerMode(entry) == TIMER_PERIODIC ? period - elapsed % period : Math.max(0, period - elapsed);
        return (int) Math.ceilDiv(remaining, 1L << timerShift);
    }
}
