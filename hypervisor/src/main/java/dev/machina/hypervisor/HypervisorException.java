package dev.machina.hypervisor;

/** A backend could not do what was asked: open, create a guest or vCPU, map memory. */
public class HypervisorException extends RuntimeException {
    public HypervisorException(String message) {
        super(message);
    }

    public HypervisorException(String message, Throwable cause) {
        super(message, cause);
    }
}
