package dev.machina.kvm;

import dev.machina.hypervisor.os.Posix;
import dev.machina.hypervisor.os.PosixException;

/**
 * Checking a native call made directly with {@code invokeExact} on a handle from
 * {@link Posix#errnoCall}, for the calls made per event (eventfd reads and writes, epoll waits),
 * where wrapping the call in a lambda could allocate. Allocates nothing unless the call failed.
 */
final class Errno {
    private Errno() {
    }

    /**
     * Returns {@code result}, or throws the {@link PosixException} naming {@code call} and the
     * errno this thread's capture segment holds when {@code result} is negative.
     */
    static long check(String call, long result) {
        return result >= 0 ? result : Posix.checked(call, () -> result);
    }
}
