package dev.machina.vmm;

/** How a guest ended, and the exit status {@code guest launch} reports for it. */
public sealed interface GuestOutcome {
    int POWERED_OFF_STATUS = 0;
    int FAILED_STATUS = 1;
    int REBOOTED_STATUS = 2;
    int SHUTDOWN_STATUS = 3;
    int STOPPED_STATUS = 4;

    int exitStatus();

    /** One line for the user. */
    String describe();

    /** The guest powered off (ACPI S5, or the backend's shutdown event). */
    record PoweredOff() implements GuestOutcome {
        public int exitStatus() {
            return POWERED_OFF_STATUS;
        }

        public String describe() {
            return "guest powered off";
        }
    }

    /** The guest asked for a reset (i8042 reset line, or the backend's reset event). */
    record Rebooted() implements GuestOutcome {
        public int exitStatus() {
            return REBOOTED_STATUS;
        }

        public String describe() {
            return "guest rebooted (restart is not configured, so it ended)";
        }
    }

    /** A vCPU shut down: a triple fault, or an exception it could not deliver. */
    record Shutdown(String detail) implements GuestOutcome {
        public int exitStatus() {
            return SHUTDOWN_STATUS;
        }

        public String describe() {
            return "guest shut down (triple fault): " + detail;
        }
    }

    /** The user ended the guest from the console. */
    record Stopped() implements GuestOutcome {
        public int exitStatus() {
            return STOPPED_STATUS;
        }

        public String describe() {
            return "guest stopped";
        }
    }

    /** The VMM or the backend could not go on. */
    record Failed(String reason) implements GuestOutcome {
        public int exitStatus() {
            return FAILED_STATUS;
        }

        public String describe() {
            return "guest failed: " + reason;
        }
    }
}
