package dev.machina.cpu.chipset;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A CPU core that only records what the chipset asked of it. */
class RecordingControl implements ProcessorControl {
    final AtomicInteger wakes = new AtomicInteger();
    final AtomicInteger inits = new AtomicInteger();
    final List<Integer> startups = new CopyOnWriteArrayList<>();

    @Override
    public void wake() {
        wakes.incrementAndGet();
    }

    @Override
    public void init() {
        inits.incrementAndGet();
    }

    @Override
    public void startup(int vector) {
        startups.add(vector);
    }
}
