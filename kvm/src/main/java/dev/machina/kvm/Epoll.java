package dev.machina.kvm;

import dev.machina.hypervisor.os.Posix;
import dev.machina.hypervisor.os.PosixException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * An epoll instance watching descriptors for input, each registered with its own number as the
 * event's data. Waiting allocates nothing.
 */
final class Epoll implements AutoCloseable {
    private static final int EPOLL_CLOEXEC = 0x80000;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    private static final int EPOLLIN = 1;
    private static final int EINTR = 4;

    /** {@code struct epoll_event}, packed on x86-64. */
    private static final StructLayout EVENT = MemoryLayout.structLayout(
            JAVA_INT.withName("events"), JAVA_LONG_UNALIGNED.withName("data"));
    private static final VarHandle EVENTS = KvmStructs.field(EVENT, "events");
    private static final VarHandle DATA = KvmStructs.field(EVENT, "data");

    private static final MethodHandle CREATE = Posix.errnoCall("epoll_create1", JAVA_INT, JAVA_INT);
    private static final MethodHandle CTL = Posix.errnoCall("epoll_ctl", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
    private static final MethodHandle WAIT = Posix.errnoCall("epoll_wait", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);

    private final int fd;
    private final int capacity;
    private final MemorySegment ready;

    /** A new epoll instance that reports up to {@code capacity} ready descriptors per wait. */
    Epoll(Arena arena, int capacity) {
        this.fd = (int) Posix.checked("epoll_create1", () -> (int) CREATE.invokeExact(Posix.errnoCapture(), EPOLL_CLOEXEC));
        this.capacity = capacity;
        this.ready = arena.allocate(EVENT, capacity);
    }

    void add(int watched) {
        control(EPOLL_CTL_ADD, watched);
    }

    void remove(int watched) {
        control(EPOLL_CTL_DEL, watched);
    }

    private void control(int operation, int watched) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(EVENT);
            EVENTS.set(event, 0L, EPOLLIN);
            DATA.set(event, 0L, (long) watched);
            Posix.checked("epoll_ctl", () -> (int) CTL.invokeExact(Posix.errnoCapture(), fd, operation, watched, event));
        }
    }

    /** Waits until some descriptors are readable and returns how many; 0 when a signal interrupted. */
    int await() {
        int count;
        try {
            count = (int) WAIT.invokeExact(Posix.errnoCapture(), fd, ready, capacity, -1);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        try {
            return (int) Errno.check("epoll_wait", count);
        } catch (PosixException e) {
            if (e.errno() == EINTR) {
                return 0;
            }
            throw e;
        }
    }

    /** The descriptor of ready event {@code index} of the last {@link #await()}. */
    int readyDescriptor(int index) {
        return (int) (long) DATA.get(ready, index * EVENT.byteSize());
    }

    @Override
    public void close() {
        Posix.close(fd);
    }
}
