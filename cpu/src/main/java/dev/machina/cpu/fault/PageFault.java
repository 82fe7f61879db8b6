package dev.machina.cpu.fault;

/** #PF: the faulting linear address goes to CR2 when the fault is delivered. */
public final class PageFault extends CpuException {
    public static final int PRESENT = 1;
    public static final int WRITE = 1 << 1;
    public static final int USER = 1 << 2;
    public static final int RESERVED = 1 << 3;
    public static final int FETCH = 1 << 4;

    private final long address;

    public PageFault(long address, int errorCode) {
        super(Vector.PF, errorCode);
        this.address = address;
    }

    public long address() {
        return address;
    }
}
