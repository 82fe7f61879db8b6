package dev.machina.cpu.core;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The guest's bus lock, shared by its cores. A LOCKed read-modify-write of aligned RAM is made
 * with a host compare-and-set; those the host cannot do in one (CMPXCHG16B, a LOCKed access that
 * is misaligned or hits a device) take this lock. To be atomic against the compare-and-sets too,
 * the holder waits until no other core is inside one, and a core that finds the lock held makes
 * its own access under the lock instead: each core announces an atomic access before it looks at
 * the lock, the holder takes the lock before it looks at the announcements (the two volatile
 * writes, each followed by a read of the other's, cannot both miss).
 *
 * <p>Plain stores of other cores are not held off: a CMPXCHG16B is atomic against every LOCKed
 * access and every other CMPXCHG16B, not against a MOV to the same bytes in the middle of it.
 */
public final class BusLock {
    private final ReentrantLock lock = new ReentrantLock();
    private final CopyOnWriteArrayList<Core> cores = new CopyOnWriteArrayList<>();
    private volatile boolean held;

    /** One core's side of the lock. */
    public final class Core {
        private volatile boolean atomic;
        private boolean holding;

        private Core() {
        }

        /**
         * Announces a compare-and-set access, which may then go ahead until {@link #endAccess};
         * false when another core holds the bus: the access must be made under {@link #lock} instead.
         */
        public boolean beginAtomic() {
            atomic = true;
            if (held && !holding) {
                atomic = false;
                return false;
            }
            return true;
        }

        /** Takes the bus until {@link #endAccess}, once no other core is inside a compare-and-set access. */
        public void lock() {
            if (holding) {
                return;
            }
            lock.lock();
            holding = true;
            held = true;
            for (Core other : cores) {
                while (other != this && other.atomic) {
                    Thread.onSpinWait();
                }
            }
        }

        /** Ends this core's atomic access or releases the bus (the instruction is done). */
        public void endAccess() {
            if (atomic) {
                atomic = false;
            }
            if (holding) {
                holding = false;
                held = false;
                lock.unlock();
            }
        }
    }

    /** Adds a core. */
    public Core join() {
        Core core = new Core();
        cores.add(core);
        return core;
    }
}
