package dev.machina.testguests;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.memory.AddressRange;

import java.time.Duration;
import java.util.List;

/**
 * The device the test guests report through (their side is {@code src/main/asm/test-device.inc}):
 * a block of x86 ports, trapped synchronously. It logs every access with its thread, answers reads
 * of {@link Port#DATA} with the test's input and of {@link Port#ACK} with whether the test
 * acknowledged, and stops the vCPU whose id is written to {@link Port#EXIT}.
 */
public final class TestDevice implements TrapHandler {
    /** The ports: {@code 0xE0..0xF7}. */
    public static final AddressRange PORTS = new AddressRange(0xE0, 0x18);
    /** Where the MMIO guest reads and writes; the suite traps it. */
    public static final AddressRange MMIO = new AddressRange(0xD000_0000L, 0x1000);
    /** The bell guest's four doorbells; the suite traps them. */
    public static final AddressRange BELLS = new AddressRange(0xD000_1000L, 4L * Guest.BELL_STRIDE);

    /** The ports, by offset from {@link #PORTS}' start. */
    public enum Port {
        /** Out: a value the guest reports (8, 16 or 32 bits). In: the test's input. */
        DATA,
        /** Out: a vCPU id; that vCPU is stopped. */
        EXIT,
        /** Out: a vCPU id; the guest reached the point a test waits for. */
        READY,
        /** Out: the vector of an interrupt the guest took. */
        VECTOR,
        /** In: 1 once the test acknowledged, else 0. */
        ACK,
        /** Out: the vector of an exception the guest did not expect; the guest parks. */
        FAULT;

        public long offset() {
            return ordinal() * 4L;
        }

        /** The accesses to this port. */
        public boolean matches(AccessLog.Access access) {
            return access.offset() == offset();
        }
    }

    private final Guest guest;
    private final AccessLog log = new AccessLog();
    private volatile long input;
    private volatile boolean acknowledged;

    private TestDevice(Guest guest) {
        this.guest = guest;
    }

    /** Creates the device and traps its ports in {@code guest}. */
    public static TestDevice attach(Guest guest) {
        TestDevice device = new TestDevice(guest);
        guest.setIoTrap(PORTS, device);
        return device;
    }

    public AccessLog log() {
        return log;
    }

    /** What reads of {@link Port#DATA} return (truncated to the access size). */
    public void supplyInput(long value) {
        input = value;
    }

    /** Makes {@link Port#ACK} read 1. */
    public void acknowledge() {
        acknowledged = true;
    }

    /** The values written to {@code port}, oldest first. */
    public List<Long> written(Port port) {
        return log.accesses(a -> a.isWrite() && port.matches(a)).stream().map(AccessLog.Access::value).toList();
    }

    /** Waits until {@code count} writes to {@code port} were made; returns whether they were in time. */
    public boolean awaitWrites(Port port, int count, Duration timeout) throws InterruptedException {
        return log.awaitCount(a -> a.isWrite() && port.matches(a), count, timeout);
    }

    /** Waits until {@code count} reads of {@code port} were made; returns whether they were in time. */
    public boolean awaitReads(Port port, long count, Duration timeout) throws InterruptedException {
        return log.awaitCount(a -> !a.isWrite() && port.matches(a), count, timeout);
    }

    @Override
    public long read(long offset, int size) {
        long value;
        if (offset == Port.DATA.offset()) {
            value = AccessLog.truncate(input, size);
        } else if (offset == Port.ACK.offset()) {
            value = acknowledged ? 1 : 0;
        } else {
            value = AccessLog.truncate(-1, size);
        }
        log.add(AccessLog.Direction.READ, offset, size, value);
        return value;
    }

    @Override
    public void write(long offset, int size, long value) {
        log.add(AccessLog.Direction.WRITE, offset, size, value);
        if (offset == Port.EXIT.offset()) {
            guest.vcpus().stream().filter(v -> v.id() == value).forEach(Vcpu::stop);
        } else if (offset == Port.FAULT.offset()) {
            guest.vcpus().forEach(Vcpu::stop);
        }
    }
}
