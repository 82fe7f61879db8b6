package dev.machina.kvm;

import dev.machina.hypervisor.os.Posix;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;

/**
 * A Linux ioctl request number built the way {@code <asm-generic/ioctl.h>} builds it: direction,
 * argument size, type and number. The name travels with the number so a failure names the request.
 */
record Ioctl(String name, long request) {
    private static final int NONE = 0;
    private static final int WRITE = 1;
    private static final int READ = 2;

    private static final int NR_SHIFT = 0;
    private static final int TYPE_SHIFT = 8;
    private static final int SIZE_SHIFT = 16;
    private static final int DIR_SHIFT = 30;

    /** {@code _IO(type, nr)}: no argument, or an integer passed by value. */
    static Ioctl io(String name, int type, int nr) {
        return of(name, NONE, type, nr, 0);
    }

    /** {@code _IOR(type, nr, argument)}: the kernel fills the argument. */
    static Ioctl ior(String name, int type, int nr, MemoryLayout argument) {
        return of(name, READ, type, nr, argument.byteSize());
    }

    /** {@code _IOW(type, nr, argument)}: the kernel reads the argument. */
    static Ioctl iow(String name, int type, int nr, MemoryLayout argument) {
        return of(name, WRITE, type, nr, argument.byteSize());
    }

    /** {@code _IOWR(type, nr, argument)}: the kernel reads and updates the argument. */
    static Ioctl iowr(String name, int type, int nr, MemoryLayout argument) {
        return of(name, READ | WRITE, type, nr, argument.byteSize());
    }

    /** Issues the request on {@code fd} with a pointer argument; a failure throws naming the request. */
    int call(int fd, MemorySegment argument) {
        return Posix.ioctl(fd, request, argument, name);
    }

    /** Issues the request on {@code fd} with an integer argument; a failure throws naming the request. */
    int call(int fd, long argument) {
        return Posix.ioctl(fd, request, argument, name);
    }

    private static Ioctl of(String name, int direction, int type, int nr, long size) {
        if (size >= 1 << 14) {
            throw new IllegalArgumentException(name + ": argument of " + size + " bytes does not fit an ioctl number");
        }
        return new Ioctl(name, (long) direction << DIR_SHIFT | size << SIZE_SHIFT | (long) type << TYPE_SHIFT | (long) nr << NR_SHIFT);
    }
}
