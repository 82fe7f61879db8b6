package dev.machina.cpu.translate;

import dev.machina.cpu.decode.ByteSource;
import dev.machina.cpu.decode.CodeCache;
import dev.machina.cpu.decode.SparsePage;
import dev.machina.cpu.decode.Decoder;
import dev.machina.cpu.decode.Instruction;
import dev.machina.cpu.fault.CpuException;
import dev.machina.cpu.mmu.PhysicalBus;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Java CPU's translating tier, one per guest: counts how often the cores enter code at each
 * branch target, and turns code entered often enough into a {@link Region} (found by the
 * {@link RegionScanner}, compiled by the {@link RegionCompiler}), which it installs in the guest's
 * {@link CodeCache} for every core to run.
 *
 * <p>In the background form, translation happens on a thread of its own, so a core never waits
 * for it: it goes on interpreting until the region appears. A region is installed only if its
 * page was not rewritten while it was being translated. When the cache holds {@link #CAPACITY}
 * regions, all of them are dropped (their classes then unload) and hot code is translated again.
 */
public final class Translator implements AutoCloseable {
    /** Entries at a branch target before its code is translated. */
    public static final int HOT = 10_000;
    /** The most instructions a region takes; a region too long for the JIT is retried with half. */
    static final int MAX_INSTRUCTIONS = 160;
    static final int CAPACITY = 8_192;
    private static final int HEAT_SLOTS = 1 << 14;
    private static final int QUEUE = 256;
    /** A heat count that stays below {@link #HOT} for a long while: the code was handed to translation. */
    private static final int REQUESTED = Integer.MIN_VALUE / 2;

    private final MemorySegment ram;
    private final CodeCache code;
    private final int threshold;
    private final Decoder decoder = new Decoder();
    private final RegionCompiler compiler = new RegionCompiler();
    private final int[] heat = new int[HEAT_SLOTS];
    private final BlockingQueue<Request> queue;
    private final Thread thread;
    private final AtomicLong translated = new AtomicLong();
    private int sinceCleared;

    /** A piece of code to translate: the page's host offset, the entry's offset, the privilege, the page's decodings then. */
    private record Request(long hostPage, int offset, boolean user, SparsePage<Instruction> page) {
    }

    private Translator(MemorySegment ram, CodeCache code, int threshold, boolean background) {
        this.ram = ram;
        this.code = code;
        this.threshold = threshold;
        if (background) {
            queue = new ArrayBlockingQueue<>(QUEUE);
            thread = Thread.ofPlatform().daemon().name("machina-translator").start(this::serve);
        } else {
            queue = null;
            thread = null;
        }
    }

    /** A translator for a guest's cores, translating on its own thread code entered {@link #HOT} times. */
    public static Translator inBackground(MemorySegment ram, CodeCache code) {
        return new Translator(ram, code, HOT, true);
    }

    /**
     * A translator that translates on the calling core as soon as code has been entered
     * {@code threshold} times (1: at once), for tests that must know when translated code runs.
     */
    public static Translator immediate(MemorySegment ram, CodeCache code, int threshold) {
        return new Translator(ram, code, threshold, false);
    }

    /** How many regions were translated and installed. */
    public long translated() {
        return translated.get();
    }

    /**
     * Counts an entry into the code at host offset {@code host}; true once it is hot enough to
     * translate (then not again until that translation is done).
     */
    public boolean entered(long host) {
        int slot = (int) (host ^ host >>> 14) & (HEAT_SLOTS - 1);
        int count = ++heat[slot];
        if (count < threshold) {
            return false;
        }
        heat[slot] = REQUESTED;
        return true;
    }

    /**
     * Translates the code entered at {@code offset} of the page at host offset {@code hostPage},
     * for CPL 3 or not ({@code user}), from the page whose decodings were {@code page} when it was
     * asked for: now, or queued for the background thread (dropped if the queue is full).
     */
    public void translate(long hostPage, int offset, boolean user, SparsePage<Instruction> page) {
        Request request = new Request(hostPage, offset, user, page);
        if (queue == null) {
            serve(request);
        } else if (!queue.offer(request)) {
            forget(hostPage + offset);
        }
    }

    private void serve() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                serve(queue.take());
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    /**
     * Translates and installs; the entry's heat then counts afresh, for when the region is
     * dropped or could not be made. A region that ends before an instruction the translator does
     * not take in (one that ends a block) is followed by one from the instruction after that, translated next: the
     * interpreter runs the one instruction between them.
     */
    private void serve(Request request) {
        long host = request.hostPage() + request.offset();
        RegionPlan plan = null;
        Region region = null;
        for (int limit = MAX_INSTRUCTIONS; region == null && limit >= 1; limit /= 2) {
            plan = RegionScanner.scan(request.offset(), limit, position -> decodeAt(request, position));
            if (plan == null) {
                break;
            }
            Region.Code compiled = compiler.compile(plan, request.user());
            if (compiled != null) {
                region = new Region(request.user(), plan.instructionCount(), compiled);
            }
        }
        forget(host);
        if (region == null) {
            return;
        }
        if (++sinceCleared > CAPACITY) {
            sinceCleared = 0;
            code.clearRegions();
        }
        if (!code.install(host, region, request.page())) {
            return;
        }
        translated.incrementAndGet();
        for (RegionPlan.Block block : plan.blocks()) {
            if (block.end() instanceof RegionPlan.StopBefore(int offset)) {
                Instruction skipped = offset < RegionScanner.PAGE_SIZE ? decodeAt(request, offset) : null;
                int after = skipped == null ? RegionScanner.PAGE_SIZE : offset + skipped.length();
                if (after < RegionScanner.PAGE_SIZE && !InstructionWriter.translates(skipped) && !code.hasRegion(request.hostPage() + after)) {
                    translate(request.hostPage(), after, request.user(), request.page());
                }
            }
        }
    }

    /** The 64-bit decoding at {@code position} of the request's page, or null if none lies wholly in the page. */
    private Instruction decodeAt(Request request, int position) {
        Instruction known = request.page().at(position);
        if (known != null && known.mode() == 64) {
            return known;
        }
        ByteSource bytes = index -> {
            if (position + index >= RegionScanner.PAGE_SIZE) {
                throw CpuException.generalProtection(); // runs off the page: not an instruction of this page
            }
            return (int) PhysicalBus.load8(ram, request.hostPage() + position + index);
        };
        try {
            return decoder.decode(bytes, 64);
        } catch (CpuException undecodable) {
            return null;
        }
    }

    /** Lets the code at {@code host} be counted afresh. */
    private void forget(long host) {
        int slot = (int) (host ^ host >>> 14) & (HEAT_SLOTS - 1);
        heat[slot] = 0;
    }

    @Override
    public void close() {
        if (thread != null) {
            thread.interrupt();
        }
    }
}
