package dev.machina.vmm;

/**
 * How a guest ended, and the exit status {@code guest launch} reports for it: 0 powered off,
 * 1 failed, 2 rebooted, 3 shut down by a triple fault, 4 stopped from the console.
 */
public sealed interface GuestOutcome {
    /** The guest powered off (ACPI S5, or the backend's shutdown event). */
    record PoweredOff() implements GuestOutcome {
    }

    /** The guest asked for a reset (i8042 reset line, or the backend's reset event); restarting is not offered yet. */
    record Rebooted() implements GuestOutcome {
    }

    /** A vCPU shut down: a triple fault, or an exception it could not deliver. */
    record Shutdown(String detail) implements GuestOutcome {
    }

    /** The user ended the guest from the console. */
    record Stopped() implements GuestOutcome {
    }

    /** The VMM or the backend could not go on. */
    record Failed(String reason) implements GuestOutcome {
    }

    default int exitStatus() {
        return switch (this) {
            case PoweredOff() -> 0;
            case Failed _ -> 1;
            case Rebooted() -> 2;
            case Shutdown _ -> 3;
            case Stopped() -> 4;
        };
    }

    /** One line for the user. */
    default String describe() {
        return switch (this) {
            case PoweredOff() -> "guest powered off";
            case Failed(String reason) -> "guest failed: " + reason;
            case Rebooted() -> "guest rebooted (restart is not offered yet, so it ended)";
            case Shutdown(String detail) -> "guest shut down (triple fault): " + detail;
            case Stopped() -> "guest stopped from the console";
        };
    }
}
