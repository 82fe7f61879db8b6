package dev.machina.hypervisor.spi;

import dev.machina.hypervisor.BellHandler;
import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Trap;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.hypervisor.memory.RamRegion;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bookkeeping every backend's guest shares: memory, trap tables with their checks, vCPUs and
 * an orderly close. A backend supplies vCPUs, interrupt delivery, and may attach doorbells to its
 * own notification mechanism.
 */
public abstract class AbstractGuest implements Guest {
    private static final AtomicInteger GUESTS = new AtomicInteger();
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

    protected final String name = "guest-" + GUESTS.incrementAndGet();
    protected final GuestMemory memory;
    protected final Traps traps = new Traps();
    private final List<AbstractVcpu> vcpus = new ArrayList<>();
    private boolean closed;

    protected AbstractGuest(GuestMemory memory) {
        this.memory = memory;
    }

    /** Creates the backend's vCPU {@code id} in the RESET state. */
    protected abstract AbstractVcpu newVcpu(int id);

    /**
     * Connects a new doorbell trap to the backend's notification path; called after the trap is in
     * the table. The default delivers nothing extra (a software CPU rings {@link Doorbells} itself).
     */
    protected void attachBells(Traps.Registration trap) {
    }

    /** Disconnects a doorbell trap that is being removed. */
    protected void detachBells(Traps.Registration trap) {
    }

    /** Releases the backend's own resources after every vCPU has stopped. */
    protected abstract void closeBackend();

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public Trap setMemoryTrap(AddressRange range, TrapHandler handler) {
        requireOutsideRam(range);
        return traps.add(Trap.Kind.MEM, range, handler, r -> { });
    }

    @Override
    public Trap setIoTrap(AddressRange range, TrapHandler handler) {
        if (range.end() > 0x10000) {
            throw new IllegalArgumentException("IO trap " + range + " leaves the port space 0..0xFFFF");
        }
        return traps.add(Trap.Kind.IO, range, handler, r -> { });
    }

    @Override
    public Trap setBellTrap(AddressRange range, BellHandler handler) {
        requireOutsideRam(range);
        if (range.start() % BELL_STRIDE != 0 || range.size() % BELL_STRIDE != 0) {
            throw new IllegalArgumentException("BELL trap " + range + " is not a whole number of " + BELL_STRIDE + "-byte doorbells");
        }
        Traps.Registration trap = traps.add(Trap.Kind.BELL, range, handler, this::detachBells);
        attachBells(trap);
        return trap;
    }

    private void requireOutsideRam(AddressRange range) {
        for (RamRegion region : memory.regions()) {
            if (range.overlaps(new AddressRange(region.guestAddress(), region.size()))) {
                throw new IllegalArgumentException("trap " + range + " overlaps guest RAM");
            }
        }
    }

    @Override
    public synchronized Vcpu createVcpu(int id) {
        if (vcpus.stream().anyMatch(v -> v.id() == id)) {
            throw new IllegalArgumentException("vCPU " + id + " exists already");
        }
        AbstractVcpu vcpu = newVcpu(id);
        vcpus.add(vcpu);
        vcpus.sort(Comparator.comparingInt(Vcpu::id));
        return vcpu;
    }

    @Override
    public synchronized List<Vcpu> vcpus() {
        return List.copyOf(vcpus);
    }

    @Override
    public void close() {
        List<AbstractVcpu> running;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            running = List.copyOf(vcpus);
        }
        running.forEach(Vcpu::stop);
        for (AbstractVcpu vcpu : running) {
            try {
                if (vcpu.started() && vcpu.awaitExit(STOP_TIMEOUT).isEmpty()) {
                    throw new IllegalStateException("vCPU " + vcpu.id() + " did not stop within " + STOP_TIMEOUT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        closeBackend();
        memory.close();
    }
}
