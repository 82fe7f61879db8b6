package dev.machina.cpu.state;

import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.DescriptorTable;
import dev.machina.hypervisor.x86.GeneralRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.SegmentRegisters;
import dev.machina.hypervisor.x86.X86State;

/**
 * The architectural state of one core as the executor mutates it: plain fields and arrays, so an
 * instruction touches registers without allocating. Conversion to and from the hypervisor API's
 * immutable {@link X86State} happens only at the edges (readState/writeState).
 */
public final class CpuState {
    public static final int ES = 0;
    public static final int CS = 1;
    public static final int SS = 2;
    public static final int DS = 3;
    public static final int FS = 4;
    public static final int GS = 5;

    public static final int RAX = 0;
    public static final int RCX = 1;
    public static final int RDX = 2;
    public static final int RBX = 3;
    public static final int RSP = 4;
    public static final int RBP = 5;
    public static final int RSI = 6;
    public static final int RDI = 7;
    public static final int R11 = 11;

    /**
     * Byte-register numbers 16..19 name AH, CH, DH, BH: the decoder resolves the legacy encoding
     * (no REX, register 4..7) to them, so the executor never re-examines prefixes.
     */
    public static final int AH = 16;

    public final long[] registers = new long[16];
    public long rip;
    public final Flags flags = new Flags();
    public final SegmentRegister[] segments = new SegmentRegister[6];
    public final SegmentRegister tr = new SegmentRegister();
    public final SegmentRegister ldtr = new SegmentRegister();
    public long cr0;
    public long cr2;
    public long cr3;
    public long cr4;
    public long cr8;
    public long efer;
    public long gdtBase;
    public int gdtLimit;
    public long idtBase;
    public int idtLimit;
    public final DebugRegisters debug = new DebugRegisters();
    public final ModelSpecificRegisters msrs = new ModelSpecificRegisters();
    /** The x87 and MMX state; INIT leaves it as it is, as on hardware. */
    public final X87Registers x87 = new X87Registers();
    public final XmmRegisters sse = new XmmRegisters();

    public CpuState() {
        for (int i = 0; i < segments.length; i++) {
            segments[i] = new SegmentRegister();
        }
        load(X86State.reset());
    }

    /** Reads register {@code r} as {@code size} bytes, zero-extended. */
    public long read(int r, int size) {
        return switch (size) {
            case 1 -> r >= AH ? (registers[r - AH] >>> 8) & 0xFF : registers[r] & 0xFF;
            case 2 -> registers[r] & 0xFFFF;
            case 4 -> registers[r] & 0xFFFF_FFFFL;
            default -> registers[r];
        };
    }

    /** Writes register {@code r} as {@code size} bytes: 8- and 16-bit writes merge, 32-bit writes zero-extend. */
    public void write(int r, int size, long value) {
        switch (size) {
            case 1 -> {
                if (r >= AH) {
                    registers[r - AH] = (registers[r - AH] & ~0xFF00L) | ((value & 0xFF) << 8);
                } else {
                    registers[r] = (registers[r] & ~0xFFL) | (value & 0xFF);
                }
            }
            case 2 -> registers[r] = (registers[r] & ~0xFFFFL) | (value & 0xFFFF);
            case 4 -> registers[r] = value & 0xFFFF_FFFFL;
            default -> registers[r] = value;
        }
    }

    public boolean protectedMode() {
        return (cr0 & ControlRegisters.CR0_PE) != 0;
    }

    public boolean pagingEnabled() {
        return (cr0 & ControlRegisters.CR0_PG) != 0;
    }

    public boolean longModeActive() {
        return (efer & ControlRegisters.EFER_LMA) != 0;
    }

    /** Whether the core runs 64-bit code: long mode active and CS.L set. */
    public boolean in64BitMode() {
        return longModeActive() && segments[CS].longMode();
    }

    /** The current privilege level: CS's DPL in protected mode (its RPL equals it), 0 in real mode. */
    public int cpl() {
        return protectedMode() ? segments[CS].selector & 3 : 0;
    }

    public void load(X86State state) {
        for (Register register : Register.values()) {
            long value = state.get(register);
            switch (register) {
                case RIP -> rip = value;
                case RFLAGS -> flags.set(value);
                default -> registers[register.ordinal()] = value;
            }
        }
        SegmentRegisters s = state.segments();
        segments[ES].load(s.es());
        segments[CS].load(s.cs());
        segments[SS].load(s.ss());
        segments[DS].load(s.ds());
        segments[FS].load(s.fs());
        segments[GS].load(s.gs());
        tr.load(s.tr());
        ldtr.load(s.ldtr());
        ControlRegisters c = state.control();
        cr0 = c.cr0();
        cr2 = c.cr2();
        cr3 = c.cr3();
        cr4 = c.cr4();
        cr8 = c.cr8();
        efer = c.efer();
        gdtBase = state.gdt().base();
        gdtLimit = state.gdt().limit();
        idtBase = state.idt().base();
        idtLimit = state.idt().limit();
    }

    public X86State toX86State() {
        long[] values = new long[Register.values().length];
        System.arraycopy(registers, 0, values, 0, registers.length);
        values[Register.RIP.ordinal()] = rip;
        values[Register.RFLAGS.ordinal()] = flags.get();
        SegmentRegisters s = new SegmentRegisters(segments[CS].toSegment(), segments[DS].toSegment(),
                segments[ES].toSegment(), segments[FS].toSegment(), segments[GS].toSegment(), segments[SS].toSegment(),
                tr.toSegment(), ldtr.toSegment());
        return new X86State(GeneralRegisters.of(values), s, new ControlRegisters(cr0, cr2, cr3, cr4, cr8, efer),
                new DescriptorTable(gdtBase, gdtLimit), new DescriptorTable(idtBase, idtLimit));
    }
}
