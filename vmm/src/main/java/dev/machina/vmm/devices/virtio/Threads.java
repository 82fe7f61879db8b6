package dev.machina.vmm.devices.virtio;

/** What the devices' own threads (workers, host-side watchers) share. */
public final class Threads {
    private Threads() {
    }

    /**
     * Waits until {@code thread} has ended, however often the caller is interrupted meanwhile (the
     * interrupt is kept for it): a device stopping a thread must know the thread no longer touches
     * its state. Returns at once when called on {@code thread} itself.
     */
    public static void joinUninterruptibly(Thread thread) {
        if (Thread.currentThread() == thread) {
            return;
        }
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
