package dev.machina.hypervisor.os;

/** A failed system call: which one, and the errno it failed with. */
public final class PosixException extends RuntimeException {
    private final String call;
    private final int errno;

    public PosixException(String call, int errno, String description) {
        super(call + " failed: " + description + " (errno " + errno + ")");
        this.call = call;
        this.errno = errno;
    }

    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }
}
