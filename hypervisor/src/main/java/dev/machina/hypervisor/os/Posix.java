package dev.machina.hypervisor.os;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few POSIX calls Machina makes, through {@code java.lang.foreign}. Every call that can fail
 * captures {@code errno} and throws a {@link PosixException} naming the call.
 */
public final class Posix {
    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MADV_DONTNEED = 4;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.global().allocate(CAPTURE_LAYOUT));

    private static final MethodHandle OPEN = errnoCall("open", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle CLOSE = errnoCall("close", JAVA_INT, JAVA_INT);
    private static final MethodHandle READ = errnoCall("read", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle WRITE = errnoCall("write", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle IOCTL_PTR = errnoCall("ioctl", JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS);
    private static final MethodHandle IOCTL_LONG = errnoCall("ioctl", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle MMAP = errnoCall("mmap", ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
    private static final MethodHandle MUNMAP = errnoCall("munmap", JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle MADVISE = errnoCall("madvise", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LIBC.find("strerror").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Posix() {
    }

    /** Opens {@code path}; the returned descriptor is close-on-exec. */
    public static int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cPath = arena.allocateFrom(path);
            return (int) checked("open(" + path + ")", () -> (int) OPEN.invokeExact(CAPTURE.get(), cPath, flags | O_CLOEXEC));
        }
    }

    public static void close(int fd) {
        checked("close", () -> (int) CLOSE.invokeExact(CAPTURE.get(), fd));
    }

    public static long read(int fd, MemorySegment buffer, long length) {
        return checked("read", () -> (long) READ.invokeExact(CAPTURE.get(), fd, buffer, length));
    }

    public static long write(int fd, MemorySegment buffer, long length) {
        return checked("write", () -> (long) WRITE.invokeExact(CAPTURE.get(), fd, buffer, length));
    }

    /**
     * {@code read(fd, buffer, length)} returning {@code -errno} instead of throwing, for reads whose
     * failures are part of normal operation (EAGAIN on a non-blocking descriptor). Allocates nothing.
     */
    public static long readOrErrno(int fd, MemorySegment buffer, long length) {
        try {
            MemorySegment capture = CAPTURE.get();
            return orErrno((long) READ.invokeExact(capture, fd, buffer, length), capture);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code write(fd, buffer, length)} returning {@code -errno} instead of throwing, as {@link #readOrErrno}. */
    public static long writeOrErrno(int fd, MemorySegment buffer, long length) {
        try {
            MemorySegment capture = CAPTURE.get();
            return orErrno((long) WRITE.invokeExact(capture, fd, buffer, length), capture);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code ioctl(fd, request, arg)} with a pointer argument; {@code name} is the request's name for errors. */
    public static int ioctl(int fd, long request, MemorySegment arg, String name) {
        return (int) checked(name, () -> (int) IOCTL_PTR.invokeExact(CAPTURE.get(), fd, request, arg));
    }

    /** {@code ioctl(fd, request, arg)} with an integer argument; {@code name} is the request's name for errors. */
    public static int ioctl(int fd, long request, long arg, String name) {
        return (int) checked(name, () -> (int) IOCTL_LONG.invokeExact(CAPTURE.get(), fd, request, arg));
    }

    /**
     * {@code ioctl(fd, request, arg)} returning {@code -errno} instead of throwing, for the calls
     * whose failures are part of normal operation (KVM_RUN interrupted by a signal). Allocates nothing.
     */
    public static int ioctlOrErrno(int fd, long request, long arg) {
        try {
            MemorySegment capture = CAPTURE.get();
            return (int) orErrno((int) IOCTL_LONG.invokeExact(capture, fd, request, arg), capture);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** A call's result, or {@code -errno} where it failed. */
    private static long orErrno(long result, MemorySegment capture) {
        return result >= 0 ? result : -(int) ERRNO.get(capture, 0L);
    }

    /** Maps {@code length} bytes; the segment is not yet bound to an arena. */
    public static MemorySegment mmap(long length, int protection, int flags, int fd, long offset) {
        long address = checked("mmap(" + length + " bytes)", () -> {
            MemorySegment mapped = (MemorySegment) MMAP.invokeExact(
                    CAPTURE.get(), MemorySegment.NULL, length, protection, flags, fd, offset);
            return mapped.address(); // MAP_FAILED is -1; user-space addresses are positive
        });
        return MemorySegment.ofAddress(address).reinterpret(length);
    }

    public static void munmap(MemorySegment mapping) {
        checked("munmap", () -> (int) MUNMAP.invokeExact(CAPTURE.get(), mapping, mapping.byteSize()));
    }

    public static void madvise(MemorySegment range, int advice) {
        checked("madvise", () -> (int) MADVISE.invokeExact(CAPTURE.get(), range, range.byteSize(), advice));
    }

    /** The text of {@code strerror(errno)}. */
    public static String describe(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * A downcall handle to a libc function whose first argument is the errno capture segment, for
     * calls this class does not wrap (the KVM backend's eventfd, epoll, pthread calls).
     */
    public static MethodHandle errnoCall(String function, ValueLayout result, ValueLayout... arguments) {
        return LINKER.downcallHandle(LIBC.find(function).orElseThrow(),
                FunctionDescriptor.of(result, arguments), Linker.Option.captureCallState("errno"));
    }

    /** A downcall handle to a libc function that cannot fail. */
    public static MethodHandle call(String function, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBC.find(function).orElseThrow(), descriptor);
    }

    /** The errno capture segment of this thread, to pass as the first argument of {@link #errnoCall}. */
    public static MemorySegment errnoCapture() {
        return CAPTURE.get();
    }

    /** A native call returning a C result, negative on failure with errno set. */
    @FunctionalInterface
    public interface NativeCall {
        long invoke() throws Throwable;
    }

    /**
     * Runs {@code call} (whose first argument must be {@link #errnoCapture()}) and returns its
     * result, or throws a {@link PosixException} naming {@code name} when the result is negative.
     */
    public static long checked(String name, NativeCall call) {
        long result;
        try {
            result = call.invoke();
        } catch (Throwable t) {
            throw new AssertionError("native call " + name + " could not be made", t);
        }
        if (result < 0) {
            throw failure(name);
        }
        return result;
    }

    private static PosixException failure(String call) {
        int errno = (int) ERRNO.get(CAPTURE.get(), 0L);
        return new PosixException(call, errno, describe(errno));
    }
}
