package dev.machina.vmm.devices.virtio;

import dev.machina.cpu.JavaHypervisorProvider;
import dev.machina.hypervisor.BellHandler;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.vmm.devices.pci.Bar;
import dev.machina.vmm.devices.pci.MsiX;
import dev.machina.vmm.devices.pci.PciBus;
import dev.machina.vmm.devices.pci.PciFunction;
import dev.machina.vmm.devices.pci.RecordingGuest;
import dev.machina.vmm.devices.virtio.queue.DriverRing;
import dev.machina.vmm.devices.virtio.rng.EntropyDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The virtio-pci transport driven as Linux's virtio_pci driver drives it, through the registers in
 * BAR 0 (the entropy device behind it): feature negotiation, queue setup, a notification served on
 * the device's worker with an MSI-X interrupt back, and a malformed queue that puts the device in
 * DEVICE_NEEDS_RESET until the driver resets it.
 */
class VirtioPciTransportTest {
    private static final int DEVICE_FEATURE_SELECT = 0x00;
    private static final int DEVICE_FEATURE = 0x04;
    private static final int DRIVER_FEATURE_SELECT = 0x08;
    private static final int DRIVER_FEATURE = 0x0C;
    private static final int MSIX_CONFIG = 0x10;
    private static final int STATUS = 0x14;
    private static final int QUEUE_SIZE = 0x18;
    private static final int QUEUE_MSIX_VECTOR = 0x1A;
    private static final int QUEUE_ENABLE = 0x1C;
    private static final int QUEUE_DESC = 0x20;
    private static final int QUEUE_DRIVER = 0x28;
    private static final int QUEUE_DEVICE = 0x30;
    private static final int RING_SIZE = 8;
    private static final long DESCRIPTORS = 0x10000;
    private static final long AVAILABLE = 0x11000;
    private static final long USED = 0x12000;
    private static final long BUFFER = 0x20000;

    private final RecordingGuest guest = new RecordingGuest(new JavaHypervisorProvider().open().createGuest(16 << 20));
    private final GuestMemory memory = guest.memory();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final Semaphore messages = new Semaphore(0);
    private final List<Integer> messageData = new CopyOnWriteArrayList<>();
    private final VirtioPciTransport transport = new VirtioPciTransport("virtio-rng", new EntropyDevice(new SecureRandom()),
            memory, new PciBus(guest, log::add), 0xC000_0000L, (address, data) -> {
                messageData.add(data);
                messages.release();
            }, log::add);
    private final List<Bar.Region> regions = transport.function().bar(0).orElseThrow().regions();
    private final TrapHandler common = registers(0);
    private final TrapHandler msixTable = registers(4);
    private final BellHandler doorbells = ((Bar.Doorbells) regions.get(3)).handler();
    private final DriverRing ring = new DriverRing(memory, RING_SIZE, DESCRIPTORS, AVAILABLE, USED);

    @AfterEach
    void close() {
        transport.close();
        guest.close();
    }

    @Test
    void theDeviceOffersVersion1AndTheTransportsRingFeatures() {
        common.write(DEVICE_FEATURE_SELECT, 4, 1);
        assertThat(common.read(DEVICE_FEATURE, 4) & 1).as("VERSION_1").isEqualTo(1);
        common.write(DEVICE_FEATURE_SELECT, 4, 0);
        assertThat(common.read(DEVICE_FEATURE, 4) & (3 << 28)).as("INDIRECT_DESC and EVENT_IDX").isEqualTo(3 << 28);
    }

    @Test
    void thePciCfgWindowReachesTheRegistersOfBar0() {
        PciFunction function = transport.function();
        int window = capability(0x09, 5);
        function.write(window + 4, 1, 0);                 // BAR 0
        function.write(window + 12, 4, 4);                // four bytes
        function.write(window + 8, 4, DEVICE_FEATURE_SELECT);
        function.write(window + 16, 4, 1);
        function.write(window + 8, 4, DEVICE_FEATURE);
        assertThat(function.read(window + 16, 4) & 1).as("VERSION_1, read through configuration space").isEqualTo(1);
        assertThat(common.read(DEVICE_FEATURE_SELECT, 4)).as("the write went to the common configuration").isEqualTo(1);
    }

    @Test
    void aDriverWithoutVersion1IsRefusedFeaturesOk() {
        common.write(STATUS, 1, 1 | 2);
        common.write(STATUS, 1, 1 | 2 | 8);
        assertThat(common.read(STATUS, 1) & 8).as("FEATURES_OK").isZero();
        assertThat(log).singleElement().asString().contains("VERSION_1 is required");
    }

    @Test
    void aNotifiedRequestIsServedOnTheWorkerAndInterruptsThroughItsVector() throws Exception {
        negotiateAndSetUpQueue();
        ring.descriptor(0, BUFFER, 32, DriverRing.WRITE, 0);
        ring.offer(0);
        doorbells.ring(0);
        assertThat(messages.tryAcquire(10, TimeUnit.SECONDS)).as("the queue's interrupt").isTrue();
        assertThat(messageData).containsExactly(0x51);
        assertThat(ring.usedIdx()).isEqualTo(1);
        assertThat(ring.usedLength(0)).isEqualTo(32);
    }

    @Test
    void aMalformedQueueNeedsAResetAndAResetBringsTheDeviceBack() throws Exception {
        negotiateAndSetUpQueue();
        ring.offer(RING_SIZE + 3);           // a head outside the descriptor table
        doorbells.ring(0);
        assertThat(messages.tryAcquire(10, TimeUnit.SECONDS)).as("the configuration interrupt").isTrue();
        assertThat(messageData).containsExactly(0x50);
        assertThat(common.read(STATUS, 1) & 0x40).as("DEVICE_NEEDS_RESET").isEqualTo(0x40);
        assertThat(log).singleElement().asString()
                .contains("virtio-rng (PCI 00:01.0): queue 0:", "head index 11", "the device needs a reset");

        common.write(STATUS, 1, 0);
        assertThat(common.read(STATUS, 1)).isZero();
        ring.zero();
        negotiateAndSetUpQueue();
        ring.descriptor(0, BUFFER, 16, DriverRing.WRITE, 0);
        ring.offer(0);
        doorbells.ring(0);
        assertThat(messages.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ring.usedIdx()).isEqualTo(1);
    }

    /** What Linux does: features, MSI-X vectors (config 0, queue 1), the queue's rings, DRIVER_OK. */
    private void negotiateAndSetUpQueue() {
        transport.function().write(capability(MsiX.CAPABILITY_ID) + 2, 2, 1 << 15);
        programVector(0, 0x50);
        programVector(1, 0x51);
        common.write(STATUS, 1, 1 | 2);
        common.write(DRIVER_FEATURE_SELECT, 4, 1);
        common.write(DRIVER_FEATURE, 4, 1);
        common.write(STATUS, 1, 1 | 2 | 8);
        assertThat(common.read(STATUS, 1) & 8).as("FEATURES_OK").isEqualTo(8);
        common.write(MSIX_CONFIG, 2, 0);
        common.write(QUEUE_SIZE, 2, RING_SIZE);
        common.write(QUEUE_MSIX_VECTOR, 2, 1);
        common.write(QUEUE_DESC, 8, DESCRIPTORS);
        common.write(QUEUE_DRIVER, 8, AVAILABLE);
        common.write(QUEUE_DEVICE, 8, USED);
        common.write(QUEUE_ENABLE, 2, 1);
        common.write(STATUS, 1, 1 | 2 | 8 | 4);
    }

    private void programVector(int vector, int data) {
        msixTable.write(vector * 16L, 4, 0xFEE0_0000L);
        msixTable.write(vector * 16L + 8, 4, data);
        msixTable.write(vector * 16L + 12, 4, 0);
    }

    /** The offset of the first capability with {@code id}, found as the driver finds it: down the list. */
    private int capability(int id) {
        return capability(id, -1);
    }

    /** The same, for a virtio capability ({@code id} 9) of {@code cfgType}, or any with -1. */
    private int capability(int id, int cfgType) {
        for (int at = (int) transport.function().read(PciFunction.CAPABILITIES_POINTER, 1); at != 0;
             at = (int) transport.function().read(at + 1, 1)) {
            if (transport.function().read(at, 1) == id && (cfgType < 0 || transport.function().read(at + 3, 1) == cfgType)) {
                return at;
            }
        }
        throw new AssertionError("no capability 0x%x".formatted(id));
    }

    private TrapHandler registers(int index) {
        return ((Bar.Registers) regions.get(index)).handler();
    }
}
