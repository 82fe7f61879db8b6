/**
 * Booting Linux on x86-64: {@link dev.machina.vmm.boot.linux.LinuxBoot} places a vmlinux (as is, or
 * unpacked from a bzImage), its command line and initrd in guest RAM, fills the zero page
 * ({@link dev.machina.vmm.boot.linux.ZeroPage}) or the PVH start info, and returns the boot vCPU's
 * entry state; {@link dev.machina.vmm.boot.linux.E820Map} is the memory map both carry.
 */
package dev.machina.vmm.boot.linux;
