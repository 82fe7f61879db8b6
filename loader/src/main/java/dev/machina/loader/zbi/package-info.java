/**
 * Zircon's boot image: {@link dev.machina.loader.zbi.Zbi} reads, checks and writes the container
 * and its {@link dev.machina.loader.zbi.ZbiItem}s, {@link dev.machina.loader.zbi.ZirconKernel} is a
 * bootable image's x86-64 kernel and where it goes in memory.
 */
package dev.machina.loader.zbi;
