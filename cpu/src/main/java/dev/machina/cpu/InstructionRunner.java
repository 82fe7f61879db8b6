package dev.machina.cpu;

import dev.machina.cpu.core.BusLock;
import dev.machina.cpu.core.Processor;
import dev.machina.cpu.core.TripleFault;
import dev.machina.cpu.decode.CodeCache;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.fault.PageFault;
import dev.machina.cpu.mmu.PhysicalBus;
import dev.machina.cpu.translate.Translator;
import dev.machina.hypervisor.ExitCounters;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.spi.Traps;
import dev.machina.hypervisor.x86.X86State;


/**
 * A standalone core for tools such as the differential tester: no threads, no chipset, no
 * exception delivery. Given RAM (with any page tables already in it) and a starting state, it
 * executes instructions until a count or an address is reached, and reports either the state
 * then or the first exception raised, with the state as it was before the faulting instruction.
 * Port reads return all ones and writes vanish; physical addresses outside RAM behave the same.
 *
 * <p>Not thread-safe; one runner per thread. Reusing a runner keeps its decoded-code cache, which
 * RAM writes through the runner invalidate (writes made directly to the {@link GuestMemory}
 * between runs are not seen: call {@link #forgetCode()} after them).
 */
public final class InstructionRunner {
    private final GuestMemory memory;
    private final CodeCache code;
    private final Processor processor;
    private Translator translator;
    private long dispatches;

    public InstructionRunner(GuestMemory memory) {
        this(memory, new BusLock());
    }

    /** A runner whose LOCKed accesses are atomic against those of other runners on {@code busLock}. */
    public InstructionRunner(GuestMemory memory, BusLock busLock) {
        Traps traps = new Traps();
        this.memory = memory;
        this.code = new CodeCache(memory.size());
        PhysicalBus bus = new PhysicalBus(memory, traps, null, new ExitCounters(), code);
        this.processor = new Processor(bus, traps, new ExitCounters(), busLock, 0);
    }

    /** What a run ended with. */
    public sealed interface Outcome {
        /** How many instructions completed. */
        long executed();

        /** The state after the last completed instruction. */
        X86State state();
    }

    /** The count or the stop address was reached, or the core executed HLT ({@code halted}). */
    public record Completed(X86State state, long executed, boolean halted) implements Outcome {
    }

    /**
     * Instruction {@code executed} (counting from zero) raised {@code vector}; {@code state} is the
     * state before it, {@code errorCode} is -1 for vectors without one, {@code faultAddress} is
     * the would-be CR2 of a page fault (else 0).
     */
    public record Faulted(X86State state, long executed, int vector, int errorCode, long faultAddress) implements Outcome {
    }

    /** A triple fault ended a {@link #runDelivering} run. */
    public record TripleFaulted(X86State state, long executed, String detail) implements Outcome {
    }

    /** Drops every cached decoding (after writing code into RAM behind the runner's back). */
    public void forgetCode() {
        code.clear();
    }

    /** Runs from {@code initial} for at most {@code count} instructions. */
    public Outcome run(X86State initial, long count) {
        return run(initial, count, -1);
    }

    /**
     * Runs 64-bit code entered {@code threshold} times at a branch target (1: at once) through
     * the translating tier, translated on this thread (off by default: one instruction at a
     * time). Then {@link #run(X86State, long, long)} looks at the stop address only between
     * dispatches (regions run one after another without the dispatcher), and at the count when a
     * region's loop comes round or the next region begins: translated code may run past either.
     */
    public void translate(int threshold) {
        translator = Translator.immediate(memory.mapping(), code, threshold);
        processor.translateWith(translator);
    }

    /** How many regions the translating tier translated so far (0 without it). */
    public long translatedRegions() {
        return translator == null ? 0 : translator.translated();
    }

    /**
     * How many times the last {@link #run(X86State, long, long)} went through the core's
     * dispatch: once per interpreted instruction, once per translated region entered.
     */
    public long dispatches() {
        return dispatches;
    }

    /**
     * Runs from {@code initial} until {@code count} instructions have completed, RIP equals
     * {@code stopAt} (-1: no address), HLT, or an exception.
     */
    public Outcome run(X86State initial, long count, long stopAt) {
        processor.state.load(initial);
        processor.mmu().flushAll();
        processor.setHalted(false);
        long first = processor.retired();
        processor.limitRetired(count == Long.MAX_VALUE ? Long.MAX_VALUE : first + count);
        dispatches = 0;
        while (processor.retired() - first < count && processor.state.rip != stopAt && !processor.halted()) {
            try {
                dispatches++;
                processor.execute();
            } catch (CpuException e) {
                long address = e instanceof PageFault fault ? fault.address() : 0;
                return new Faulted(processor.state.toX86State(), processor.retired() - first, e.vector(), e.errorCode(), address);
            }
        }
        return new Completed(processor.state.toX86State(), processor.retired() - first, processor.halted());
    }

    /**
     * Runs like {@link #run(X86State, long, long)}, but delivers exceptions through the guest's IDT
     * as the CPU does, so exception handlers in the guest run; ends with {@link TripleFaulted} if
     * delivery fails for good. Counts every instruction, faulting ones included.
     */
    public Outcome runDelivering(X86State initial, long count, long stopAt) {
        processor.state.load(initial);
        processor.mmu().flushAll();
        processor.setHalted(false);
        processor.limitRetired(count == Long.MAX_VALUE ? Long.MAX_VALUE : processor.retired() + count);
        long executed = 0;
        while (executed < count && processor.state.rip != stopAt && !processor.halted()) {
            try {
                processor.step();
            } catch (TripleFault e) {
                return new TripleFaulted(processor.state.toX86State(), executed, e.getMessage());
            }
            executed++;
        }
        return new Completed(processor.state.toX86State(), executed, processor.halted());
    }

    /** Reads an MSR of the core (e.g. KERNEL_GS_BASE after SWAPGS); throws for unimplemented ones. */
    public long readMsr(int index) {
        return processor.system().readMsr(index);
    }

    public void writeMsr(int index, long value) {
        processor.system().writeMsr(index, value);
    }
}
