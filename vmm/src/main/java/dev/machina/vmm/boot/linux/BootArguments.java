package dev.machina.vmm.boot.linux;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a boot hands the kernel besides the kernel itself (Linux's, and Zircon's in {@code boot/zircon}).
 *
 * @param commandLine the kernel command line
 * @param initrd      the initial RAM disk file, if any (for Linux a cpio archive, usually
 *                    compressed; for Zircon a ZBI of more items)
 * @param acpiRsdp    the address of the ACPI RSDP, if the guest has ACPI tables
 * @param memoryMap   the guest's memory map; {@link E820Map#standard} for the usual PC layout
 */
public record BootArguments(String commandLine, Optional<Path> initrd, OptionalLong acpiRsdp, E820Map memoryMap) {
}
