/**
 * The chipset the Java backend supplies itself, as KVM supplies it in the kernel: a local APIC per
 * vCPU, the IOAPIC, the 8259 PIC pair, the 8254 PIT (with port 0x61) and the TSC. The CPU core
 * sees only {@link dev.machina.cpu.chipset.InterruptController} and {@link
 * dev.machina.cpu.chipset.ProcessorControl}; the guest sees registers at the usual ports and addresses.
 */
package dev.machina.cpu.chipset;
