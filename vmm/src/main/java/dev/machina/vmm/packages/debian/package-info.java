/**
 * Guest ingredients from Debian: {@link dev.machina.vmm.packages.debian.DebianArchive} fetches
 * {@code .deb}s with the host's apt, {@link dev.machina.vmm.packages.debian.DebPackage} extracts
 * files from them, {@link dev.machina.vmm.packages.debian.Initramfs} writes the initrd a kernel
 * unpacks into its root file system.
 */
package dev.machina.vmm.packages.debian;
