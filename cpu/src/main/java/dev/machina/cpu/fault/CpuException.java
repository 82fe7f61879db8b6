package dev.machina.cpu.fault;

/**
 * An exception the guest must see: raised by the executor or the MMU, caught by the core's loop
 * and delivered through the IDT. Exceptions are rare, so each is a fresh object, but without a
 * stack trace: it is guest control flow, not a host error.
 */
public class CpuException extends RuntimeException {
    /** The error code pushed for the vectors that take one, else {@link #NO_ERROR_CODE}. */
    public static final int NO_ERROR_CODE = -1;

    private final int vector;
    private final int errorCode;

    public CpuException(int vector, int errorCode) {
        super(null, null, false, false);
        this.vector = vector;
        this.errorCode = errorCode;
    }

    public static CpuException of(int vector) {
        return new CpuException(vector, Vector.hasErrorCode(vector) ? 0 : NO_ERROR_CODE);
    }

    /** #GP with error code 0 (the common case). */
    public static CpuException generalProtection() {
        return new CpuException(Vector.GP, 0);
    }

    /** #GP, #NP, #SS or #TS naming a selector (its index and table bits). */
    public static CpuException selector(int vector, int selector) {
        return new CpuException(vector, selector & 0xFFFC);
    }

    public static CpuException invalidOpcode() {
        return new CpuException(Vector.UD, NO_ERROR_CODE);
    }

    public int vector() {
        return vector;
    }

    public int errorCode() {
        return errorCode;
    }

    @Override
    public String getMessage() {
        return "vector " + vector + (errorCode == NO_ERROR_CODE ? "" : " error " + Integer.toHexString(errorCode));
    }
}
