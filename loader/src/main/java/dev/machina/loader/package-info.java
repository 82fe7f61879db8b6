/**
 * Boot image formats and the boot-time structures a vCPU is entered with: {@link
 * dev.machina.loader.BzImage} reads a Linux bzImage's setup header and unpacks its compressed
 * payload on the host into the vmlinux, {@link dev.machina.loader.ElfImage} places an ELF
 * executable in guest RAM, {@link dev.machina.loader.BootPageTables} and {@link
 * dev.machina.loader.BootGdt} give it the identity mapping and segments a 64-bit entry needs;
 * {@code zbi/} is Zircon's boot image.
 */
package dev.machina.loader;
