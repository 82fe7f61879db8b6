package dev.machina.testguests;

import dev.machina.hypervisor.ExitReason;
import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Hypervisor;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.VcpuExit;
import dev.machina.hypervisor.x86.ControlRegisters;
import dev.machina.hypervisor.x86.Register;
import dev.machina.hypervisor.x86.Segment;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.testguests.AccessLog.Access;
import dev.machina.testguests.AccessLog.Direction;
import dev.machina.testguests.TestDevice.Port;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * What every backend must do, shown by running the {@link TestGuest}s: a backend's test module
 * subclasses this and supplies {@link #hypervisor()}. Each test creates its own guest (closed
 * afterwards) with a {@link TestDevice} on its ports and waits with timeouts, never by sleeping.
 */
public abstract class HypervisorConformanceTest {
    /** The vector {@link Vcpu#interrupt} delivers in the interrupt tests. */
    protected static final int VECTOR = 0x40;
    /** The local APIC's MSI address for APIC id 0 (fixed delivery, physical destination). */
    protected static final long MSI_ADDRESS_APIC_0 = 0xFEE0_0000L;
    /** The interrupt line the interrupts guest routes through its IOAPIC, and the vector it routes it to. */
    protected static final int ROUTED_LINE = 10;
    protected static final int ROUTED_VECTOR = 0x4A;
    /**
     * The busy guest's loop (seven instructions) may run this often between an interrupt being
     * sent and taken: a Java CPU checks between steps of at most 4,096 instructions and one pass
     * through a translated region, about 600 iterations here.
     */
    private static final int MAX_ITERATIONS_TO_TAKE_AN_INTERRUPT = 5_000;
    /** Generous for a loaded host, yet far below what waiting for the guest to stop would take. */
    private static final Duration MAX_TIME_TO_TAKE_AN_INTERRUPT = Duration.ofMillis(200);

    private final List<Guest> guests = new ArrayList<>();
    private TestDevice device;

    /** The backend under test; the suite does not close it. */
    protected abstract Hypervisor hypervisor();

    /** How long a guest may take to reach a point the test waits for (slow software CPUs may raise it). */
    protected Duration timeout() {
        return Duration.ofSeconds(10);
    }

    /** How long a halted guest is watched for progress it must not make. */
    protected Duration haltObservation() {
        return Duration.ofMillis(300);
    }

    @AfterEach
    final void closeGuests() {
        guests.forEach(Guest::close);
    }

    /** A fresh guest of {@link TestGuest#MEMORY_BYTES} with the {@link TestDevice} attached. */
    protected final Guest newGuest() {
        Guest guest = hypervisor().createGuest(TestGuest.MEMORY_BYTES);
        guests.add(guest);
        device = TestDevice.attach(guest);
        return guest;
    }

    /** The test device of the guest {@link #newGuest()} made last. */
    protected final TestDevice device() {
        return device;
    }

    /** Waits for {@code vcpu}'s loop to end, failing if it does not or if the guest took an exception. */
    protected final VcpuExit awaitExit(Vcpu vcpu) throws InterruptedException {
        VcpuExit exit = vcpu.awaitExit(timeout()).orElse(null);
        assertThat(device.written(Port.FAULT)).as("exception vectors the guest reported").isEmpty();
        assertThat(exit).as("exit of vCPU %d within %s (ports seen: %s)", vcpu.id(), timeout(), device.log().accesses()).isNotNull();
        assertThat(vcpu.counters().entries()).as("entries into the guest").isPositive();
        return exit;
    }

    private void awaitWrites(Port port, int count) throws InterruptedException {
        assertThat(device.awaitWrites(port, count, timeout()))
                .as("%d write(s) to %s within %s (ports seen: %s)", count, port, timeout(), device.log().accesses()).isTrue();
    }

    /** Every port access the device saw was an IO exit of one of {@code vcpus}. */
    private void assertIoExitsCounted(List<Vcpu> vcpus) {
        long exits = vcpus.stream().mapToLong(v -> v.counters().exits(ExitReason.IO)).sum();
        assertThat(exits).as("IO exits").isGreaterThanOrEqualTo(device.log().accesses().size());
    }

    private static Thread onlyThread(List<Access> accesses) {
        assertThat(accesses).isNotEmpty();
        assertThat(accesses).extracting(Access::thread).as("every access on one thread").containsOnly(accesses.getFirst().thread());
        assertThat(accesses.getFirst().thread()).as("the vCPU's thread, not the test's").isNotEqualTo(Thread.currentThread());
        return accesses.getFirst().thread();
    }

    @Test
    void portOutputAndInputOfEverySizeReachTheHandlerOnTheVcpuThread() throws InterruptedException {
        Guest guest = newGuest();
        Vcpu vcpu = TestGuest.PORT_IO.boot(guest, 1).getFirst();
        long input = 0x1234_5678L;
        device.supplyInput(input);

        vcpu.start();

        assertThat(awaitExit(vcpu)).isEqualTo(new VcpuExit.Stopped());
        List<Access> data = device.log().accesses(Port.DATA::matches);
        assertThat(data).extracting(Access::direction, Access::size, Access::value).containsExactly(
                tuple(Direction.WRITE, 1, 0x5AL),
                tuple(Direction.WRITE, 2, 0x1234L),
                tuple(Direction.WRITE, 4, 0xDEAD_BEEFL),
                tuple(Direction.READ, 4, input),
                tuple(Direction.WRITE, 4, (input * 3 + 1) & 0xFFFF_FFFFL),
                tuple(Direction.READ, 2, input & 0xFFFF),
                tuple(Direction.WRITE, 2, ~input & 0xFFFF),
                tuple(Direction.READ, 1, input & 0xFF),
                tuple(Direction.WRITE, 1, (input + 1) & 0xFF));
        onlyThread(device.log().accesses());
        assertThat(device.written(Port.EXIT)).containsExactly(0L);
        assertIoExitsCounted(List.of(vcpu));
    }

    @Test
    void mmioReadsAndWritesOfEverySizeReachTheMemoryTrap() throws InterruptedException {
        Guest guest = newGuest();
        long value = 0x0123_4567_89AB_CDEFL;
        AccessLog mmio = new AccessLog();
        guest.setMemoryTrap(TestDevice.MMIO, new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                long answer = AccessLog.truncate(value, size);
                mmio.add(Direction.READ, offset, size, answer);
                return answer;
            }

            @Override
            public void write(long offset, int size, long written) {
                mmio.add(Direction.WRITE, offset, size, written);
            }
        });
        Vcpu vcpu = TestGuest.MMIO.boot(guest, 1).getFirst();

        vcpu.start();

        assertThat(awaitExit(vcpu)).isEqualTo(new VcpuExit.Stopped());
        List<Access> accesses = mmio.accesses();
        assertThat(accesses).extracting(Access::direction, Access::offset, Access::size, Access::value).containsExactly(
                tuple(Direction.WRITE, 0x00L, 1, 0x11L),
                tuple(Direction.WRITE, 0x08L, 2, 0x2233L),
                tuple(Direction.WRITE, 0x10L, 4, 0x4455_6677L),
                tuple(Direction.WRITE, 0x18L, 8, 0x8899_AABB_CCDD_EEFFL),
                tuple(Direction.READ, 0x20L, 8, value),
                tuple(Direction.WRITE, 0x28L, 8, ~value),
                tuple(Direction.READ, 0x30L, 4, value & 0xFFFF_FFFFL),
                tuple(Direction.WRITE, 0x34L, 4, (value + 1) & 0xFFFF_FFFFL),
                tuple(Direction.READ, 0x40L, 2, value & 0xFFFF),
                tuple(Direction.WRITE, 0x42L, 2, ~value & 0xFFFF),
                tuple(Direction.READ, 0x48L, 1, value & 0xFF),
                tuple(Direction.WRITE, 0x49L, 1, (value + 1) & 0xFF));
        assertThat(onlyThread(accesses)).isEqualTo(onlyThread(device.log().accesses()));
        assertThat(vcpu.counters().exits(ExitReason.MMIO)).as("MMIO exits").isGreaterThanOrEqualTo(accesses.size());
    }

    /** What the bell handler saw: its doorbell, its thread, and whether the vCPU ran on meanwhile. */
    private record Ring(long offset, Thread thread, boolean vcpuRanOn) {
    }

    @Test
    void aDoorbellIsDeliveredOffTheVcpuThreadWhileTheVcpuRunsOn() throws InterruptedException, Exception {
        Guest guest = newGuest();
        CompletableFuture<Ring> firstRing = new CompletableFuture<>();
        List<Long> rings = new ArrayList<>();
        guest.setBellTrap(TestDevice.BELLS, offset -> {
            synchronized (rings) {
                rings.add(offset);
            }
            if (firstRing.isDone()) {
                return;
            }
            try {
                // Hold the doorbell until the vCPU has polled three more times: it must not wait for us.
                long polls = device.log().accesses(a -> !a.isWrite() && Port.ACK.matches(a)).size();
                boolean ranOn = device.awaitReads(Port.ACK, polls + 3, timeout());
                device.acknowledge();
                firstRing.complete(new Ring(offset, Thread.currentThread(), ranOn));
            } catch (InterruptedException e) {
                firstRing.completeExceptionally(e);
            }
        });
        Vcpu vcpu = TestGuest.BELL.boot(guest, 1).getFirst();

        vcpu.start();

        Ring ring = firstRing.get(2 * timeout().toMillis(), TimeUnit.MILLISECONDS);
        assertThat(awaitExit(vcpu)).isEqualTo(new VcpuExit.Stopped());
        assertThat(ring.offset()).as("doorbell 2").isEqualTo(2L * Guest.BELL_STRIDE);
        Thread vcpuThread = onlyThread(device.log().accesses());
        assertThat(ring.thread()).as("bell handler thread").isNotEqualTo(vcpuThread).isNotEqualTo(Thread.currentThread());
        assertThat(ring.vcpuRanOn()).as("the vCPU polled on while the doorbell was being handled").isTrue();
        long polls = device.log().accesses(a -> !a.isWrite() && Port.ACK.matches(a)).size();
        assertThat(device.written(Port.DATA)).as("the guest's count of its polls").containsExactly(polls);
        synchronized (rings) {
            assertThat(rings).containsOnly(2L * Guest.BELL_STRIDE);
        }
        assertIoExitsCounted(List.of(vcpu));
    }

    /**
     * Starts the interrupts guest in {@code guest}, to exit after {@code interrupts} interrupts, and
     * waits until it is about to halt with interrupts enabled.
     */
    private Vcpu haltedInterruptsGuest(Guest guest, int interrupts) throws InterruptedException {
        Vcpu vcpu = TestGuest.INTERRUPTS.boot(guest, 1).getFirst();
        vcpu.writeState(vcpu.readState().with(Register.RSI, interrupts));
        vcpu.start();
        awaitWrites(Port.READY, 1);
        return vcpu;
    }

    /** The interrupts guest exited having taken {@code vectors}, in order, each waking it from HLT once. */
    private void assertTookInterrupts(Vcpu vcpu, int... vectors) throws InterruptedException {
        assertThat(awaitExit(vcpu)).isEqualTo(new VcpuExit.Stopped());
        assertThat(device.written(Port.VECTOR)).as("vectors taken")
                .containsExactlyElementsOf(IntStream.of(vectors).mapToObj(v -> (long) v).toList());
        assertThat(device.written(Port.DATA)).as("interrupts taken, each time HLT returned")
                .containsExactlyElementsOf(LongStream.rangeClosed(1, vectors.length).boxed().toList());
        assertIoExitsCounted(List.of(vcpu));
    }

    @Test
    void anInterruptIsDeliveredThroughTheGuestsIdt() throws InterruptedException {
        Vcpu vcpu = haltedInterruptsGuest(newGuest(), 1);

        vcpu.interrupt(VECTOR);

        assertTookInterrupts(vcpu, VECTOR);
    }

    @Test
    void anInterruptLinePulseIsRoutedThroughTheIoapic() throws InterruptedException {
        Guest guest = newGuest();
        Vcpu vcpu = haltedInterruptsGuest(guest, 1);

        guest.pulseInterruptLine(ROUTED_LINE);

        assertTookInterrupts(vcpu, ROUTED_VECTOR);
    }

    @Test
    void messageSignalledInterruptsReachTheLocalApicOneAfterAnother() throws InterruptedException {
        Guest guest = newGuest();
        Vcpu vcpu = haltedInterruptsGuest(guest, 2);

        guest.signalMsi(MSI_ADDRESS_APIC_0, VECTOR + 1);
        awaitWrites(Port.DATA, 1);
        // Same priority class as the first: only delivered if the guest's EOI reached the APIC.
        guest.signalMsi(MSI_ADDRESS_APIC_0, VECTOR + 2);

        assertTookInterrupts(vcpu, VECTOR + 1, VECTOR + 2);
    }

    /**
     * An interrupt sent to a vCPU that computes with interrupts enabled is taken within a bounded
     * number of the guest's loop iterations and a bounded host time, first while the loop is new
     * (a software CPU interprets it) and again once it has run 200,000 times (translated):
     * delivery must not wait for the guest to exit, halt or leave a loop.
     */
    @Test
    void aPendingInterruptIsTakenPromptlyByAVcpuBusyInALoop() throws InterruptedException {
        Guest guest = newGuest();
        Vcpu vcpu = TestGuest.BUSY.boot(guest, 1).getFirst();
        vcpu.start();
        awaitWrites(Port.READY, 1);
        long[] after = {100, 200_000};
        for (int n = 0; n < after.length; n++) {
            long progress = awaitProgress(guest, after[n]);
            long raised = System.nanoTime();
            vcpu.interrupt(VECTOR);
            awaitWrites(Port.DATA, n + 1);
            Access report = device.log().accesses(a -> a.isWrite() && Port.DATA.matches(a)).get(n);
            assertThat(report.value() - (progress & 0xFFFF_FFFFL)).as("loop iterations before interrupt %d was taken", n + 1)
                    .isBetween(0L, (long) MAX_ITERATIONS_TO_TAKE_AN_INTERRUPT);
            assertThat(Duration.ofNanos(report.nanoTime() - raised)).as("time to take interrupt %d", n + 1)
                    .isLessThan(MAX_TIME_TO_TAKE_AN_INTERRUPT);
        }
        assertThat(awaitExit(vcpu)).isEqualTo(new VcpuExit.Stopped());
        assertThat(device.written(Port.VECTOR)).containsExactly((long) VECTOR, (long) VECTOR);
    }

    /** Waits until the busy guest's loop has run {@code iterations} times; returns its count then. */
    private long awaitProgress(Guest guest, long iterations) throws InterruptedException {
        long deadline = System.nanoTime() + timeout().toNanos() * 6;
        long progress;
        while ((progress = guest.memory().readLong(TestGuest.PROGRESS)) < iterations) {
            assertThat(System.nanoTime()).as("the busy guest's loop reaching %d iterations (at %d)", iterations, progress).isLessThan(deadline);
            Thread.onSpinWait();
        }
        return progress;
    }

    @Test
    void theLocalApicTimerAndThePitInterruptAHaltedVcpu() throws InterruptedException {
        Vcpu vcpu = TestGuest.TIMERS.boot(newGuest(), 1).getFirst();
        vcpu.start();

        assertThat(awaitExit(vcpu)).isEqualTo(new VcpuExit.Stopped());
        List<Long> vectors = device.written(Port.VECTOR);
        assertThat(vectors.subList(0, 4)).as("one-shot, then three periodic").containsExactly(0x40L, 0x41L, 0x41L, 0x41L);
        // A periodic tick may land between the third and the masking of the timer.
        assertThat(vectors.subList(4, vectors.size())).as("then the PIT")
                .containsSubsequence(0x42L, 0x42L, 0x42L).isSubsetOf(0x41L, 0x42L);
        assertThat(vectors.getLast()).isEqualTo(0x42L);
        assertIoExitsCounted(List.of(vcpu));
    }

    @Test
    void pageFaultsReachTheGuestsHandlerWithTheirErrorCodeAndCr2() throws InterruptedException {
        Vcpu vcpu = TestGuest.PAGE_FAULTS.boot(newGuest(), 1).getFirst();
        vcpu.start();

        assertThat(awaitExit(vcpu)).isEqualTo(new VcpuExit.Stopped());
        // Per fault: the error code, then CR2's low and high halves.
        assertThat(device.written(Port.DATA)).containsExactly(
                0L, 0L, 1L,           // read of unmapped 4 GiB: not present
                2L, 0L, 1L,           // write there: not present, write
                3L, 0x60_0000L, 0L);  // write to a read-only page under CR0.WP: present, write
    }

    @Test
    void aHaltedVcpuMakesNoProgressUntilAnInterruptWakesIt() throws InterruptedException {
        Vcpu vcpu = haltedInterruptsGuest(newGuest(), 1);

        assertThat(vcpu.awaitExit(haltObservation())).as("exit while halted").isEmpty();
        assertThat(device.log().accesses()).as("port accesses after ready while halted")
                .extracting(Access::offset).containsExactly(Port.READY.offset());

        vcpu.interrupt(VECTOR);

        assertTookInterrupts(vcpu, VECTOR);
    }

    @Test
    void twoVcpusRunOnTheirOwnThreads() throws InterruptedException {
        Guest guest = newGuest();
        List<Vcpu> vcpus = TestGuest.SMP.boot(guest, 2);
        assertThat(guest.vcpus()).extracting(Vcpu::id).containsExactly(0, 1);

        vcpus.forEach(Vcpu::start);

        for (Vcpu vcpu : vcpus) {
            assertThat(awaitExit(vcpu)).as("vCPU %d", vcpu.id()).isEqualTo(new VcpuExit.Stopped());
        }
        List<Access> reports = device.log().accesses(a -> a.isWrite() && Port.DATA.matches(a));
        assertThat(reports).extracting(Access::value).containsExactlyInAnyOrder(0L, 1L);
        assertThat(reports).extracting(Access::thread).doesNotHaveDuplicates().doesNotContain(Thread.currentThread());
        for (Access report : reports) {
            assertThat(device.log().accesses(a -> a.thread() == report.thread()))
                    .as("what vCPU %d's thread did", report.value())
                    .extracting(Access::offset, Access::value)
                    .containsExactly(tuple(Port.DATA.offset(), report.value()), tuple(Port.EXIT.offset(), report.value()));
        }
        assertIoExitsCounted(vcpus);
    }

    @Test
    void aSecondVcpuStartedWithInitAndSipiRunsFromTheStartupVectorInRealMode() throws InterruptedException {
        Guest guest = newGuest();
        List<Vcpu> vcpus = TestGuest.STARTUP.bootProcessorOnly(guest, 2);

        vcpus.forEach(Vcpu::start);

        for (Vcpu vcpu : vcpus) {
            assertThat(awaitExit(vcpu)).as("vCPU %d", vcpu.id()).isEqualTo(new VcpuExit.Stopped());
        }
        List<Access> reports = device.log().accesses(a -> a.isWrite() && Port.DATA.matches(a));
        assertThat(reports).extracting(Access::value, Access::size).containsExactly(tuple(0x5150L, 2));
        Thread bootProcessor = device.log().accesses(a -> a.isWrite() && Port.EXIT.matches(a) && a.value() == 0)
                .getFirst().thread();
        assertThat(reports.getFirst().thread()).as("the report came from vCPU 1's thread").isNotEqualTo(bootProcessor);
    }

    @Test
    void registersWrittenBeforeTheRunAreReadBackTransformedByTheGuest() throws InterruptedException {
        Guest guest = newGuest();
        Vcpu vcpu = TestGuest.STATE.boot(guest, 1).getFirst();
        Map<Register, Long> in = new EnumMap<>(Map.ofEntries(
                Map.entry(Register.RAX, 0x0123_4567_89AB_CDEFL), Map.entry(Register.RBX, 0x1111_2222_3333_4444L),
                Map.entry(Register.RCX, 0x5555_6666_7777_8888L), Map.entry(Register.RDX, 0x7FFF_0000_FFFF_0001L),
                Map.entry(Register.RSI, 0x0F0F_F0F0_1234_5678L), Map.entry(Register.RDI, 0x8000_0000_0000_0001L),
                Map.entry(Register.RBP, 0xC000_00FF_FFFF_FF00L), Map.entry(Register.R8, 0x1234_5678L),
                Map.entry(Register.R9, 0xFFFF_FFFF_FFFF_FFFDL), Map.entry(Register.R10, 0xF000_0000_0000_00F8L),
                Map.entry(Register.R11, 0xCAFE_F00D_DEAD_BEEFL), Map.entry(Register.R12, 0xAAAA_5555_AAAA_5555L),
                Map.entry(Register.R13, 0x3C3C_3C3C_0000_0000L), Map.entry(Register.R14, 0x0000_0000_C3C3_C3C3L),
                Map.entry(Register.R15, 0x7FFF_FFFF_FFFF_FFFFL)));
        // Bit 1 is fixed; CF, PF, ZF, SF, DF and OF set. IF stays clear: the guest takes no interrupts.
        long flags = 0x2 | 0x1 | 0x4 | 0x40 | 0x80 | 0x400 | 0x800;
        X86State entry = vcpu.readState().with(Register.RFLAGS, flags);
        for (Map.Entry<Register, Long> register : in.entrySet()) {
            entry = entry.with(register.getKey(), register.getValue());
        }
        vcpu.writeState(entry);

        vcpu.start();

        assertThat(awaitExit(vcpu)).isEqualTo(new VcpuExit.Stopped());
        X86State out = vcpu.readState();
        Map<Register, Long> expected = new EnumMap<>(Register.class);
        expected.put(Register.RAX, 0L);
        expected.put(Register.RBX, in.get(Register.RAX) + in.get(Register.RBX));
        expected.put(Register.RCX, in.get(Register.RCX) ^ in.get(Register.RDX));
        expected.put(Register.RDX, in.get(Register.RSI) - in.get(Register.RDI));
        expected.put(Register.RSI, Long.rotateLeft(in.get(Register.RBP), 7));
        expected.put(Register.RDI, in.get(Register.R8) * in.get(Register.R9));
        expected.put(Register.RBP, in.get(Register.R10) >>> 3);
        expected.put(Register.R8, flags);
        expected.put(Register.R9, ~in.get(Register.R12));
        expected.put(Register.R10, in.get(Register.R13) | in.get(Register.R14));
        expected.put(Register.R11, flags ^ 1);
        expected.put(Register.R12, in.get(Register.R15) + 1);
        expected.put(Register.R13, in.get(Register.R13));
        expected.put(Register.R14, in.get(Register.R14));
        expected.put(Register.R15, in.get(Register.R15));
        expected.put(Register.RSP, TestGuest.STACKS_TOP);
        expected.put(Register.RFLAGS, flags ^ 1);
        Map<Register, Long> actual = new EnumMap<>(Register.class);
        expected.keySet().forEach(register -> actual.put(register, out.get(register)));
        assertThat(actual).isEqualTo(expected);
    }

    @Test
    void theEntryStateReadsBackAsWrittenBeforeTheVcpuRuns() {
        Guest guest = newGuest();
        Vcpu vcpu = TestGuest.SMP.boot(guest, 2).getLast();
        X86State written = vcpu.readState().with(Register.RBX, 0x1122_3344_5566_7788L).with(Register.R15, -2L);

        vcpu.writeState(written);
        X86State read = vcpu.readState();

        assertThat(read.general()).isEqualTo(written.general());
        assertThat(read.control()).extracting(ControlRegisters::cr0, ControlRegisters::cr3, ControlRegisters::cr4, ControlRegisters::efer)
                .containsExactly(written.control().cr0(), written.control().cr3(), written.control().cr4(), written.control().efer());
        assertThat(read.gdt()).isEqualTo(written.gdt());
        assertThat(read.segments().cs()).extracting(Segment::selector, Segment::longMode)
                .containsExactly(written.segments().cs().selector(), true);
        assertThat(read.segments().ss().selector()).isEqualTo(written.segments().ss().selector());
    }

    @Test
    void stopEndsAVcpuSpinningWithInterruptsOff() throws InterruptedException {
        assertStopEnds(TestGuest.SPIN);
    }

    @Test
    void stopEndsAVcpuHaltedWithInterruptsOff() throws InterruptedException {
        assertStopEnds(TestGuest.HALT);
    }

    @Test
    void stopEndsAVcpuHaltedWithInterruptsOn() throws InterruptedException {
        assertStopEnds(TestGuest.INTERRUPTS);
    }

    private void assertStopEnds(TestGuest testGuest) throws InterruptedException {
        Guest guest = newGuest();
        Vcpu vcpu = testGuest.boot(guest, 1).getFirst();
        vcpu.start();
        awaitWrites(Port.READY, 1);
        assertThat(vcpu.exit()).as("exit before stop").isEmpty();

        vcpu.stop();

        assertThat(awaitExit(vcpu)).isEqualTo(new VcpuExit.Stopped());
    }

    @Test
    void aTrapHandlerThatThrowsFailsTheVcpuAndNothingElse() throws InterruptedException {
        Guest guest = newGuest();
        guest.setMemoryTrap(TestDevice.MMIO, new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                throw new IllegalStateException("device broke");
            }
        });
        Vcpu vcpu = TestGuest.MMIO.boot(guest, 1).getFirst();

        vcpu.start();

        assertThat(awaitExit(vcpu)).isInstanceOfSatisfying(VcpuExit.Failed.class,
                failed -> assertThat(failed.reason()).contains("device broke"));
        assertThat(device.written(Port.EXIT)).as("the guest did not go on past the failed write").isEmpty();
    }

    @Test
    void aTripleFaultShutsTheVcpuDown() throws InterruptedException {
        Guest guest = newGuest();
        Vcpu vcpu = TestGuest.TRIPLE_FAULT.boot(guest, 1).getFirst();

        vcpu.start();

        assertThat(awaitExit(vcpu)).isInstanceOf(VcpuExit.Shutdown.class);
        assertThat(vcpu.counters().exits(ExitReason.SHUTDOWN)).as("shutdown exits").isEqualTo(1);
    }
}
