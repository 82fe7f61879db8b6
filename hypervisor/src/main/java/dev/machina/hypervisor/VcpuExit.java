package dev.machina.hypervisor;

/** Why a vCPU's loop ended. */
public sealed interface VcpuExit {
    /** {@link Vcpu#stop()} was called (by the VMM, or by a trap handler ending the guest). */
    record Stopped() implements VcpuExit {
    }

    /** The vCPU shut down: a triple fault, or an exception it could not deliver. */
    record Shutdown(String detail) implements VcpuExit {
    }

    /** The backend reported a platform event (KVM_EXIT_SYSTEM_EVENT). */
    record SystemEvent(Kind kind) implements VcpuExit {
        public enum Kind { SHUTDOWN, RESET, CRASH }
    }

    /** The vCPU could not go on: a failed entry, an emulation failure, a trap handler that threw. */
    record Failed(String reason) implements VcpuExit {
    }
}
