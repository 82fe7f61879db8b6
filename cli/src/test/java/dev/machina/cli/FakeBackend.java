package dev.machina.cli;

import dev.machina.hypervisor.Backends;
import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Hypervisor;
import dev.machina.hypervisor.HypervisorException;
import dev.machina.hypervisor.HypervisorProvider;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend named "java" that records being opened and the memory size asked for, then refuses to
 * create the guest: enough to see what the command would have started.
 */
final class FakeBackend implements HypervisorProvider {
    static final String REFUSAL = "fake backend: no guests here";

    final AtomicInteger opened = new AtomicInteger();
    final AtomicLong memoryAskedFor = new AtomicLong(-1);

    Backends backends() {
        return new Backends(List.of(this));
    }

    @Override
    public String name() {
        return Backends.JAVA;
    }

    @Override
    public Availability probe() {
        return new Availability(true, false, "fake");
    }

    /** A limit of 4 GiB, to see the command check it before opening. */
    @Override
    public MemoryLimit memoryLimit() {
        return new MemoryLimit(4L << 30, "the fake's limit");
    }

    @Override
    public Hypervisor open() {
        opened.incrementAndGet();
        return new Hypervisor() {
            @Override
            public String name() {
                return Backends.JAVA;
            }

            @Override
            public Guest createGuest(long memoryBytes) {
                memoryAskedFor.set(memoryBytes);
                throw new HypervisorException(REFUSAL);
            }
        };
    }
}
