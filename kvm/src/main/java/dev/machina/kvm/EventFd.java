package dev.machina.kvm;

import dev.machina.hypervisor.os.Posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A Linux eventfd: a counter KVM signals (ioeventfd) or waits on (irqfd) without a trip through
 * user space. Signalling and draining allocate nothing.
 */
final class EventFd implements AutoCloseable {
    private static final int EFD_NONBLOCK = 0x800;
    private static final int EFD_CLOEXEC = 0x80000;
    private static final MethodHandle EVENTFD = Posix.errnoCall("eventfd", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle READ = Posix.errnoCall("read", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle WRITE = Posix.errnoCall("write", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    /** The 8-byte counter increment every signal writes; shared read-only by all threads. */
    private static final MemorySegment ONE = Arena.global().allocateFrom(JAVA_LONG, 1L);

    private final int fd;

    private EventFd(int fd) {
        this.fd = fd;
    }

    /** A new non-blocking eventfd with its counter at zero. */
    static EventFd create() {
        return new EventFd((int) Posix.checked("eventfd",
                () -> (int) EVENTFD.invokeExact(Posix.errnoCapture(), 0, EFD_NONBLOCK | EFD_CLOEXEC)));
    }

    int fd() {
        return fd;
    }

    /** Adds one to the counter, waking whoever waits on it. */
    void signal() {
        transfer(WRITE, "write(eventfd)", ONE);
    }

    /** Resets the counter; {@code scratch} is 8 bytes the caller owns. */
    void drain(MemorySegment scratch) {
        transfer(READ, "read(eventfd)", scratch);
    }

    /** Reads or writes the 8-byte counter, as eventfds are always read and written. */
    private void transfer(MethodHandle call, String name, MemorySegment counter) {
        long result;
        try {
            result = (long) call.invokeExact(Posix.errnoCapture(), fd, counter, JAVA_LONG.byteSize());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        Errno.check(name, result);
    }

    @Override
    public void close() {
        Posix.close(fd);
    }
}
