package dev.machina.vmm.arch.x86.acpi;

import dev.machina.vmm.arch.x86.I8042;

/** The I/O port and value the FADT tells the guest to write to reset the machine. */
public record ResetRegister(int port, int value) {
    /** The i8042 keyboard controller's "pulse reset line" command, which Linux also tries without ACPI. */
    public static final ResetRegister KEYBOARD_CONTROLLER = new ResetRegister(I8042.COMMAND_PORT, 0xFE);
    /** The PCI reset control register of Intel chipsets: a hard reset. */
    public static final ResetRegister RESET_CONTROL_CF9 = new ResetRegister(0xCF9, 0x06);

    public ResetRegister {
        AcpiConfig.requirePort("reset register", port);
        if (value < 0 || value > 0xFF) {
            throw new IllegalArgumentException("reset value 0x%x is not a byte".formatted(value));
        }
    }
}
