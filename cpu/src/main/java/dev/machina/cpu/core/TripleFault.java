package dev.machina.cpu.core;

/** The core shut down: an exception arose while delivering a double fault. */
public final class TripleFault extends RuntimeException {
    public TripleFault(String detail) {
        super(detail, null, false, false);
    }
}
