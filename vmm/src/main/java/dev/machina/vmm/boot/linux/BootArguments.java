package dev.machina.vmm.boot.linux;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What a Linux boot hands the kernel besides the kernel itself.
 *
 * @param commandLine the kernel command line
 * @param initrd      the initial RAM disk file, if any (a cpio archive, usually compressed)
 * @param acpiRsdp    the address of the ACPI RSDP, if the guest has ACPI tables
 * @param memoryMap   the guest's memory map; {@link E820Map#standard} for the usual PC layout
 */
public record BootArguments(String commandLine, Optional<Path> initrd, OptionalLong acpiRsdp, E820Map memoryMap) {
}
