package dev.machina.vmm.devices.virtio.queue;

import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;

import static dev.machina.vmm.devices.virtio.queue.DriverRing.INDIRECT;
import static dev.machina.vmm.devices.virtio.queue.DriverRing.NEXT;
import static dev.machina.vmm.devices.virtio.queue.DriverRing.WRITE;

/**
 * Plays a hostile driver against a {@link SplitQueue} and a device, for as many descriptor chains
 * as asked, and fails on anything but a {@link QueueFault}: another exception, or a popped chain
 * that breaks what {@link DescriptorChain} promises. (A hang shows as a test that does not end.)
 *
 * <p>Each round lays out a queue (size 1 to 256, event index or not) in a guest memory of two RAM
 * regions with a gap, and drives it as a driver does: batches of well-formed chains (direct, some
 * ending in an indirect table, readable then writable, buffers in either region) offered in the
 * available ring and reclaimed from the used ring. Three rounds in four then break something the
 * driver controls: a field of a descriptor, direct or indirect (wild, straddling and overflowing
 * addresses, lengths from 0 to 4 GiB, flag bits, next indices that loop or leave the table), a loop
 * made on purpose, the available index, extra available entries, random bytes over the rings; one
 * in twenty gives {@link SplitQueue#setReady} a layout it must refuse. The device loop is a worker's:
 * pop and serve until empty, re-enable notifications and go again if buffers came, ask about an
 * interrupt. A fault ends the round; the next one resets the queue, as a driver resetting its
 * device would.
 *
 * <p>Rounds left whole check more: no fault, every chain popped exactly as the driver wrote it,
 * every head used once, and the driver asked for its next kick when notifications come back on.
 * The first round and every 16384th after it runs 65536 chains or more on one queue, so that both
 * indices wrap.
 */
public final class QueueFuzzer {
    /** The device under test: serves one popped chain, returning it with {@link SplitQueue#add} or not. */
    @FunctionalInterface
    public interface Device {
        void serve(SplitQueue queue, DescriptorChain chain) throws QueueFault;
    }

    /**
     * Chains popped or refused, faults (layout faults included), rounds, used index wraps the
     * driver saw, the time taken, and how many faults of each kind: the message without its
     * location and with numbers as {@code #}.
     */
    public record Result(long chains, long faults, long rounds, long wraps, Duration elapsed, Map<String, Long> faultKinds) {
        @Override
        public String toString() {
            return "%,d chains, %,d faults of %d kinds, %,d rounds, %d used index wraps, in %.1f s"
                    .formatted(chains, faults, faultKinds.size(), rounds, wraps, elapsed.toMillis() / 1000.0);
        }
    }

    /**
     * A device that does what block and console devices do with a chain: reads a header, copies
     * readable bytes, writes its data and a status byte at the end, and returns the chain used.
     */
    public static Device echo() {
        MemorySegment buffer = MemorySegment.ofArray(new byte[256]);
        return (queue, chain) -> {
            if (chain.readableBytes() >= 16) {
                chain.readU32(0);
                chain.readU64(8);
            }
            chain.read(chain.readableBytes() / 2, buffer);
            int written = chain.write(0, buffer);
            if (chain.writableBytes() > 0) {
                chain.writeU8(chain.writableBytes() - 1, 0);
            }
            queue.add(chain.head(), written);
        };
    }

    private static final Pattern LOCATION = Pattern.compile("^descriptor \\d+( of the indirect table at 0x\\p{XDigit}+)?: ");
    private static final Pattern NUMBERS = Pattern.compile("0x\\p{XDigit}+|\\d+");
    /** Every this many rounds, starting with the first, one is left whole and runs past 65536 chains. */
    private static final int WRAP_ROUNDS = 16384;
    private static final int MAX_SIZE = 256;
    private static final int MAX_DESCRIPTORS = 4; // per chain in the main table, an indirect one included
    private static final int MAX_INDIRECT = 16;

    // Low RAM holds the rings at the bottom, then one indirect table slot per head, then buffers.
    private static final long LOW_SIZE = 0x40000;
    private static final long HIGH = 0x100000;
    private static final long HIGH_SIZE = 0x10000;
    private static final long RING_AREA = 0x1000;  // descriptor table, available ring: one area each
    private static final long USED_AREA = 0x2000;  // the used ring: 6 + 8 * 256 bytes need more
    private static final long RINGS_END = 2 * RING_AREA + USED_AREA;
    private static final long INDIRECT_SLOT = 16L * MAX_INDIRECT;
    private static final long BUFFERS = RINGS_END + MAX_SIZE * INDIRECT_SLOT;

    private final SplittableRandom random;
    private final GuestMemory memory;
    private final Device device;
    private final SplitQueue queue;
    private final DescriptorChain chain = new DescriptorChain(MAX_SIZE);

    // The driver's books, per head: the segments its chain has and the table entries it took.
    private final long[][] expectedAddress = new long[MAX_SIZE][MAX_DESCRIPTORS + MAX_INDIRECT];
    private final int[][] expectedLength = new int[MAX_SIZE][MAX_DESCRIPTORS + MAX_INDIRECT];
    private final int[] expectedSegments = new int[MAX_SIZE];
    private final int[] expectedReadable = new int[MAX_SIZE];
    private final int[][] taken = new int[MAX_SIZE][MAX_DESCRIPTORS];
    private final int[] takenCount = new int[MAX_SIZE];
    private final boolean[] inFlight = new boolean[MAX_SIZE];
    private final int[] free = new int[MAX_SIZE];
    private final int[] heads = new int[MAX_SIZE];
    private final int[] order = new int[MAX_INDIRECT];
    private int freeCount;

    private DriverRing ring;
    private int size;
    private boolean eventIndex;
    private int lastUsed;
    private long chains;
    private long faults;
    private long rounds;
    private long wraps;
    private final Map<String, Long> faultKinds = new TreeMap<>();

    private QueueFuzzer(long seed, Device device, GuestMemory memory) {
        this.random = new SplittableRandom(seed);
        this.memory = memory;
        this.device = device;
        this.queue = new SplitQueue(memory, MAX_SIZE);
    }

    /**
     * Runs at least {@code chains} chains through the device {@code device} makes over the
     * fuzzer's guest memory; the same seed runs the same rounds.
     */
    public static Result run(long seed, long chains, Function<GuestMemory, Device> device) {
        long start = System.nanoTime();
        try (GuestMemory memory = GuestMemory.allocate(List.of(new AddressRange(0, LOW_SIZE), new AddressRange(HIGH, HIGH_SIZE)))) {
            QueueFuzzer fuzzer = new QueueFuzzer(seed, device.apply(memory), memory);
            while (fuzzer.chains < chains) {
                fuzzer.round(chains);
            }
            return new Result(fuzzer.chains, fuzzer.faults, fuzzer.rounds, fuzzer.wraps, Duration.ofNanos(System.nanoTime() - start),
                    Collections.unmodifiableMap(fuzzer.faultKinds));
        }
    }

    private void round(long target) {
        rounds++;
        queue.reset();
        size = 1 << random.nextInt(9);
        eventIndex = random.nextBoolean();
        ring = new DriverRing(memory, size,
                16L * random.nextInt((int) (RING_AREA - 16L * size) / 16 + 1),
                RING_AREA + 2L * random.nextInt((int) (RING_AREA - 6 - 2L * size) / 2 + 1),
                2 * RING_AREA + 4L * random.nextInt((int) (USED_AREA - 6 - 8L * size) / 4 + 1));
        ring.zero();
        lastUsed = 0;
        freeCount = 0;
        for (int i = 0; i < size; i++) {
            inFlight[i] = false;
            free[freeCount++] = i;
        }
        ring.layOut(queue, eventIndex);
        boolean wrapping = rounds % WRAP_ROUNDS == 1;
        if (!wrapping && random.nextInt(20) == 0) {
            misconfigure();
            return;
        }
        try {
            queue.setReady(true);
            if (!wrapping && random.nextInt(4) != 0) {
                offerBatch();
                corrupt();
                work(false);
                return;
            }
            long end = Math.min(target, chains + (wrapping ? 65_536 + random.nextInt(1024) : 1 + random.nextInt(64)));
            while (chains < end && offerBatch()) {
                work(true);
                reclaim();
            }
        } catch (QueueFault fault) {
            count(fault);
        }
    }

    private void count(QueueFault fault) {
        faults++;
        faultKinds.merge(NUMBERS.matcher(LOCATION.matcher(fault.getMessage()).replaceFirst("")).replaceAll("#"), 1L, Long::sum);
    }

    /** Offers a batch of well-formed chains; false if the device holds every descriptor. */
    private boolean offerBatch() {
        int wanted = 1 + random.nextInt(size);
        int offered = 0;
        while (offered < wanted && freeCount > 0) {
            heads[offered++] = writeChain();
        }
        for (int i = 0; i < offered; i++) {
            ring.offer(heads[i]);
        }
        if (eventIndex) {
            ring.usedEvent(random.nextInt(0x10000));
        } else {
            ring.availFlags(random.nextInt(2));
        }
        return offered > 0;
    }

    /** Writes one chain from free descriptors, notes what the device must see of it, and returns its head. */
    private int writeChain() {
        boolean indirect = random.nextInt(3) == 0;
        int descriptors = 1 + random.nextInt(Math.min(freeCount, MAX_DESCRIPTORS));
        int direct = descriptors - (indirect ? 1 : 0);
        int indirectEntries = indirect ? 1 + random.nextInt(Math.min(MAX_INDIRECT, size - direct)) : 0;
        int segments = direct + indirectEntries;
        int head = free[freeCount - 1];
        for (int i = 0; i < descriptors; i++) {
            taken[head][i] = free[--freeCount];
        }
        takenCount[head] = descriptors;
        expectedSegments[head] = segments;
        expectedReadable[head] = random.nextInt(segments + 1);
        for (int s = 0; s < segments; s++) {
            int length = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(random.nextBoolean() ? 16 : 4096);
            boolean high = random.nextBoolean();
            long start = high ? HIGH : BUFFERS;
            long end = high ? HIGH + HIGH_SIZE : LOW_SIZE;
            expectedAddress[head][s] = start + random.nextLong(end - start - length + 1);
            expectedLength[head][s] = length;
        }
        for (int s = 0; s < direct; s++) {
            boolean more = s + 1 < descriptors;
            ring.descriptor(taken[head][s], expectedAddress[head][s], expectedLength[head][s],
                    flags(head, s) | (more ? NEXT : 0), more ? taken[head][s + 1] : random.nextInt(0x10000));
        }
        if (indirect) {
            // Entry 0 comes first (2.7.5.3); the others in a shuffled order, so next jumps about.
            for (int k = 0; k < indirectEntries; k++) {
                order[k] = k;
            }
            for (int k = indirectEntries - 1; k > 1; k--) {
                int j = 1 + random.nextInt(k);
                int swap = order[k];
                order[k] = order[j];
                order[j] = swap;
            }
            long table = RINGS_END + head * INDIRECT_SLOT;
            for (int k = 0; k < indirectEntries; k++) {
                int s = direct + k;
                boolean more = k + 1 < indirectEntries;
                ring.descriptor(table, order[k], expectedAddress[head][s], expectedLength[head][s],
                        flags(head, s) | (more ? NEXT : 0), more ? order[k + 1] : random.nextInt(0x10000));
            }
            // The WRITE flag on a descriptor that refers to a table means nothing (2.7.5.3.2).
            ring.descriptor(taken[head][direct], table, 16 * indirectEntries, INDIRECT | (random.nextBoolean() ? WRITE : 0), random.nextInt(0x10000));
        }
        inFlight[head] = true;
        return head;
    }

    private int flags(int head, int segment) {
        return segment >= expectedReadable[head] ? WRITE : 0;
    }

    /** The worker's loop; in whole rounds ({@code exact}) no chain may fault and the kick must be asked for. */
    private void work(boolean exact) throws QueueFault {
        do {
            queue.disableNotifications();
            while (pop(exact)) {
                check(exact);
                device.serve(queue, chain);
            }
        } while (queue.enableNotifications());
        if (exact && (eventIndex ? ring.availEvent() != ring.availIdx() : ring.usedFlags() != 0)) {
            throw new AssertionError("with notifications enabled again the driver is not asked to kick at its next buffer");
        }
        queue.needsInterrupt();
    }

    private boolean pop(boolean exact) throws QueueFault {
        try {
            boolean popped = queue.pop(chain);
            chains += popped ? 1 : 0;
            return popped;
        } catch (QueueFault fault) {
            chains++;
            if (exact) {
                throw new AssertionError("a well-formed chain was refused: " + fault.getMessage(), fault);
            }
            throw fault;
        }
    }

    /** What a popped chain promises, and in whole rounds, that it is the one the driver wrote. */
    private void check(boolean exact) {
        int head = chain.head();
        int segments = chain.segments();
        if (segments < 1 || segments > size || head >= size) {
            throw new AssertionError("chain from head %d of %d segments in a queue of %d".formatted(head, segments, size));
        }
        long total = 0;
        for (int i = 0; i < segments; i++) {
            if (chain.length(i) < 0 || !memory.isRam(chain.address(i), chain.length(i))) {
                throw new AssertionError("segment %d is not RAM: %s".formatted(i, ChainParser.range(chain.address(i), chain.length(i))));
            }
            if (i > 0 && chain.writable(i - 1) && !chain.writable(i)) {
                throw new AssertionError("readable segment %d after a writable one".formatted(i));
            }
            total += chain.length(i);
        }
        if (total != chain.readableBytes() + chain.writableBytes() || total > Integer.MAX_VALUE) {
            throw new AssertionError("the chain's byte counts do not add up: " + total);
        }
        if (!exact) {
            return;
        }
        if (!inFlight[head] || segments != expectedSegments[head]) {
            throw new AssertionError("popped head %d (%d segments), not a chain the driver offered".formatted(head, segments));
        }
        for (int i = 0; i < segments; i++) {
            if (chain.address(i) != expectedAddress[head][i] || chain.length(i) != expectedLength[head][i]
                    || chain.writable(i) != (i >= expectedReadable[head])) {
                throw new AssertionError("head %d segment %d is not what the driver wrote".formatted(head, i));
            }
        }
    }

    /** Takes back what the device used, as the driver does, checking that each head comes back once. */
    private void reclaim() {
        for (int usedIdx = ring.usedIdx(); lastUsed != usedIdx; lastUsed = (lastUsed + 1) & 0xFFFF) {
            int head = ring.usedId(lastUsed);
            if (head < 0 || head >= size || !inFlight[head]) {
                throw new AssertionError("used entry %d names head %d, which the device does not hold".formatted(lastUsed, head));
            }
            inFlight[head] = false;
            for (int i = 0; i < takenCount[head]; i++) {
                free[freeCount++] = taken[head][i];
            }
            wraps += lastUsed == 0xFFFF ? 1 : 0;
        }
    }

    /** Breaks one to three things the driver controls, after it offered its chains and before the device looks. */
    private void corrupt() {
        for (int c = 1 + random.nextInt(3); c > 0; c--) {
            switch (random.nextInt(8)) {
                case 0, 1, 2 -> corruptDescriptor(ring.descriptors(), size);
                case 3 -> corruptDescriptor(RINGS_END + random.nextInt(size) * INDIRECT_SLOT, MAX_INDIRECT);
                case 4 -> { // a loop: some descriptor chains on to one at most as far along
                    long at = ring.descriptors() + 16L * random.nextInt(size);
                    memory.writeShort(at + 12, (short) (memory.readShort(at + 12) | NEXT));
                    memory.writeShort(at + 14, (short) random.nextInt(size));
                }
                case 5 -> ring.publish(ring.availIdx() + (random.nextBoolean() ? size + 1 + random.nextInt(0x10000 - size) : random.nextInt(3)));
                case 6 -> {
                    long at = random.nextLong(RINGS_END - 16);
                    memory.writeLong(at, random.nextLong());
                    memory.writeLong(at + 8, random.nextLong());
                }
                default -> ring.offer(random.nextInt(random.nextBoolean() ? size : 0x10000));
            }
        }
    }

    /** Rewrites one field of a random descriptor of the {@code entries}-entry table at {@code table}. */
    private void corruptDescriptor(long table, int entries) {
        long at = table + 16L * random.nextInt(entries);
        switch (random.nextInt(4)) {
            case 0 -> memory.writeLong(at, hostileAddress());
            case 1 -> memory.writeInt(at + 8, hostileLength());
            case 2 -> memory.writeShort(at + 12, (short) (random.nextBoolean()
                    ? memory.readShort(at + 12) ^ 1 << random.nextInt(3)
                    : random.nextInt(0x10000)));
            default -> memory.writeShort(at + 14, (short) random.nextInt(random.nextBoolean() ? entries : 0x10000));
        }
    }

    private long hostileAddress() {
        return switch (random.nextInt(6)) {
            case 0 -> random.nextLong();
            case 1 -> -random.nextInt(1, 4096);
            case 2 -> LOW_SIZE - random.nextInt(64);
            case 3 -> HIGH + HIGH_SIZE - random.nextInt(64);
            case 4 -> LOW_SIZE + random.nextLong(HIGH - LOW_SIZE);
            default -> random.nextLong(RINGS_END); // over the rings themselves
        };
    }

    private int hostileLength() {
        return switch (random.nextInt(6)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> random.nextInt();
            case 3 -> 16 * random.nextInt(1, 64);
            case 4 -> Integer.MAX_VALUE;
            default -> random.nextInt(0x20000);
        };
    }

    /** Changes one part of a good layout to a value {@link SplitQueue#setReady} must refuse, and checks that it does. */
    private void misconfigure() {
        switch (random.nextInt(5)) {
            case 0 -> queue.setSize(size == 1 ? random.nextInt(2) * 3 : size + 1 + random.nextInt(size - 1));
            case 1 -> queue.setSize(MAX_SIZE << (1 + random.nextInt(7)));
            case 2 -> queue.setDescriptorTable(random.nextBoolean() ? 16L * random.nextInt(256) + random.nextInt(1, 16) : outsideRam());
            case 3 -> queue.setAvailableRing(random.nextBoolean() ? 2L * random.nextInt(2048) + 1 : outsideRam());
            default -> queue.setUsedRing(random.nextBoolean() ? 4L * random.nextInt(2048) + random.nextInt(1, 4) : outsideRam());
        }
        try {
            queue.setReady(true);
        } catch (QueueFault fault) {
            count(fault);
            return;
        }
        throw new AssertionError("setReady accepted a layout it must refuse");
    }

    /** A 16-byte aligned address where no ring lies wholly in RAM: the end of a region, the gap, or past 2^63. */
    private long outsideRam() {
        return switch (random.nextInt(3)) {
            case 0 -> random.nextBoolean() ? LOW_SIZE : HIGH + HIGH_SIZE;
            case 1 -> LOW_SIZE + 16 * random.nextLong((HIGH - LOW_SIZE) / 16);
            default -> -16L * random.nextInt(1, 1 << 20);
        };
    }
}
