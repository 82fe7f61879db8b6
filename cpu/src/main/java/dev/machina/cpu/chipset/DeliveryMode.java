package dev.machina.cpu.chipset;

/**
 * How an interrupt message is delivered (bits 10:8 of the ICR, of an IOAPIC redirection entry and
 * of MSI data). The encodings 3 is reserved; it is treated as {@link #FIXED}, as KVM does.
 */
public enum DeliveryMode {
    FIXED,
    LOWEST_PRIORITY,
    SMI,
    RESERVED,
    NMI,
    INIT,
    STARTUP,
    EXTINT;

    private static final DeliveryMode[] BY_CODE = values();

    /** The mode encoded in the three bits at {@code shift} of {@code register}. */
    public static DeliveryMode decode(long register, int shift) {
        DeliveryMode mode = BY_CODE[(int) (register >>> shift) & 7];
        return mode == RESERVED ? FIXED : mode;
    }
}
