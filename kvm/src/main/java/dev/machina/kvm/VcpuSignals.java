package dev.machina.kvm;

import dev.machina.hypervisor.HypervisorException;
import dev.machina.hypervisor.os.Posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The signal that kicks a vCPU thread out of {@code KVM_RUN}: a real-time signal the JVM does not
 * use (SIGRTMIN+6), with a handler that does nothing. A handler must exist, for with the default
 * action the signal would kill the process and with SIG_IGN it would never interrupt the ioctl; the
 * handler is libc's {@code abs}, a pure function, so no upcall into the JVM runs in signal context.
 * SA_RESTART keeps other system calls of the thread from failing with EINTR (KVM_RUN is never
 * restarted: it returns EINTR regardless).
 */
final class VcpuSignals {
    private static final int SIG_UNBLOCK = 1;
    private static final int SA_RESTART = 0x1000_0000;
    private static final int SIGSET_BYTES = 128;

    /** glibc's {@code struct sigaction} on x86-64. */
    private static final StructLayout SIGACTION = MemoryLayout.structLayout(
            ADDRESS.withName("sa_handler"), MemoryLayout.sequenceLayout(SIGSET_BYTES, JAVA_BYTE).withName("sa_mask"),
            JAVA_INT.withName("sa_flags"), MemoryLayout.paddingLayout(4), ADDRESS.withName("sa_restorer"));
    private static final VarHandle HANDLER = KvmStructs.field(SIGACTION, "sa_handler");
    private static final VarHandle FLAGS = KvmStructs.field(SIGACTION, "sa_flags");

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemorySegment DO_NOTHING = LINKER.defaultLookup().find("abs").orElseThrow();
    private static final MethodHandle SIGRTMIN = Posix.call("__libc_current_sigrtmin", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SIGACTION_CALL = Posix.errnoCall("sigaction", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle SIGEMPTYSET = Posix.errnoCall("sigemptyset", JAVA_INT, ADDRESS);
    private static final MethodHandle SIGADDSET = Posix.errnoCall("sigaddset", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle PTHREAD_SIGMASK = Posix.call("pthread_sigmask", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle PTHREAD_SELF = Posix.call("pthread_self", FunctionDescriptor.of(JAVA_LONG));
    private static final MethodHandle PTHREAD_KILL = Posix.call("pthread_kill", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));

    /** The kick signal, installed once per process on first use. */
    static final int KICK = install();

    private VcpuSignals() {
    }

    private static int install() {
        int signal = invokeInt(() -> (int) SIGRTMIN.invokeExact()) + 6;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment previous = arena.allocate(SIGACTION);
            Posix.checked("sigaction(SIGRTMIN+6)", () -> (int) SIGACTION_CALL.invokeExact(Posix.errnoCapture(), signal, MemorySegment.NULL, previous));
            MemorySegment existing = (MemorySegment) HANDLER.get(previous, 0L);
            if (existing.address() != 0 && existing.address() != DO_NOTHING.address()) {
                throw new HypervisorException("signal " + signal + " (SIGRTMIN+6), which kicks vCPUs out of KVM_RUN, has a handler already");
            }
            MemorySegment action = arena.allocate(SIGACTION);
            HANDLER.set(action, 0L, DO_NOTHING);
            FLAGS.set(action, 0L, SA_RESTART);
            Posix.checked("sigaction(SIGRTMIN+6)", () -> (int) SIGACTION_CALL.invokeExact(Posix.errnoCapture(), signal, action, MemorySegment.NULL));
        }
        return signal;
    }

    /** Lets the kick signal reach the calling thread; returns its pthread id for {@link #kick}. */
    static long prepareCurrentThread() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(SIGSET_BYTES);
            Posix.checked("sigemptyset", () -> (int) SIGEMPTYSET.invokeExact(Posix.errnoCapture(), set));
            Posix.checked("sigaddset", () -> (int) SIGADDSET.invokeExact(Posix.errnoCapture(), set, KICK));
            requireZero("pthread_sigmask", invokeInt(() -> (int) PTHREAD_SIGMASK.invokeExact(SIG_UNBLOCK, set, MemorySegment.NULL)));
        }
        return invokeLong(() -> (long) PTHREAD_SELF.invokeExact());
    }

    /** Sends the kick signal to {@code thread}, which must still be alive. */
    static void kick(long thread) {
        requireZero("pthread_kill", invokeInt(() -> (int) PTHREAD_KILL.invokeExact(thread, KICK)));
    }

    /** pthread functions return the error number instead of setting errno. */
    private static void requireZero(String call, int error) {
        if (error != 0) {
            throw new HypervisorException(call + " failed: " + Posix.describe(error) + " (errno " + error + ")");
        }
    }

    private static int invokeInt(Posix.NativeCall call) {
        return (int) invokeLong(call);
    }

    private static long invokeLong(Posix.NativeCall call) {
        try {
            return call.invoke();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
