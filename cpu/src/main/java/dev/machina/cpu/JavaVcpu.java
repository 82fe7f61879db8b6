package dev.machina.cpu;

import dev.machina.cpu.chipset.Chipset;
import dev.machina.cpu.chipset.InterruptController;
import dev.machina.cpu.chipset.LocalApic;
import dev.machina.cpu.chipset.ProcessorControl;
import dev.machina.cpu.core.BusLock;
import dev.machina.cpu.core.Processor;
import dev.machina.cpu.core.TripleFault;
import dev.machina.cpu.decode.CodeCache;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.mmu.PhysicalBus;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.translate.Translator;
import dev.machina.hypervisor.ExitReason;
import dev.machina.hypervisor.VcpuExit;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.spi.AbstractVcpu;
import dev.machina.hypervisor.spi.Doorbells;
import dev.machina.hypervisor.spi.Traps;
import dev.machina.hypervisor.x86.X86State;

import java.util.OptionalLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A vCPU of the pure-Java backend: its {@link Processor} driven on the vCPU thread in batches of
 * instructions (one "entry" each, as a hardware VMM counts them), with interrupts taken between
 * batches and a halted core parked until woken or until its interrupt controller's next deadline.
 */
public final class JavaVcpu extends AbstractVcpu implements ProcessorControl {
    /**
     * Instructions per entry; interrupts and stop requests are looked at between batches. A
     * translated region is one step of many instructions and stops at its next loop iteration
     * once the batch is used up ({@link Processor#limitRetired}), so an interrupt waits at most
     * a batch and one pass through a region.
     */
    private static final int BATCH = 4096;

    private final Processor processor;
    private volatile boolean attention;
    private volatile boolean runnable;
    private volatile int startupVector = -1;
    private volatile boolean initRequested;
    private volatile Thread runner;
    private Chipset chipset;
    private LocalApic localApic;

    JavaVcpu(String guestName, int id, GuestMemory memory, Traps traps, Doorbells doorbells, CodeCache code,
             Translator translator, BusLock busLock) {
        super(guestName, id);
        PhysicalBus bus = new PhysicalBus(memory, traps, doorbells, counters(), code);
        this.processor = new Processor(bus, traps, counters(), busLock, id);
        processor.translateWith(translator);
        this.runnable = id == 0;
    }

    /** Connects this core to its local APIC from {@code chipset}; {@link #interrupt} goes there too. */
    void attachChipset(Chipset chipset) {
        this.chipset = chipset;
        this.localApic = chipset.localApic(id(), this);
        processor.attachApic(localApic, localApic.tsc());
        processor.system().usePackageCores(chipset::processorCount);
    }

    @Override
    protected VcpuExit run() {
        runner = Thread.currentThread();
        try {
            while (!stopRequested()) {
                if (pauseRequested()) {
                    holdWhilePaused();
                    continue;
                }
                if (!runnable || processor.halted()) {
                    waitForWork();
                    continue;
                }
                counters().entered();
                attention = false;
                long end = processor.retired() + BATCH;
                processor.limitRetired(end);
                for (int n = 0; n < BATCH && processor.retired() < end && !attention && !processor.halted(); n++) {
                    processor.step();
                }
                serviceEvents();
            }
            return new VcpuExit.Stopped();
        } catch (TripleFault e) {
            counters().exited(ExitReason.SHUTDOWN);
            return new VcpuExit.Shutdown(e.getMessage());
        }
    }

    private void serviceEvents() {
        if (initRequested) {
            initRequested = false;
            processor.state.load(X86State.reset());
            processor.state.debug.reset();
            processor.mmu().flushAll();
            if (localApic != null) {
                localApic.reset();
            }
            runnable = false;
        }
        int vector = startupVector;
        if (vector >= 0 && !runnable) {
            startupVector = -1;
            CpuState s = processor.state;
            s.segments[CpuState.CS].loadReal(vector << 8);
            s.rip = 0;
            processor.setHalted(false);
            runnable = true;
        }
        InterruptController apic = processor.apic();
        if (apic != null && runnable) {
            long now = System.nanoTime();
            if (now >= apic.nextDeadline()) {
                apic.advanceTo(now);
            }
            processor.serviceInterrupts();
        }
    }

    /** Parks until something could make the core runnable: a wake, a stop, or the APIC's deadline. */
    private void waitForWork() {
        serviceEvents();
        if (stopRequested() || pauseRequested() || (runnable && !processor.halted())) {
            return;
        }
        InterruptController apic = processor.apic();
        if (runnable && apic != null && processor.interruptDeliverable()) {
            return;
        }
        long deadline = apic == null ? Long.MAX_VALUE : apic.nextDeadline();
        if (!attention) {
            if (deadline == Long.MAX_VALUE) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, deadline - System.nanoTime());
            }
        }
        attention = false;
    }

    @Override
    protected void kick() {
        wake();
    }

    @Override
    public void wake() {
        attention = true;
        Thread thread = runner;
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }

    @Override
    public void init() {
        initRequested = true;
        wake();
    }

    @Override
    public void startup(int vector) {
        startupVector = vector & 0xFF;
        wake();
    }

    @Override
    public void interrupt(int vector) {
        chipset.interrupt(id(), vector);
    }

    /**
     * Where this vCPU is now, for a sampling profiler on another thread. The vCPU publishes
     * nothing for it, so that profiling costs its loop nothing: this reads the core's RIP, CS and
     * halt flag as it left them, without synchronisation (a racy read, which on a 64-bit JVM
     * cannot tear a long). The interpreter stores RIP before it executes each instruction, ahead
     * of calls the JIT cannot see through, so a sample sees the instruction executing or the one
     * just done. A translated region keeps RIP in a local and stores it only on its way out: while
     * it runs, RIP holds its entry (or the last instruction it had the interpreter run in place),
     * which attributes its time to the code where it starts, on the same page. A sample taken
     * across a change of mode may pair the new RIP with the old CPL; that is noise.
     */
    public GuestPosition position() {
        if (!runnable || processor.halted()) {
            return GuestPosition.IDLE;
        }
        CpuState state = processor.state;
        return new GuestPosition.Executing(state.rip, state.cpl());
    }

    @Override
    public OptionalLong instructionsRetired() {
        return OptionalLong.of(processor.retired());
    }

    @Override
    protected X86State readStateNow() {
        return processor.state.toX86State();
    }

    @Override
    protected void writeStateNow(X86State state) {
        processor.state.load(state);
        processor.mmu().flushAll();
        processor.setHalted(false);
        runnable = true;
    }

    @Override
    protected long readMsrNow(int index) {
        try {
            return processor.system().readMsr(index);
        } catch (CpuException e) {
            throw new IllegalArgumentException("MSR 0x" + Integer.toHexString(index) + " is not implemented by the Java CPU");
        }
    }

    @Override
    protected void writeMsrNow(int index, long value) {
        try {
            processor.system().writeMsr(index, value);
        } catch (CpuException e) {
            throw new IllegalArgumentException("MSR 0x" + Integer.toHexString(index) + " cannot take 0x" + Long.toHexString(value));
        }
    }
}
