package dev.machina.kvm;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.spi.Traps;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A guest's doorbells as KVM ioeventfds: each doorbell of a BELL trap is an eventfd that KVM
 * signals when the guest writes there, without the vCPU leaving the kernel. One thread per guest
 * waits on all of them with epoll and calls the trap's handler with the doorbell's offset.
 */
final class IoeventfdBells implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(IoeventfdBells.class.getName());
    private static final int READY_PER_WAIT = 64;

    /** One doorbell: the trap it belongs to, its offset there and its eventfd. */
    private record Bell(Traps.Registration trap, long offset, EventFd eventFd) {
        long address() {
            return trap.range().start() + offset;
        }
    }

    private final KvmVm vm;
    private final Arena arena = Arena.ofShared();
    private final Epoll epoll = new Epoll(arena, READY_PER_WAIT);
    private final EventFd wakeup = EventFd.create();
    private final Map<Traps.Registration, List<Bell>> byTrap = new HashMap<>();
    private final Thread thread;
    /** The bells by eventfd number, for the delivery thread; replaced whole on every change. */
    private volatile Bell[] byDescriptor = new Bell[0];
    private volatile boolean closed;

    IoeventfdBells(KvmVm vm, String guestName) {
        this.vm = vm;
        epoll.add(wakeup.fd());
        thread = Thread.ofPlatform().daemon().name(guestName + "-doorbells").start(this::deliver);
    }

    /** Registers an ioeventfd for every doorbell of {@code trap}. */
    synchronized void attach(Traps.Registration trap) {
        List<Bell> bells = new ArrayList<>();
        try {
            for (long offset = 0; offset < trap.range().size(); offset += Guest.BELL_STRIDE) {
                Bell bell = new Bell(trap, offset, EventFd.create());
                bells.add(bell);
                vm.assignIoeventfd(bell.eventFd, bell.address());
                epoll.add(bell.eventFd.fd());
                publish(bell.eventFd.fd(), bell);
            }
        } catch (RuntimeException e) {
            release(bells);
            throw e;
        }
        byTrap.put(trap, bells);
    }

    /** Unregisters the doorbells of {@code trap}; a ring already signalled may still be delivered. */
    synchronized void detach(Traps.Registration trap) {
        List<Bell> bells = byTrap.remove(trap);
        if (bells != null) {
            release(bells);
        }
    }

    private void release(List<Bell> bells) {
        for (Bell bell : bells) {
            int fd = bell.eventFd.fd();
            if (fd < byDescriptor.length && byDescriptor[fd] == bell) {
                epoll.remove(fd);
                vm.deassignIoeventfd(bell.eventFd, bell.address());
                publish(fd, null);
            }
            bell.eventFd.close();
        }
    }

    private void publish(int fd, Bell bell) {
        Bell[] table = Arrays.copyOf(byDescriptor, Math.max(byDescriptor.length, fd + 1));
        table[fd] = bell;
        byDescriptor = table;
    }

    private void deliver() {
        MemorySegment scratch = arena.allocate(JAVA_LONG);
        while (!closed) {
            int ready = epoll.await();
            for (int i = 0; i < ready && !closed; i++) {
                int fd = epoll.readyDescriptor(i);
                Bell[] table = byDescriptor;
                Bell bell = fd < table.length ? table[fd] : null;
                if (bell != null) {
                    ring(bell, scratch);
                } else if (fd == wakeup.fd()) {
                    wakeup.drain(scratch);
                }
            }
        }
    }

    /** Delivers one doorbell; a failing handler (or a bell detached meanwhile) is logged, never fatal. */
    private static void ring(Bell bell, MemorySegment scratch) {
        try {
            bell.eventFd.drain(scratch);
            bell.trap.bellHandler().ring(bell.offset);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "doorbell handler of " + bell.trap + " failed", e);
        }
    }

    @Override
    public void close() {
        closed = true;
        wakeup.signal();
        if (Thread.currentThread() != thread) { // a doorbell handler may close the guest
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            byTrap.values().forEach(this::release);
            byTrap.clear();
        }
        epoll.close();
        wakeup.close();
        arena.close();
    }
}
