package dev.machina.hypervisor;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Entries and exits by reason for one vCPU. Written only by the vCPU's own thread (so a plain
 * read-increment-store suffices) and readable from any thread while the guest runs.
 */
public final class ExitCounters {
    private static final ExitReason[] REASONS = ExitReason.values();
    private static final int ENTRIES = REASONS.length;

    private final AtomicLongArray counts = new AtomicLongArray(REASONS.length + 1);

    /** One more entry into the guest. */
    public void entered() {
        counts.setRelease(ENTRIES, counts.getPlain(ENTRIES) + 1);
    }

    /** One more exit for {@code reason}. */
    public void exited(ExitReason reason) {
        add(reason, 1);
    }

    /** {@code delta} more exits for {@code reason}, for backends that learn counts in bulk. */
    public void add(ExitReason reason, long delta) {
        int index = reason.ordinal();
        counts.setRelease(index, counts.getPlain(index) + delta);
    }

    public long entries() {
        return counts.getAcquire(ENTRIES);
    }

    public long exits(ExitReason reason) {
        return counts.getAcquire(reason.ordinal());
    }

    /** The total of all exits. */
    public long exits() {
        long total = 0;
        for (ExitReason reason : REASONS) {
            total += exits(reason);
        }
        return total;
    }

    /** Every reason with its count, in declaration order. */
    public Map<ExitReason, Long> byReason() {
        Map<ExitReason, Long> snapshot = new EnumMap<>(ExitReason.class);
        for (ExitReason reason : REASONS) {
            snapshot.put(reason, exits(reason));
        }
        return snapshot;
    }
}
