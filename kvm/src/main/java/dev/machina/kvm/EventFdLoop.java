package dev.machina.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One thread per guest that waits with epoll on the eventfds KVM signals (doorbells, interrupt
 * resampling) and runs each one's action when it is signalled. Signals that arrive before the
 * action runs coalesce into one run, as an eventfd counter does. Waiting and dispatching allocate
 * nothing.
 */
final class EventFdLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EventFdLoop.class.getName());
    private static final int READY_PER_WAIT = 64;

    /** A watched eventfd, what it stands for (for the log) and its action. */
    private record Watch(EventFd eventFd, String what, Runnable action) {
    }

    private final Arena arena = Arena.ofShared();
    private final Epoll epoll = new Epoll(arena, READY_PER_WAIT);
    private final EventFd wakeup = EventFd.create();
    private final Thread thread;
    /** The watches by eventfd number; replaced whole on every change, read without locking. */
    private volatile Watch[] byDescriptor = new Watch[0];
    private volatile boolean closed;

    EventFdLoop(String threadName) {
        epoll.add(wakeup.fd());
        thread = Thread.ofPlatform().daemon().name(threadName).start(this::loop);
    }

    /** Runs {@code action} on the loop's thread whenever {@code eventFd} is signalled. */
    synchronized void watch(EventFd eventFd, String what, Runnable action) {
        epoll.add(eventFd.fd());
        publish(eventFd.fd(), new Watch(eventFd, what, action));
    }

    /** Stops watching {@code eventFd}; a signal already taken may still run the action once. */
    synchronized void unwatch(EventFd eventFd) {
        int fd = eventFd.fd();
        if (fd < byDescriptor.length && byDescriptor[fd] != null && byDescriptor[fd].eventFd == eventFd) {
            epoll.remove(fd);
            publish(fd, null);
        }
    }

    private void publish(int fd, Watch watch) {
        Watch[] table = Arrays.copyOf(byDescriptor, Math.max(byDescriptor.length, fd + 1));
        table[fd] = watch;
        byDescriptor = table;
    }

    private void loop() {
        MemorySegment scratch = arena.allocate(JAVA_LONG);
        while (!closed) {
            int ready = epoll.await();
            for (int i = 0; i < ready && !closed; i++) {
                int fd = epoll.readyDescriptor(i);
                Watch[] table = byDescriptor;
                Watch watch = fd < table.length ? table[fd] : null;
                if (watch != null) {
                    run(watch, scratch);
                } else if (fd == wakeup.fd()) {
                    wakeup.drain(scratch);
                }
            }
        }
    }

    /** Runs one action; a failing action (or an eventfd closed meanwhile) is logged, never fatal. */
    private static void run(Watch watch, MemorySegment scratch) {
        try {
            watch.eventFd.drain(scratch);
            watch.action.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, watch.what + " failed", e);
        }
    }

    /** Ends the thread (waiting for it unless an action itself closes the loop) and releases the epoll instance. */
    @Override
    public void close() {
        closed = true;
        wakeup.signal();
        if (Thread.currentThread() != thread) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        epoll.close();
        wakeup.close();
        arena.close();
    }
}
