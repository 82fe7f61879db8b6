package dev.machina.hypervisor.spi;

import dev.machina.hypervisor.ExitCounters;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.VcpuExit;
import dev.machina.hypervisor.x86.X86State;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The lifecycle every backend's vCPU shares: the thread, stopping, the exit, the counters and the
 * rule on when state may be touched, pausing. A backend supplies {@link #run()} and {@link #kick()}, and
 * its loop calls {@link #holdWhilePaused()} where it checks {@link #stopRequested()}.
 */
public abstract class AbstractVcpu implements Vcpu {
    private static final System.Logger LOG = System.getLogger(AbstractVcpu.class.getName());

    private final int id;
    private final String guestName;
    private final ExitCounters counters = new ExitCounters();
    private final CompletableFuture<VcpuExit> exit = new CompletableFuture<>();
    private volatile Thread thread;
    private volatile boolean stopRequested;
    /** Guards the pause hand-over: whether a pause is asked for, and whether the loop is held by one. */
    private final Object pauseLock = new Object();
    private volatile boolean pauseRequested;
    private boolean held;

    protected AbstractVcpu(String guestName, int id) {
        this.guestName = guestName;
        this.id = id;
    }

    /** Runs the guest on the vCPU thread until it must stop; checks {@link #stopRequested()}. */
    protected abstract VcpuExit run();

    /** Makes a running {@link #run()} notice {@link #stopRequested()} soon, wherever the vCPU is. */
    protected abstract void kick();

    protected abstract X86State readStateNow();

    protected abstract void writeStateNow(X86State state);

    protected abstract long readMsrNow(int index);

    protected abstract void writeMsrNow(int index, long value);

    @Override
    public final int id() {
        return id;
    }

    @Override
    public final X86State readState() {
        checkStateAccess();
        return readStateNow();
    }

    @Override
    public final void writeState(X86State state) {
        checkStateAccess();
        writeStateNow(state);
    }

    @Override
    public final long readMsr(int index) {
        checkStateAccess();
        return readMsrNow(index);
    }

    @Override
    public final void writeMsr(int index, long value) {
        checkStateAccess();
        writeMsrNow(index, value);
    }

    @Override
    public final synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("vCPU " + id + " already started");
        }
        thread = Thread.ofPlatform().daemon().name(guestName + "-vcpu-" + id).unstarted(this::loop);
        thread.start();
    }

    private void loop() {
        VcpuExit result;
        try {
            result = stopRequested ? new VcpuExit.Stopped() : run();
        } catch (OutOfMemoryError e) {
            // Not a bug to report with a stack trace: where the heap ran out says nothing of why.
            result = new VcpuExit.Failed("vCPU " + id + " ran out of the VMM's Java heap ("
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB, the JVM's -Xmx)");
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.ERROR, "vCPU " + id + " failed", e);
            result = new VcpuExit.Failed("vCPU " + id + ": " + e);
        }
        exit.complete(result);
        synchronized (pauseLock) {
            pauseLock.notifyAll(); // an awaitPaused() waiting for a loop that ended instead
        }
    }

    @Override
    public final void stop() {
        stopRequested = true;
        synchronized (pauseLock) {
            pauseLock.notifyAll(); // a paused loop ends too
        }
        if (thread != null && Thread.currentThread() != thread) {
            kick();
        }
    }

    @Override
    public final void pause() {
        pauseRequested = true;
        if (thread != null && Thread.currentThread() != thread) {
            kick();
        }
    }

    @Override
    public final void resume() {
        synchronized (pauseLock) {
            pauseRequested = false;
            pauseLock.notifyAll();
        }
    }

    @Override
    public final boolean awaitPaused(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (pauseLock) {
            while (thread != null && !held && !exit.isDone()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(pauseLock, left);
            }
            return true;
        }
    }

    /** Whether {@link #pause()} asks the loop to hold; cheap enough to read on every pass of it. */
    protected final boolean pauseRequested() {
        return pauseRequested;
    }

    /**
     * Holds the vCPU thread while a pause is asked for and no stop is; the loop calls it between
     * entries into the guest, when {@link #pauseRequested()}.
     */
    protected final void holdWhilePaused() {
        synchronized (pauseLock) {
            held = true;
            pauseLock.notifyAll();
            try {
                while (pauseRequested && !stopRequested) {
                    pauseLock.wait();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // nothing interrupts a vCPU thread; keep the flag for the loop
            } finally {
                held = false;
            }
        }
    }

    /** Whether {@link #stop()} was called. */
    protected final boolean stopRequested() {
        return stopRequested;
    }

    /** Whether the caller is this vCPU's own thread. */
    protected final boolean onVcpuThread() {
        return Thread.currentThread() == thread;
    }

    /** Whether the loop has been started. */
    protected final boolean started() {
        return thread != null;
    }

    @Override
    public final Optional<VcpuExit> awaitExit(Duration timeout) throws InterruptedException {
        try {
            return Optional.of(exit.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public final Optional<VcpuExit> exit() {
        return Optional.ofNullable(exit.getNow(null));
    }

    @Override
    public final ExitCounters counters() {
        return counters;
    }

    private void checkStateAccess() {
        if (thread != null && !exit.isDone() && Thread.currentThread() != thread) {
            throw new IllegalStateException("vCPU " + id + " is running: its state can be touched only from its own thread");
        }
    }
}
