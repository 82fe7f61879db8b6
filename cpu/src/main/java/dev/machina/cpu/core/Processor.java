package dev.machina.cpu.core;

import dev.machina.cpu.chipset.InterruptController;
import dev.machina.cpu.chipset.Tsc;
import dev.machina.cpu.decode.CodeCache;
import dev.machina.cpu.decode.SparsePage;
import dev.machina.cpu.decode.Decoder;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.decode.Operand;
import dev.machina.cpu.decode.Slot.Traits;
import dev.machina.cpu.execute.SoftFloat;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.fault.Delivery;
import dev.machina.cpu.fault.Vector;
import dev.machina.cpu.mmu.Mmu;
import dev.machina.cpu.mmu.PhysicalBus;
import dev.machina.cpu.state.CpuState;
import dev.machina.cpu.state.DebugRegisters;
import dev.machina.cpu.state.Flags;
import dev.machina.cpu.state.SegmentRegister;
import dev.machina.cpu.state.X87Registers;
import dev.machina.cpu.translate.Region;
import dev.machina.cpu.translate.Translator;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.ExitCounters;
import dev.machina.hypervisor.ExitReason;
import dev.machina.hypervisor.spi.Traps;

import java.util.HexFormat;

/**
 * One x86-64 core without a thread of its own: fetch (through the {@link CodeCache}), execute
 * (the {@link Instruction}'s family method), deliver exceptions and interrupts. The instruction
 * families reach the machine only through this class: operands, segmented memory, the stack,
 * ports and the pieces of system state. {@link dev.machina.cpu.JavaVcpu} drives it on a vCPU
 * thread; {@link dev.machina.cpu.InstructionRunner} drives it directly.
 */
public final class Processor {
    private static final System.Logger LOG = System.getLogger(Processor.class.getName());

    /** Thrown when a LOCKed compare-and-set lost a race: the instruction runs again from scratch. */
    private static final RuntimeException LOCK_RETRY = new RuntimeException("locked access retry", null, false, false) {
    };
    /** A 32- or 64-bit TSS, available or busy (types 9 and 11; the S bit clear). */
    private static final int TSS_TYPE_MASK = 0x1D;
    private static final int TSS_TYPE = 0x9;
    /** Where the TSS holds the offset of its I/O permission bitmap. */
    private static final int TSS_BITMAP_BASE = 0x66;
    /** Added to the fetch key when the code was fetched at CPL 3. */
    private static final int USER_FETCH = 128;

    public final CpuState state = new CpuState();
    private final Mmu mmu;
    private final PhysicalBus bus;
    private final CodeCache code;
    private final Decoder decoder = new Decoder();
    private final Traps traps;
    private final ExitCounters counters;
    private final BusLock.Core busLock;
    private final Delivery delivery;
    private final SystemRegisters system;
    private final SoftFloat floatingPoint = new SoftFloat();
    private InterruptController apic;

    private long instructionStart;
    private long fetchPage = -1;
    private int fetchKey;
    private int fetchMmuEpoch;
    private int fetchCodeEpoch;
    private SparsePage<Instruction> fetchTable;
    private long fetchHost;
    private int fetchOffset;
    /** The address execution reaches when the last interpreted instruction does not branch. */
    private long sequentialNext = -1;
    private Translator translator;
    /** The retired count at which translated code stops at its next loop iteration (see {@link #limitRetired}). */
    private long retireLimit = Long.MAX_VALUE;
    private boolean softwareInterrupt;
    private final dev.machina.cpu.decode.ByteSource fetcher = offset -> fetchByte(instructionStart + offset);
    private long lockedHost = -1;
    private long lockedExpected;
    /** Whether the current instruction made an atomic access or took the bus lock. */
    private boolean busAccess;
    private boolean halted;
    private boolean interruptShadow;
    /** MOV SS or POP SS ran: its debug traps wait until the next instruction is done. */
    private boolean debugTrapsHeld;
    /** The DR6 causes of the debug traps held back by MOV SS or POP SS. */
    private long heldDebugTraps;
    private boolean nmiBlocked;
    private long retired;

    public Processor(PhysicalBus bus, Traps traps, ExitCounters counters, BusLock busLock, int apicId) {
        this.bus = bus;
        this.code = bus.code();
        this.mmu = new Mmu(state, bus);
        this.traps = traps;
        this.counters = counters;
        this.busLock = busLock.join();
        this.delivery = new Delivery(this);
        this.system = new SystemRegisters(this, apicId);
    }

    /** Connects the core to its local APIC and the time-stamp counter that APIC's deadline timer uses. */
    public void attachApic(InterruptController controller, Tsc tsc) {
        this.apic = controller;
        bus.attachApic(controller);
        system.useTsc(tsc);
    }

    /**
     * Runs hot 64-bit code through {@code translator} (null: every instruction is interpreted,
     * one per {@link #execute()}); the cores of a guest share one.
     */
    public void translateWith(Translator translator) {
        this.translator = translator;
    }

    /**
     * Lets translated code run until {@link #retired()} reaches {@code limit}: a region checks it
     * each time one of its loops comes round, so that interrupts and stop requests, looked at
     * between steps, wait no longer than the rest of a region's pass.
     */
    public void limitRetired(long limit) {
        retireLimit = limit;
    }

    public InterruptController apic() {
        return apic;
    }

    public Mmu mmu() {
        return mmu;
    }

    public SystemRegisters system() {
        return system;
    }

    public Delivery delivery() {
        return delivery;
    }

    /** The core's floating-point arithmetic unit, shared by the x87 and SSE families. */
    public SoftFloat floatingPoint() {
        return floatingPoint;
    }

    public ExitCounters counters() {
        return counters;
    }

    /** Instructions retired so far. */
    public long retired() {
        return retired;
    }

    public boolean halted() {
        return halted;
    }

    public void setHalted(boolean value) {
        halted = value;
    }

    /** The address of the instruction executing now (faults report it; traps push the next one). */
    public long instructionStart() {
        return instructionStart;
    }

    /** Blocks maskable interrupts until after the next instruction (STI). */
    public void holdInterrupts() {
        interruptShadow = true;
    }

    /**
     * MOV SS and POP SS: interrupts, and the debug traps of this instruction and the next, wait
     * until the next instruction is done, so that the stack pointer it loads is never used with
     * the old stack segment.
     */
    public void holdInterruptsAndDebugTraps() {
        interruptShadow = true;
        debugTrapsHeld = true;
    }

    public void blockNmi(boolean value) {
        nmiBlocked = value;
    }

    /** The code size of the current mode: 16, 32 or 64. */
    public int codeSize() {
        if (state.in64BitMode()) {
            return 64;
        }
        return state.protectedMode() && state.segments[CpuState.CS].defaultBig() ? 32 : 16;
    }

    // ---- the step -------------------------------------------------------------------------

    /**
     * Executes one instruction (or a compiled block, see {@link #execute()}); an exception it
     * raises is delivered through the IDT before this returns (a triple fault throws {@link TripleFault}).
     */
    public void step() {
        if (state.flags.isSet(Flags.TF) || state.debug.armed() || debugTrapsHeld) {
            stepWatched();
            return;
        }
        try {
            execute();
        } catch (CpuException e) {
            deliverFault(e);
        }
    }

    /**
     * Every exception the execution raises is a fault: its frame holds RF set, so that the
     * instruction resumes without its instruction breakpoint firing again.
     */
    private void deliverFault(CpuException e) {
        state.flags.put(Flags.RF, true);
        delivery.deliverException(e);
    }

    /**
     * A step that may raise a #DB: an instruction breakpoint (a fault before the instruction,
     * unless RF is set), then data, I/O and single-step traps after it, reported together; after
     * MOV SS or POP SS all of them wait for the next instruction.
     */
    private void stepWatched() {
        DebugRegisters debug = state.debug;
        boolean held = debugTrapsHeld;
        debugTrapsHeld = false;
        if (!held && debug.armed() && !state.flags.isSet(Flags.RF)) {
            long breakpoints = debug.instructionHits(linearCode(state.rip));
            if (breakpoints != 0) {
                // Pushed with RF clear: the handler sets it in the frame to resume past the breakpoint.
                instructionStart = state.rip;
                debug.report(breakpoints);
                delivery.deliverException(CpuException.of(Vector.DB));
                return;
            }
        }
        boolean singleStep = state.flags.isSet(Flags.TF);
        softwareInterrupt = false;
        try {
            execute();
        } catch (CpuException e) {
            debug.takeHits();
            heldDebugTraps = 0;
            deliverFault(e);
            return;
        }
        // INT n enters its handler with TF clear and no single-step trap after it.
        long traps = heldDebugTraps | debug.takeHits() | (singleStep && !softwareInterrupt ? DebugRegisters.SINGLE_STEP : 0);
        heldDebugTraps = debugTrapsHeld ? traps : 0;
        if (traps != 0 && !debugTrapsHeld) {
            debug.report(traps);
            delivery.deliverException(CpuException.of(Vector.DB));
        }
    }

    /** INT n, INT3, INTO or INT1 entered its handler: no single-step trap follows the instruction. */
    public void enteredSoftwareInterrupt() {
        softwareInterrupt = true;
    }

    /**
     * Executes one instruction, or with a translator a translated region of several; an
     * exception raised propagates, with RIP and the registers as they were before the faulting
     * instruction (the differential tester's view of a fault).
     */
    public void execute() {
        instructionStart = state.rip;
        boolean shadowed = interruptShadow;
        if (state.flags.isSet(Flags.RF)) {
            state.flags.put(Flags.RF, false); // RF lasts until an instruction begins: it has skipped that instruction's breakpoint
        }
        try {
            Instruction instruction = fetch();
            // A region that retired nothing left before its first instruction (a TLB miss, say): interpret it.
            long before = retired;
            if (translator != null && !shadowed && fetchTable != null && instruction.mode() == 64
                    && !state.flags.isSet(Flags.TF) && !state.debug.armed() && runRegion() && retired != before) {
                sequentialNext = -1;
                return;
            }
            // Code reached by running over a page's end counts as entered, as a branch target does:
            // a region covers one page, and such code would otherwise stay interpreted however hot.
            long next = nextAddress(instruction, instructionStart);
            sequentialNext = (next ^ instructionStart) >>> 12 == 0 ? next : -1;
            executeDecoded(instruction, instructionStart);
            retired++;
        } catch (CpuException e) {
            state.rip = instructionStart;
            throw e;
        } finally {
            if (shadowed) {
                interruptShadow = false;
            }
        }
    }

    /** Interprets {@code instruction}, decoded at {@code start} (without counting it). */
    private void executeDecoded(Instruction instruction, long start) {
        instructionStart = start;
        state.rip = nextAddress(instruction, start);
        try {
            if (instruction.checks() != 0) {
                checkUnit(instruction);
            }
            if (instruction.has(Instruction.LOCK)) {
                executeLocked(instruction);
            } else {
                instruction.operation().execute(this, instruction);
            }
        } finally {
            lockedHost = -1;
            if (busAccess) {
                busAccess = false;
                busLock.endAccess();
            }
        }
    }

    /** The address after {@code instruction} at {@code start}, wrapped to the instruction pointer's width. */
    private static long nextAddress(Instruction instruction, long start) {
        long next = start + instruction.length();
        return instruction.mode() == 64 ? next : next & (instruction.mode() == 32 ? 0xFFFF_FFFFL : 0xFFFF);
    }

    /**
     * In 64-bit code: runs the region translated from here, if there is one; at a branch target
     * counts the entry and asks for a translation once the code here is hot. False when the
     * instruction is to be interpreted.
     */
    private boolean runRegion() {
        boolean user = state.cpl() == 3;
        Region region = region(user);
        if (region == null) {
            if (instructionStart == sequentialNext || !translator.entered(fetchHost + fetchOffset)) {
                return false;
            }
            translator.translate(fetchHost, fetchOffset, user, fetchTable);
            region = region(user);
            if (region == null) {
                return false;
            }
        }
        int budget = budget();
        long end = retired + budget;
        region.code().run(this, budget);
        runFollowingRegions(user, end);
        return true;
    }

    /** The instructions translated code may retire before it stops at its next loop iteration. */
    private int budget() {
        return (int) Math.clamp(retireLimit - retired, 1, Integer.MAX_VALUE);
    }

    /**
     * Runs the regions that follow one another without going back through the dispatcher, as
     * QEMU chains its translation blocks: a region leaves at a call, a return, an indirect jump or
     * its page's end, and where a region begins at the address it left for, that region runs
     * next. The instructions that would change what the dispatcher checks before an instruction
     * (the privilege, the mode, the interrupt shadow, the debug state, HLT) all end regions and
     * are not in them, so those checks still hold; the budget the first region was given bounds
     * the chain as it bounds a region's loop, and an interrupt waits no longer than for a looping
     * region. The chain stops where no region begins, where the code's page is not in the TLB (the
     * dispatcher walks the page tables and raises the faults), and where a region retired
     * nothing: it left before an instruction for the interpreter to run.
     */
    private void runFollowingRegions(boolean user, long end) {
        while (retired < end) {
            long host = mmu.hostFor(state.rip, Mmu.FETCH, user);
            if (host < 0) {
                return;
            }
            Region next = regionAt(host, user);
            if (next == null) {
                return;
            }
            long start = retired;
            instructionStart = state.rip;
            next.code().run(this, (int) (end - retired));
            if (retired == start) {
                return;
            }
        }
    }

    /** The region installed at the current fetch position for this privilege, or null. */
    private Region region(boolean user) {
        return regionAt(fetchHost + fetchOffset, user);
    }

    /** The region installed at RAM's host offset {@code host} for this privilege, or null. */
    private Region regionAt(long host, boolean user) {
        SparsePage<Region> regions = code.regions(host);
        Region region = regions == null ? null : regions.at((int) (host & PhysicalBus.PAGE_MASK));
        return region != null && region.user() == user ? region : null;
    }

    // ---- what translated code calls -----------------------------------------------------------

    /** {@link #interpretInPlace}: the region goes on. */
    public static final int GO_ON = 0;
    /** {@link #interpretInPlace}: the instruction ran; the region leaves after it, for RIP. */
    public static final int LEAVE_AFTER = 1;
    /** {@link #interpretInPlace}: the instruction faulted; the region leaves before it, where the interpreter runs it again to raise the fault. */
    public static final int LEAVE_BEFORE = 2;

    /**
     * Runs {@code instruction}, decoded at {@code start}, for translated code that does not write it
     * out: the region's registers and flags are in the core, and what it does to them the region
     * sees. A fault leaves the state as it was before the instruction, as for the interpreter; the
     * region leaves too when the instruction did not go on to the next (a long REP yields to run
     * again) or decodings were dropped (it may have rewritten the region's own code).
     */
    public int interpretInPlace(Instruction instruction, long start) {
        int codeEpoch = code.epoch();
        try {
            executeDecoded(instruction, start);
        } catch (CpuException fault) {
            state.rip = start;
            return LEAVE_BEFORE;
        }
        return state.rip == start + instruction.length() && code.epoch() == codeEpoch ? GO_ON : LEAVE_AFTER;
    }

    /**
     * The host offset of the {@code size} bytes at {@code linear} for a translated region's
     * access ({@link Mmu#READ} or {@link Mmu#WRITE}) that missed the TLB: the page tables are
     * walked and the TLB filled as for the interpreter. -1 where the region must leave for the
     * interpreter to make the access: it faults, crosses a page, reaches what is not RAM or a
     * watched page, or stores into a page that holds code.
     */
    public long hostForRegion(long linear, int size, int access, boolean user) {
        if ((linear & PhysicalBus.PAGE_MASK) + size > PhysicalBus.PAGE_MASK + 1) {
            return -1;
        }
        try {
            mmu.translate(linear, access, user);
        } catch (CpuException fault) {
            return -1;
        }
        long host = mmu.hostFor(linear, access, user);
        return host >= 0 && (access != Mmu.WRITE || !code.holdsCode(host)) ? host : -1;
    }

    /** Translated code retired {@code count} more instructions. */
    public void retire(int count) {
        retired += count;
    }

    /**
     * The checks the x87, MMX and SSE instructions make before they execute, in the order the
     * SDM gives them: #UD, #NM, #MF, then the alignment of a 16-byte memory operand.
     */
    public void checkUnit(Instruction i) {
        int checks = i.checks();
        long cr0 = state.cr0;
        boolean emulate = (cr0 & ControlRegisters.CR0_EM) != 0;
        boolean switched = (cr0 & ControlRegisters.CR0_TS) != 0;
        X87Registers x87 = state.x87;
        if ((checks & Traits.SSE) != 0) {
            if (emulate || (state.cr4 & ControlRegisters.CR4_OSFXSR) == 0) {
                throw CpuException.invalidOpcode();
            }
            if (switched) {
                throw CpuException.of(Vector.NM);
            }
        }
        if ((checks & Traits.MMX) != 0) {
            if (emulate) {
                throw CpuException.invalidOpcode();
            }
            if (switched) {
                throw CpuException.of(Vector.NM);
            }
            requireNoPendingX87Exception();
            x87.top = 0;
            x87.valid = 0xFF;
        }
        if ((checks & (Traits.X87 | Traits.X87_CONTROL | Traits.X87_NO_WAIT | Traits.FXSR)) != 0 && (emulate || switched)) {
            throw CpuException.of(Vector.NM);
        }
        if ((checks & Traits.WAIT) != 0 && switched && (cr0 & ControlRegisters.CR0_MP) != 0) {
            throw CpuException.of(Vector.NM);
        }
        if ((checks & (Traits.X87 | Traits.X87_CONTROL | Traits.WAIT)) != 0) {
            requireNoPendingX87Exception();
        }
        if ((checks & Traits.X87) != 0) {
            x87.lastInstruction = instructionStart;
            x87.lastCodeSelector = state.segments[CpuState.CS].selector;
            x87.lastOpcode = ((i.argument() & 7) << 8) | i.modrm();
            if (i.memory()) {
                x87.lastOperand = effectiveAddress(i);
                x87.lastDataSelector = state.segments[i.segment()].selector;
            }
        }
        if ((checks & Traits.ALIGNED) != 0 && i.memory() && (linear(i.segment(), effectiveAddress(i)) & 15) != 0) {
            throw CpuException.generalProtection();
        }
    }

    /**
     * An unmasked x87 exception is reported at the next waiting instruction as #MF when CR0.NE
     * is set; without NE a PC would signal FERR# to an interrupt line this machine does not
     * have, so the exception just stays pending.
     */
    private void requireNoPendingX87Exception() {
        if ((state.x87.status & X87Registers.ERROR_SUMMARY) != 0 && (state.cr0 & ControlRegisters.CR0_NE) != 0) {
            throw CpuException.of(Vector.MF);
        }
    }

    private void executeLocked(Instruction instruction) {
        while (true) {
            try {
                instruction.operation().execute(this, instruction);
                return;
            } catch (RuntimeException e) {
                if (e != LOCK_RETRY) {
                    throw e;
                }
                state.rip = instructionStart + instruction.length();
                lockedHost = -1;
            }
        }
    }

    /**
     * The decoded instruction at {@link #instructionStart}. The code page last fetched from is
     * remembered (its linear page, the decodings of its host page, the mode and privilege it was
     * fetched in), so the next fetch from it needs no translation while neither the TLB was
     * flushed nor decodings dropped since.
     */
    private Instruction fetch() {
        int mode = codeSize();
        long linear = linearCode(instructionStart);
        int key = mode | (state.cpl() == 3 ? USER_FETCH : 0);
        int offset = (int) (linear & PhysicalBus.PAGE_MASK);
        fetchOffset = offset;
        if (linear >>> 12 == fetchPage && key == fetchKey && mmu.epoch() == fetchMmuEpoch && code.epoch() == fetchCodeEpoch) {
            Instruction cached = fetchTable.at(offset);
            return cached != null && cached.mode() == mode ? cached : decodeInto(fetchTable, offset, mode);
        }
        long physical = mmu.translate(linear, Mmu.FETCH, key >= USER_FETCH);
        long host = bus.hostPage(physical);
        if (host < 0) {
            fetchPage = -1;
            fetchTable = null;
            return decodeAt(mode);
        }
        fetchPage = linear >>> 12;
        fetchKey = key;
        fetchMmuEpoch = mmu.epoch();
        fetchCodeEpoch = code.epoch();
        fetchTable = code.page(host);
        fetchHost = host;
        Instruction cached = fetchTable.at(offset);
        return cached != null && cached.mode() == mode ? cached : decodeInto(fetchTable, offset, mode);
    }

    /** Decodes at {@link #instructionStart} and keeps the decoding if it lies wholly in the page. */
    private Instruction decodeInto(SparsePage<Instruction> page, int offset, int mode) {
        Instruction decoded = decodeAt(mode);
        if (offset + decoded.length() > PhysicalBus.PAGE_MASK + 1) {
            return decoded;
        }
        Instruction kept = code.canonical(decoded);
        page.keep(offset, kept);
        return kept;
    }

    private Instruction decodeAt(int mode) {
        try {
            return decoder.decode(fetcher, mode);
        } catch (CpuException e) {
            if (e.vector() == Vector.UD) {
                LOG.log(System.Logger.Level.WARNING, "invalid or unimplemented instruction at {0}: {1}",
                        Long.toHexString(instructionStart), bytesAt(instructionStart));
            }
            throw e;
        }
    }

    private String bytesAt(long address) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < Decoder.MAX_LENGTH; i++) {
            try {
                text.append(HexFormat.of().toHexDigits((byte) fetchByte(address + i))).append(' ');
            } catch (CpuException unreadable) {
                break;
            }
        }
        return text.toString().trim();
    }

    private int fetchByte(long address) {
        return mmu.fetch(linearCode(address), state.cpl() == 3);
    }

    private long linearCode(long offset) {
        return state.in64BitMode() ? offset : (state.segments[CpuState.CS].base + offset) & 0xFFFF_FFFFL;
    }

    // ---- interrupts -----------------------------------------------------------------------

    /** Whether an NMI or an unmasked interrupt is waiting for this core. */
    public boolean interruptDeliverable() {
        if (apic == null) {
            return false;
        }
        return (apic.hasNmi() && !nmiBlocked)
                || (state.flags.isSet(Flags.IF) && !interruptShadow && apic.hasInterrupt());
    }

    /** Delivers one pending NMI or interrupt, if one may be taken now; wakes a halted core. */
    public boolean serviceInterrupts() {
        if (apic == null) {
            return false;
        }
        if (apic.hasNmi() && !nmiBlocked) {
            apic.acknowledgeNmi();
            nmiBlocked = true;
            deliverExternal(Vector.NMI);
            return true;
        }
        if (state.flags.isSet(Flags.IF) && !interruptShadow && apic.hasInterrupt()) {
            int vector = apic.acknowledgeInterrupt();
            if (vector >= 0) {
                counters.exited(ExitReason.INTERRUPT);
                deliverExternal(vector);
                return true;
            }
        }
        return false;
    }

    private void deliverExternal(int vector) {
        halted = false;
        instructionStart = state.rip;
        delivery.deliverExternal(vector);
    }

    // ---- operands ---------------------------------------------------------------------------

    /** The value of operand {@code kind} of {@code i} at the operand size. */
    public long read(Instruction i, int kind) {
        return switch (kind) {
            case Operand.REG -> state.read(i.reg(), i.operandSize());
            case Operand.RM -> readRm(i, i.operandSize());
            case Operand.IMM -> i.immediate();
            case Operand.CL -> state.registers[CpuState.RCX] & 0xFF;
            default -> throw new IllegalStateException(i + " has no operand of kind " + kind);
        };
    }

    public long readDestination(Instruction i) {
        if (i.destination() == Operand.RM && i.memory() && i.has(Instruction.LOCK)) {
            return readLocked(i);
        }
        return read(i, i.destination());
    }

    public long readSource(Instruction i) {
        return read(i, i.source());
    }

    public void writeDestination(Instruction i, long value) {
        if (i.destination() == Operand.REG) {
            state.write(i.reg(), i.operandSize(), value);
        } else if (!i.memory()) {
            state.write(i.rm(), i.operandSize(), value);
        } else if (lockedHost >= 0) {
            if (!bus.compareAndSetRam(lockedHost, i.operandSize(), lockedExpected, value)) {
                throw LOCK_RETRY;
            }
        } else {
            writeMemory(i.segment(), effectiveAddress(i), i.operandSize(), value);
        }
    }

    /** The r/m operand read as {@code size} bytes. */
    public long readRm(Instruction i, int size) {
        return i.memory() ? readMemory(i.segment(), effectiveAddress(i), size) : state.read(i.rm(), size);
    }

    public void writeRm(Instruction i, int size, long value) {
        if (i.memory()) {
            writeMemory(i.segment(), effectiveAddress(i), size, value);
        } else {
            state.write(i.rm(), size, value);
        }
    }

    public void writeReg(Instruction i, long value) {
        state.write(i.reg(), i.operandSize(), value);
    }

    /**
     * A LOCKed read-modify-write: aligned RAM is read here and written back with compare-and-set;
     * anything else runs with the guest's {@link BusLock} held.
     */
    private long readLocked(Instruction i) {
        long host = atomicHost(i.segment(), effectiveAddress(i), i.operandSize());
        if (host >= 0) {
            lockedHost = host;
            lockedExpected = bus.readRam(host, i.operandSize());
            return lockedExpected;
        }
        lockBus();
        return readMemory(i.segment(), effectiveAddress(i), i.operandSize());
    }

    /**
     * The host address of the {@code size} bytes at {@code offset} for {@link #compareAndSetHost},
     * or -1 where only {@link #lockBus} makes a locked access atomic (device memory, a misaligned
     * operand, another core holding the bus). Every locked read-modify-write of RAM must go
     * through one of the two: one made without could lose another vCPU's update in between.
     */
    public long atomicHost(int segment, long offset, int size) {
        long host = mmu.hostForAtomic(linear(segment, offset), size, state.cpl() == 3);
        if (host < 0) {
            return -1;
        }
        busAccess = true;
        return busLock.beginAtomic() ? host : -1;
    }

    /** The host offset of {@code linear}'s RAM for {@code access} at the current privilege, if the TLB holds it, else -1. */
    public long cachedHost(long linear, int access) {
        return mmu.hostFor(linear, access, state.cpl() == 3);
    }

    public long readHost(long host, int size) {
        return bus.readRam(host, size);
    }

    public boolean compareAndSetHost(long host, int size, long expected, long value) {
        return bus.compareAndSetRam(host, size, expected, value);
    }

    /**
     * Holds the guest's bus lock until the current instruction ends (CMPXCHG16B, a misaligned or
     * device LOCKed access), once no other core is inside an atomic access.
     */
    public void lockBus() {
        busAccess = true;
        busLock.lock();
    }

    /** The offset of the memory operand, wrapped to the address size. */
    public long effectiveAddress(Instruction i) {
        long address = i.displacement();
        if (i.base() >= 0) {
            address += state.registers[i.base()];
        } else if (i.base() == Instruction.RIP_BASE) {
            address += state.rip;
        }
        if (i.index() >= 0) {
            address += state.registers[i.index()] << i.scale();
        }
        return wrapAddress(address, i.addressSize());
    }

    public static long wrapAddress(long address, int addressSize) {
        return switch (addressSize) {
            case 2 -> address & 0xFFFF;
            case 4 -> address & 0xFFFF_FFFFL;
            default -> address;
        };
    }

    // ---- memory -------------------------------------------------------------------------------

    /** The linear address of {@code offset} in segment {@code segment} (64-bit mode: only FS and GS have bases). */
    public long linear(int segment, long offset) {
        if (state.in64BitMode()) {
            return segment >= CpuState.FS ? state.segments[segment].base + offset : offset;
        }
        return (state.segments[segment].base + offset) & 0xFFFF_FFFFL;
    }

    public long readMemory(int segment, long offset, int size) {
        return mmu.read(linear(segment, offset), size, state.cpl() == 3);
    }

    public void writeMemory(int segment, long offset, int size, long value) {
        mmu.write(linear(segment, offset), size, value, state.cpl() == 3);
    }

    /**
     * Faults now if any of the {@code size} bytes at {@code offset} could not be written, so that
     * a store made of several writes (16 bytes, FXSAVE's image, ENTER's frame) is all or nothing.
     */
    public void requireWritable(int segment, long offset, int size) {
        boolean user = state.cpl() == 3;
        mmu.translate(linear(segment, offset), Mmu.WRITE, user);
        mmu.translate(linear(segment, offset + size - 1), Mmu.WRITE, user);
    }

    /** A supervisor-mode read of a linear address (descriptor tables, the TSS), whatever the CPL. */
    public long readSystem(long linear, int size) {
        return mmu.read(linear, size, false);
    }

    public void writeSystem(long linear, int size, long value) {
        mmu.write(linear, size, value, false);
    }

    // ---- the stack ----------------------------------------------------------------------------

    /** The stack's address size: 8 in 64-bit mode, else by SS.B. */
    public int stackAddressSize() {
        if (state.in64BitMode()) {
            return 8;
        }
        return state.segments[CpuState.SS].defaultBig() ? 4 : 2;
    }

    public void push(int size, long value) {
        int addressSize = stackAddressSize();
        long rsp = wrapAddress(state.registers[CpuState.RSP] - size, addressSize);
        writeMemory(CpuState.SS, rsp, size, value);
        state.write(CpuState.RSP, addressSize, rsp);
    }

    public long pop(int size) {
        int addressSize = stackAddressSize();
        long rsp = wrapAddress(state.registers[CpuState.RSP], addressSize);
        long value = readMemory(CpuState.SS, rsp, size);
        state.write(CpuState.RSP, addressSize, rsp + size);
        return value;
    }

    /** Reads the stack {@code depth} bytes above the top without popping. */
    public long peek(int size, int depth) {
        int addressSize = stackAddressSize();
        return readMemory(CpuState.SS, wrapAddress(state.registers[CpuState.RSP] + depth, addressSize), size);
    }

    // ---- control flow ---------------------------------------------------------------------------

    /** Continues at {@code target}, truncated to the operand size as near branches do. */
    public void jump(long target, int operandSize) {
        state.rip = switch (operandSize) {
            case 2 -> target & 0xFFFF;
            case 4 -> target & 0xFFFF_FFFFL;
            default -> target;
        };
    }

    // ---- ports --------------------------------------------------------------------------------

    public long readPort(int port, int size) {
        watchPort(port, size);
        counters.exited(ExitReason.IO);
        return traps.readPort(port, size);
    }

    public void writePort(int port, int size, long value) {
        watchPort(port, size);
        counters.exited(ExitReason.IO);
        traps.writePort(port, size, value);
    }

    /** With CR4.DE the debug registers may name ports: the access is reported to them. */
    private void watchPort(int port, int size) {
        if ((state.cr4 & ControlRegisters.CR4_DE) != 0) {
            state.debug.accessedPort(port, size);
        }
    }

    /** Requires CPL 0 (the privileged instructions), else #GP(0). */
    public void requireKernel() {
        if (state.cpl() != 0) {
            throw CpuException.generalProtection();
        }
    }

    /** Requires I/O privilege (CPL <= IOPL) for CLI and STI, else #GP(0). */
    public void requireIoPrivilege() {
        if (!hasIoPrivilege()) {
            throw CpuException.generalProtection();
        }
    }

    private boolean hasIoPrivilege() {
        return !state.protectedMode() || state.cpl() <= ((state.flags.get() & Flags.IOPL) >>> 12);
    }

    /**
     * IN, OUT, INS and OUTS of {@code size} bytes at {@code port}: allowed with I/O privilege,
     * and without it where the I/O permission bitmap of the TSS has a clear bit for every one of
     * the ports (Linux's ioperm() grants ports so); else #GP(0), as for a bitmap the TSS's limit cuts off.
     */
    public void requirePortAccess(int port, int size) {
        if (hasIoPrivilege()) {
            return;
        }
        SegmentRegister task = state.tr;
        boolean wideTss = (task.attributes & TSS_TYPE_MASK) == TSS_TYPE && task.limit >= TSS_BITMAP_BASE + 1;
        if (!wideTss) {
            throw CpuException.generalProtection();
        }
        long offset = readSystem(task.base + TSS_BITMAP_BASE, 2) + (port >>> 3);
        if (offset + 1 > Integer.toUnsignedLong(task.limit)) {
            throw CpuException.generalProtection();
        }
        if ((readSystem(task.base + offset, 2) >>> (port & 7) & ((1 << size) - 1)) != 0) {
            throw CpuException.generalProtection();
        }
    }
}
