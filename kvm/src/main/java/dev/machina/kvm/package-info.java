/**
 * The KVM backend of the hypervisor API, through {@code java.lang.foreign}: {@link
 * dev.machina.kvm.KvmProvider} is found by {@link java.util.ServiceLoader} as backend {@code kvm}.
 * Units follow KVM's objects: {@code KvmSystem} ({@code /dev/kvm}), {@code KvmVm} (a VM and its
 * requests), {@code KvmVcpu} (a vCPU and its resume loop) with {@code KvmRun} (the page it shares
 * with KVM) and {@code KvmState} (its registers); {@code KvmStructs} and {@code KvmIoctls} declare
 * the kernel's structs and requests once; {@code EventFdLoop}, {@code IoeventfdBells} and {@code
 * InterruptLines} connect doorbells and interrupt lines through eventfds; {@code VcpuSignals} kicks
 * vCPU threads out of the kernel.
 */
package dev.machina.kvm;
