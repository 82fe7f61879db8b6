package dev.machina.hypervisor.x86;

/** The GDTR or IDTR: linear base address and limit. */
public record DescriptorTable(long base, int limit) {
    public static DescriptorTable empty() {
        return new DescriptorTable(0, 0xFFFF);
    }
}
