package dev.machina.vmm.devices.pci;

/**
 * Who a PCI function says it is: the ids {@code lspci -n} shows and the drivers match on.
 *
 * @param classCode the 24-bit class code: base class, subclass and programming interface
 */
public record PciIdentity(int vendor, int device, int subsystemVendor, int subsystem, int revision, int classCode) {
    public PciIdentity {
        requireWord("vendor", vendor);
        requireWord("device", device);
        requireWord("subsystem vendor", subsystemVendor);
        requireWord("subsystem", subsystem);
        if (revision < 0 || revision > 0xFF || classCode < 0 || classCode > 0xFF_FFFF) {
            throw new IllegalArgumentException("bad PCI revision 0x%x or class 0x%x".formatted(revision, classCode));
        }
    }

    private static void requireWord(String what, int value) {
        if (value < 0 || value > 0xFFFF) {
            throw new IllegalArgumentException("PCI %s id 0x%x is not 16 bits".formatted(what, value));
        }
    }
}
