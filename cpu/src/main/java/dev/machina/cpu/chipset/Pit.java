package dev.machina.cpu.chipset;

import dev.machina.hypervisor.TrapHandler;

import java.util.function.LongSupplier;

/**
 * The 8254 programmable interval timer at ports 0x40-0x43, with the PC's port 0x61 (gate and
 * output of channel 2, speaker enable, refresh toggle) as {@link #systemControlPort()}.
 *
 * <p>Counters are not stepped: each channel remembers when its count was loaded and computes its
 * count and OUT from the host clock at 1.193182 MHz, so a guest polling OUT2 or reading the count
 * to calibrate its TSC sees exact time. Channel 0 raises ISA IRQ 0 at each terminal count (modes 2
 * and 3 periodically, modes 0 and 4 once); {@link #nextDeadline()} and {@link #advanceTo(long)}
 * let a timer thread drive it, coalescing periods it slept through into one interrupt.
 *
 * <p>Modes 0-5, counter latch and read-back (count and status), LSB/MSB/word access. Simplified:
 * BCD counting is ignored (counts are binary), and a new count in modes 2 and 3 takes effect at
 * once rather than at the end of the current period. Thread-safe.
 */
public final class Pit implements TrapHandler {
    public static final long FREQUENCY_HZ = 1_193_182;
    public static final int PORT = 0x40;
    public static final int PORTS = 4;
    public static final int SYSTEM_CONTROL_PORT = 0x61;

    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private static final int CONTROL = 3;
    private static final int READ_BACK = 3;
    private static final int ACCESS_LATCH = 0;
    private static final int ACCESS_LSB = 1;
    private static final int ACCESS_MSB = 2;
    private static final int ACCESS_WORD = 3;
    /** The DRAM refresh request toggles port 0x61 bit 4 every 15.085 µs. */
    private static final long REFRESH_PERIOD_NANOS = 15_085;

    private final LongSupplier clock;
    private final Runnable irq0;
    private final Runnable reprogrammed;
    private final Channel[] channels = {new Channel(), new Channel(), new Channel()};
    /** Port 0x61 bits 3:0 as last written: gate 2, speaker data, and the parity/IOCHK check enables. */
    private int systemControl;

    /**
     * @param clock        host time in nanoseconds ({@link System#nanoTime()})
     * @param irq0         pulses ISA IRQ 0 (channel 0's OUT)
     * @param reprogrammed told when {@link #nextDeadline()} may have moved earlier
     */
    public Pit(LongSupplier clock, Runnable irq0, Runnable reprogrammed) {
        this.clock = clock;
        this.irq0 = irq0;
        this.reprogrammed = reprogrammed;
        channels[2].gate = false;
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (offset >= CONTROL) {
            return 0xFF; // The control word is write-only.
        }
        return channels[(int) offset].read(clock.getAsLong());
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        int data = (int) value & 0xFF;
        long now = clock.getAsLong();
        if (offset < CONTROL) {
            channels[(int) offset].writeCount(data, now);
        } else {
            writeControl(data, now);
        }
        if (offset == 0 || offset == CONTROL) {
            reprogrammed.run();
        }
    }

    private void writeControl(int data, long now) {
        int channel = data >>> 6;
        if (channel == READ_BACK) {
            for (int i = 0; i < channels.length; i++) {
                if ((data & (2 << i)) != 0) {
                    channels[i].readBack(data, now);
                }
            }
            return;
        }
        int access = (data >>> 4) & 3;
        if (access == ACCESS_LATCH) {
            channels[channel].latchCount(now);
        } else {
            channels[channel].program((data >>> 1) & 7, access);
        }
    }

    /** When channel 0 next raises IRQ 0 (host nanoseconds), or {@link Long#MAX_VALUE}. */
    public synchronized long nextDeadline() {
        return channels[0].nextInterrupt();
    }

    /** Raises IRQ 0 if channel 0 reached a terminal count by {@code now}. */
    public synchronized void advanceTo(long now) {
        if (channels[0].interruptDue(now)) {
            irq0.run();
        }
    }

    /**
     * Port 0x61: bits 3:0 read back as written (bit 0 is gate 2, bit 1 the speaker enable), bit 4
     * is the refresh toggle and bit 5 OUT2; bits 7:6 (parity and I/O check errors) read 0.
     */
    public TrapHandler systemControlPort() {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                synchronized (Pit.this) {
                    long now = clock.getAsLong();
                    return systemControl
                            | ((now / REFRESH_PERIOD_NANOS & 1) << 4)
                            | (channels[2].output(now) ? 0x20 : 0);
                }
            }

            @Override
            public void write(long offset, int size, long value) {
                synchronized (Pit.this) {
                    systemControl = (int) value & 0x0F;
                    channels[2].setGate((value & 0x01) != 0, clock.getAsLong());
                }
            }
        };
    }

    /** Counter ticks from {@code from} to {@code to}, exactly (no overflow for any span of {@code long} nanoseconds). */
    static long ticksBetween(long from, long to) {
        long elapsed = to - from;
        return elapsed / NANOS_PER_SECOND * FREQUENCY_HZ + elapsed % NANOS_PER_SECOND * FREQUENCY_HZ / NANOS_PER_SECOND;
    }

    /** The first instant, in nanoseconds after a load, at which {@code ticks} ticks have passed. */
    static long nanosFor(long ticks) {
        return ticks / FREQUENCY_HZ * NANOS_PER_SECOND + Math.ceilDiv(ticks % FREQUENCY_HZ * NANOS_PER_SECOND, FREQUENCY_HZ);
    }

    private static final class Channel {
        private int mode;
        private int access = ACCESS_WORD;
        /** The count loaded, 1-65536 (a written 0 means 65536). */
        private int reload = 0x10000;
        private boolean counting;
        private boolean nullCount = true;
        private long loadTime;
        private boolean gate = true;
        /** While the gate is low in modes 0 and 4, counting stands still since this time. */
        private long pausedAt;
        private boolean writeHigh;
        private int writtenLow;
        private boolean readHigh;
        private int latchedCount;
        /** Bytes of the latched count still to be read: 2, 1 or 0 (none latched). */
        private int latchedBytes;
        private int latchedStatus = -1;
        /** Channel 0: terminal counts already signalled since the load. */
        private long signalled;

        void program(int newMode, int newAccess) {
            mode = newMode > 5 ? newMode - 4 : newMode;
            access = newAccess;
            counting = false;
            nullCount = true;
            writeHigh = false;
            readHigh = false;
            latchedBytes = 0;
        }

        void writeCount(int data, long now) {
            switch (access) {
                case ACCESS_LSB -> load(data, now);
                case ACCESS_MSB -> load(data << 8, now);
                default -> {
                    if (!writeHigh) {
                        writtenLow = data;
                        writeHigh = true;
                        if (mode == 0) {
                            counting = false; // Writing the first byte stops a mode 0 count.
                        }
                    } else {
                        writeHigh = false;
                        load(writtenLow | data << 8, now);
                    }
                }
            }
        }

        private void load(int count, long now) {
            reload = count == 0 ? 0x10000 : count;
            nullCount = false;
            loadTime = now;
            pausedAt = now;
            signalled = 0;
            // Modes 1 and 5 wait for a rising edge of the gate.
            counting = mode != 1 && mode != 5;
        }

        void setGate(boolean level, long now) {
            if (level == gate) {
                return;
            }
            gate = level;
            if (!level) {
                pausedAt = now;
            } else if (mode == 0 || mode == 4) {
                loadTime += now - pausedAt;
            } else if (!nullCount) {
                // Modes 1 and 5 trigger, modes 2 and 3 reload on the rising edge.
                loadTime = now;
                signalled = 0;
                counting = true;
            }
        }

        /** Ticks counted since the load, standing still while a low gate inhibits counting. */
        private long elapsedTicks(long now) {
            boolean inhibited = !gate && mode != 1 && mode != 5;
            return ticksBetween(loadTime, inhibited ? pausedAt : now);
        }

        int count(long now) {
            if (!counting) {
                return reload & 0xFFFF;
            }
            long ticks = elapsedTicks(now);
            long value = switch (mode) {
                case 2 -> reload - ticks % reload;
                case 3 -> reload - (2 * ticks) % reload;
                default -> reload - ticks;
            };
            return (int) value & 0xFFFF;
        }

        boolean output(long now) {
            if (!counting) {
                return mode != 0;
            }
            long ticks = elapsedTicks(now);
            return switch (mode) {
                case 0, 1 -> ticks >= reload;
                case 2 -> ticks % reload != reload - 1;
                case 3 -> ticks % reload < (reload + 1) / 2;
                default -> ticks != reload;
            };
        }

        private boolean periodic() {
            return mode == 2 || mode == 3;
        }

        long nextInterrupt() {
            if (!counting || (!periodic() && signalled > 0)) {
                return Long.MAX_VALUE;
            }
            return loadTime + nanosFor((signalled + 1) * reload);
        }

        boolean interruptDue(long now) {
            if (now < nextInterrupt()) {
                return false;
            }
            signalled = periodic() ? elapsedTicks(now) / reload : 1;
            return true;
        }

        int read(long now) {
            if (latchedStatus >= 0) {
                int status = latchedStatus;
                latchedStatus = -1;
                return status;
            }
            int value;
            boolean high;
            if (latchedBytes > 0) {
                value = latchedCount;
                high = access == ACCESS_MSB || (access == ACCESS_WORD && latchedBytes == 1);
                latchedBytes--;
            } else {
                value = count(now);
                high = access == ACCESS_MSB || (access == ACCESS_WORD && readHigh);
                if (access == ACCESS_WORD) {
                    readHigh = !readHigh;
                }
            }
            return high ? value >>> 8 : value & 0xFF;
        }

        void latchCount(long now) {
            if (latchedBytes == 0) {
                latchedCount = count(now);
                latchedBytes = access == ACCESS_WORD ? 2 : 1;
            }
        }

        void readBack(int command, long now) {
            if ((command & 0x20) == 0) {
                latchCount(now);
            }
            if ((command & 0x10) == 0 && latchedStatus < 0) {
                latchedStatus = (output(now) ? 0x80 : 0) | (nullCount ? 0x40 : 0) | access << 4 | mode << 1;
            }
        }
    }
}
