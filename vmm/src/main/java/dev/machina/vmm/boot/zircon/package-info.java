/** Zircon's x86-64 boot protocol: a ZBI's kernel at 1 MiB and the data ZBI the VMM builds for it. */
package dev.machina.vmm.boot.zircon;
