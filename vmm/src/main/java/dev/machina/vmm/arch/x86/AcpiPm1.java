package dev.machina.vmm.arch.x86;

import dev.machina.vmm.devices.ByteRegisters;
import dev.machina.vmm.devices.InterruptLine;

/**
 * The ACPI PM1a event and control blocks at {@link #BASE}: PM1a_EVT_BLK (status, enable; 2 bytes
 * each) at 0x600 and PM1a_CNT_BLK (2 bytes) at 0x604. Setting SLP_EN with SLP_TYP {@link #S5}, the
 * value the DSDT's \_S5 object names, powers the machine off; other sleep states are not offered
 * and such writes are ignored. SCI_EN reads as set: the machine is always in ACPI mode.
 * {@link #pressPowerButton()} is the fixed power button: it sets PWRBTN_STS, and the SCI is
 * asserted while a status bit is set whose enable bit the guest set (Linux enables the button's).
 */
public final class AcpiPm1 implements ByteRegisters {
    public static final int BASE = 0x600;
    public static final int EVENT_BLOCK = BASE;
    public static final int CONTROL_BLOCK = BASE + 4;
    /** The ports the blocks take, the control block padded to four bytes. */
    public static final int PORTS = 8;
    /** SLP_TYP for soft-off. */
    public static final int S5 = 5;

    private static final int SCI_EN = 1;
    private static final int SLP_TYP_SHIFT = 10;
    private static final int SLP_EN = 1 << 13;

    static final int PWRBTN = 1 << 8;

    private static final int STATUS = 0;
    private static final int ENABLE = 2;
    private static final int CONTROL = 4;

    private final PlatformControl platform;
    private final InterruptLine sci;
    private int status;
    private int enable;
    private int control = SCI_EN;

    public AcpiPm1(PlatformControl platform, InterruptLine sci) {
        this.platform = platform;
        this.sci = sci;
    }

    /** A press of the power button, as ACPI's fixed-feature button reports it to the guest. */
    public synchronized void pressPowerButton() {
        status |= PWRBTN;
        updateSci();
    }

    private void updateSci() {
        sci.set((status & enable) != 0);
    }

    @Override
    public synchronized int readByte(int offset) {
        int register = switch (offset & ~1) {
            case STATUS -> status;
            case ENABLE -> enable;
            case CONTROL -> control;
            default -> 0;
        };
        return (register >>> (8 * (offset & 1))) & 0xFF;
    }

    @Override
    public synchronized void writeByte(int offset, int value) {
        int shift = 8 * (offset & 1);
        switch (offset & ~1) {
            // Status bits are cleared by writing ones.
            case STATUS -> status &= ~(value << shift);
            case ENABLE -> enable = (enable & ~(0xFF << shift)) | value << shift;
            case CONTROL -> {
                int written = (control & ~(0xFF << shift)) | value << shift;
                control = (written & ~SLP_EN) | SCI_EN;
                if ((written & SLP_EN) != 0 && ((written >>> SLP_TYP_SHIFT) & 7) == S5) {
                    platform.powerOff();
                }
            }
            default -> {
                // The control block's padding.
            }
        }
        updateSci();
    }
}
