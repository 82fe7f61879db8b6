package dev.machina.vmm.boot.linux;

import dev.machina.hypervisor.memory.AddressRange;

import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * An uncompressed kernel (vmlinux, an ELF file) that the caller has already copied into guest
 * RAM, described by what {@link LinuxBoot} needs to finish the boot.
 *
 * @param file     the kernel file, named in errors
 * @param occupied the guest-physical range its segments (with their zero-filled tails) occupy
 * @param entry64  the physical address of {@code startup_64}: the ELF entry point
 * @param pvhEntry the physical PVH entry point from the XEN_ELFNOTE_PHYS32_ENTRY note, if present
 */
public record LoadedKernel(Path file, AddressRange occupied, long entry64, OptionalLong pvhEntry) {
}
