/**
 * The ACPI tables of an x86 guest: {@link dev.machina.vmm.arch.x86.acpi.AcpiTables} writes RSDP,
 * XSDT, RSDT, FADT, FACS, MADT and a DSDT (hand-encoded with {@link dev.machina.vmm.arch.x86.acpi.Aml})
 * into the BIOS area for the platform an {@link dev.machina.vmm.arch.x86.acpi.AcpiConfig} describes.
 */
package dev.machina.vmm.arch.x86.acpi;
