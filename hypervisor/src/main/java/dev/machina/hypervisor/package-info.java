/**
 * The hypervisor API: the object model of the Zircon hypervisor on the JVM. A {@link
 * dev.machina.hypervisor.Guest} is a physical address space with traps (MEM and IO synchronous,
 * BELL asynchronous), vCPUs and interrupt lines; a {@link dev.machina.hypervisor.Hypervisor} is a
 * backend that runs guests (KVM, or the pure-Java CPU), chosen by {@link
 * dev.machina.hypervisor.Backends}.
 */
package dev.machina.hypervisor;
