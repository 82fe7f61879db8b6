package dev.machina.cpu.fault;

/** The architectural exception vectors. */
public final class Vector {
    public static final int DE = 0;
    public static final int DB = 1;
    public static final int NMI = 2;
    public static final int BP = 3;
    public static final int OF = 4;
    public static final int BR = 5;
    public static final int UD = 6;
    public static final int NM = 7;
    public static final int DF = 8;
    public static final int TS = 10;
    public static final int NP = 11;
    public static final int SS = 12;
    public static final int GP = 13;
    public static final int PF = 14;
    public static final int MF = 16;
    public static final int AC = 17;
    /** SIMD floating-point exception (an unmasked MXCSR exception with CR4.OSXMMEXCPT). */
    public static final int XM = 19;

    private Vector() {
    }

    /** Whether the CPU pushes an error code when delivering this exception. */
    public static boolean hasErrorCode(int vector) {
        return vector == DF || (vector >= TS && vector <= PF) || vector == AC;
    }

    /** The "contributory" class of the double-fault rules. */
    public static boolean contributory(int vector) {
        return vector == DE || (vector >= TS && vector <= GP);
    }
}
