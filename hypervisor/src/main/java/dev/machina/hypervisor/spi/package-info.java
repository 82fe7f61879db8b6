/**
 * What backends share: the trap tables and their dispatch, the vCPU thread and its lifecycle, the
 * guest's bookkeeping. The VMM never uses this package; it sees only {@code dev.machina.hypervisor}.
 */
package dev.machina.hypervisor.spi;
