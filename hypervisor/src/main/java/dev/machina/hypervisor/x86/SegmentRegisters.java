package dev.machina.hypervisor.x86;

/** The six segment registers, the task register and the LDT register. */
public record SegmentRegisters(Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss,
                               Segment tr, Segment ldtr) {

    /** The segments after RESET: real mode, CS:IP = F000:FFF0 with the high base. */
    public static SegmentRegisters reset() {
        Segment data = Segment.realMode(0, false);
        Segment code = new Segment(0xF000, 0xFFFF_0000L, 0xFFFF, Segment.realMode(0xF000, true).accessRights());
        return new SegmentRegisters(code, data, data, data, data, data,
                new Segment(0, 0, 0xFFFF, Segment.TYPE_TSS_BUSY_64 | (1 << 7)),
                new Segment(0, 0, 0xFFFF, Segment.TYPE_LDT | (1 << 7)));
    }

    /** Flat 64-bit segments: code at {@code codeSelector}, data at {@code codeSelector + 8}. */
    public static SegmentRegisters flat64(int codeSelector) {
        Segment data = Segment.flatData(codeSelector + 8);
        return new SegmentRegisters(Segment.code64(codeSelector), data, data, data, data, data,
                Segment.taskState(0, 0, 0x67), Segment.unusable());
    }

    /** Flat 32-bit segments: code at {@code codeSelector}, data at {@code codeSelector + 8}. */
    public static SegmentRegisters flat32(int codeSelector) {
        Segment data = Segment.flatData(codeSelector + 8);
        return new SegmentRegisters(Segment.code32(codeSelector), data, data, data, data, data,
                Segment.taskState(0, 0, 0x67), Segment.unusable());
    }
}
