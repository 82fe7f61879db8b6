package dev.machina.vmm.devices.virtio;

import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.memory.GuestMemory;
import dev.machina.vmm.devices.InterruptLine;
import dev.machina.vmm.devices.pci.Bar;
import dev.machina.vmm.devices.pci.MsiX;
import dev.machina.vmm.devices.pci.PciBus;
import dev.machina.vmm.devices.pci.PciFunction;
import dev.machina.vmm.devices.pci.PciIdentity;
import dev.machina.vmm.devices.virtio.queue.DescriptorChain;
import dev.machina.vmm.devices.virtio.queue.QueueFault;
import dev.machina.vmm.devices.virtio.queue.SplitQueue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The virtio 1.2 PCI transport (modern only) around one {@link VirtioDevice}: a PCI function whose
 * BAR 0 holds the common configuration, the ISR, the device configuration, one doorbell per queue
 * (BELL traps: a notification never stops the vCPU, and on KVM it is an ioeventfd) and the MSI-X
 * table, each found through a vendor capability.
 *
 * <p>A malformed queue puts the device in DEVICE_NEEDS_RESET with one line in the log, and it
 * touches no queue until the driver resets it; the VMM and the other devices go on.
 *
 * <p>Two locks: this object's guards what the driver configures (vCPU threads), and
 * {@code signals} guards the status, ISR and configuration generation, which the worker changes
 * too. The worker never takes this object's lock, so a reset can wait for the worker to leave
 * the device while holding it.
 */
public final class VirtioPciTransport {
    public static final int VENDOR = 0x1AF4;
    /** Modern device ids are 0x1040 plus the virtio device id. */
    public static final int MODERN_DEVICE_BASE = 0x1040;
    public static final int VERSION_1 = 32;
    public static final int RING_INDIRECT_DESC = 28;
    public static final int RING_EVENT_IDX = 29;
    public static final long BAR_SIZE = 0x8000;
    public static final int NO_VECTOR = 0xFFFF;

    static final int ACKNOWLEDGE = 1;
    static final int DRIVER = 2;
    static final int DRIVER_OK = 4;
    static final int FEATURES_OK = 8;
    static final int DEVICE_NEEDS_RESET = 0x40;
    static final int FAILED = 0x80;

    private static final long TRANSPORT_FEATURES = 1L << VERSION_1 | 1L << RING_INDIRECT_DESC | 1L << RING_EVENT_IDX;
    private static final int VENDOR_CAPABILITY = 0x09;
    private static final int COMMON_CFG = 1;
    private static final int NOTIFY_CFG = 2;
    private static final int ISR_CFG = 3;
    private static final int DEVICE_CFG = 4;
    private static final int PCI_CFG = 5;
    /** The PCI_CFG capability's fields, from the capability's start: BAR, offset, length, then the data window. */
    private static final int PCI_CFG_BAR = 4;
    private static final int PCI_CFG_OFFSET = 8;
    private static final int PCI_CFG_LENGTH = 12;
    private static final int PCI_CFG_DATA = 16;
    private static final long COMMON_OFFSET = 0x0000;
    private static final long COMMON_SIZE = 0x40;
    private static final long ISR_OFFSET = 0x1000;
    private static final long DEVICE_OFFSET = 0x2000;
    private static final long NOTIFY_OFFSET = 0x3000;
    private static final long MSIX_TABLE_OFFSET = 0x4000;
    private static final long MSIX_PBA_OFFSET = 0x6000;
    private static final int NOTIFY_MULTIPLIER = 4;
    private static final int QUEUE_INTERRUPT = 1;
    private static final int CONFIG_INTERRUPT = 2;

    private final String name;
    private final VirtioDevice device;
    private final PciFunction function;
    private final MsiX msix;
    private final InterruptLine intx;
    private final Consumer<String> log;
    private final List<SplitQueue> queues = new ArrayList<>();
    private final DescriptorChain chain;
    private final int[] queueVectors;
    private final int slot;

    private int deviceFeatureSelect;
    private int driverFeatureSelect;
    private long driverFeatures;
    private volatile int configVector = NO_VECTOR;
    private int queueSelect;
    private DeviceWorker worker;
    private final Object signals = new Object();
    private volatile int status;
    private volatile int configGeneration;
    private int isr;

    /**
     * Plugs {@code device} into {@code bus} as a function named {@code name} with BAR 0 at
     * {@code barAddress}; MSI-X messages go to {@code messages}.
     */
    public VirtioPciTransport(String name, VirtioDevice device, GuestMemory memory, PciBus bus, long barAddress,
                              MsiX.MessageSink messages, Consumer<String> log) {
        this.name = name;
        this.device = device;
        this.log = log;
        int[] sizes = device.queueSizes();
        int largest = 0;
        for (int size : sizes) {
            queues.add(new SplitQueue(memory, size));
            largest = Math.max(largest, size);
        }
        this.chain = new DescriptorChain(largest);
        this.queueVectors = new int[sizes.length];
        Arrays.fill(queueVectors, NO_VECTOR);
        int type = device.deviceType();
        this.function = new PciFunction(name, new PciIdentity(VENDOR, MODERN_DEVICE_BASE + type, VENDOR,
                MODERN_DEVICE_BASE + type, 1, device.pciClass()));
        this.msix = new MsiX(function, sizes.length + 1, 0, MSIX_TABLE_OFFSET, MSIX_PBA_OFFSET, messages);
        addCapability(COMMON_CFG, COMMON_OFFSET, COMMON_SIZE, 0);
        addCapability(NOTIFY_CFG, NOTIFY_OFFSET, (long) NOTIFY_MULTIPLIER * sizes.length, NOTIFY_MULTIPLIER);
        addCapability(ISR_CFG, ISR_OFFSET, 4, 0);
        addCapability(DEVICE_CFG, DEVICE_OFFSET, Math.max(device.configSize(), 4), 0);
        int pciCfg = addCapability(PCI_CFG, 0, 0, 0);
        function.setBar(0, new Bar(BAR_SIZE, false, List.of(
                new Bar.Registers(COMMON_OFFSET, COMMON_SIZE, registers(this::readCommon, this::writeCommon)),
                new Bar.Registers(ISR_OFFSET, 4, registers((offset, size) -> offset == 0 ? readIsr() : 0, (offset, size, value) -> { })),
                new Bar.Registers(DEVICE_OFFSET, Math.max(device.configSize(), 4),
                        registers((offset, size) -> device.readConfig((int) offset, size),
                                (offset, size, value) -> device.writeConfig((int) offset, size, value))),
                new Bar.Doorbells(NOTIFY_OFFSET, (long) NOTIFY_MULTIPLIER * sizes.length,
                        offset -> notified((int) (offset / NOTIFY_MULTIPLIER))),
                new Bar.Registers(MSIX_TABLE_OFFSET, msix.tableSize(), msix.table()),
                new Bar.Registers(MSIX_PBA_OFFSET, msix.pendingBitsSize(), msix.pendingBits()))), barAddress);
        function.window(pciCfg + PCI_CFG_DATA, 4, registers((offset, size) -> throughPciCfg(pciCfg, offset, size, 0, false),
                (offset, size, value) -> throughPciCfg(pciCfg, offset, size, value, true)));
        this.slot = bus.add(function);
        this.intx = bus.intx(slot);
    }

    /** The slot the device sits in on bus 0. */
    public int slot() {
        return slot;
    }

    public String name() {
        return name;
    }

    /** The device's PCI function, for listings. */
    public PciFunction function() {
        return function;
    }

    /**
     * The virtio_pci_cap: which structure, where in BAR 0, how long (and the notify multiplier, or
     * PCI_CFG's data window, whose BAR, offset and length the driver writes). Returns its offset.
     */
    private int addCapability(int type, long offset, long length, int notifyMultiplier) {
        int bodyLength = type == NOTIFY_CFG || type == PCI_CFG ? 18 : 14;
        byte[] body = new byte[bodyLength];
        body[0] = (byte) (bodyLength + 2);
        body[1] = (byte) type;
        PciFunction.putLittleEndian(body, 6, 4, offset);
        PciFunction.putLittleEndian(body, 10, 4, length);
        byte[] writable = new byte[bodyLength];
        if (type == NOTIFY_CFG) {
            PciFunction.putLittleEndian(body, 14, 4, notifyMultiplier);
        } else if (type == PCI_CFG) {
            writable[PCI_CFG_BAR - 2] = (byte) 0xFF;
            PciFunction.putLittleEndian(writable, PCI_CFG_OFFSET - 2, 4, 0xFFFF_FFFFL);
            PciFunction.putLittleEndian(writable, PCI_CFG_LENGTH - 2, 4, 0xFFFF_FFFFL);
        }
        return function.addCapability(VENDOR_CAPABILITY, body, writable);
    }

    /**
     * An access to PCI_CFG's data window: the driver's BAR, offset and length name a register of
     * BAR 0, which is read or written as if through the BAR (for firmware that cannot map BARs).
     * Anything else (another BAR, a length other than 1, 2 or 4, an unaligned offset, a part of
     * the window) reads as zero and writes nothing, which the specification leaves to the device.
     */
    private long throughPciCfg(int capability, long windowOffset, int size, long value, boolean write) {
        int bar = (int) function.get(capability + PCI_CFG_BAR, 1);
        long offset = function.get(capability + PCI_CFG_OFFSET, 4);
        int length = (int) function.get(capability + PCI_CFG_LENGTH, 4);
        if (bar != 0 || windowOffset != 0 || size < length || (length != 1 && length != 2 && length != 4) || offset % length != 0) {
            return 0;
        }
        for (Bar.Region region : function.bar(0).orElseThrow().regions()) {
            long at = offset - region.offset();
            if (at >= 0 && at + length <= region.size()) {
                switch (region) {
                    case Bar.Registers registers -> {
                        if (write) {
                            registers.handler().write(at, length, value);
                        } else {
                            return registers.handler().read(at, length);
                        }
                    }
                    case Bar.Doorbells doorbells -> {
                        if (write) {
                            doorbells.handler().ring(at);
                        }
                    }
                }
                return 0;
            }
        }
        return 0;
    }

    private synchronized long readCommon(long offset, int size) {
        SplitQueue queue = selectedQueue();
        return switch ((int) offset) {
            case 0x00 -> deviceFeatureSelect;
            case 0x04 -> deviceFeatureSelect < 2 ? (offeredFeatures() >>> (32 * deviceFeatureSelect)) & 0xFFFF_FFFFL : 0;
            case 0x08 -> driverFeatureSelect;
            case 0x0C -> driverFeatureSelect < 2 ? (driverFeatures >>> (32 * driverFeatureSelect)) & 0xFFFF_FFFFL : 0;
            case 0x10 -> configVector;
            case 0x12 -> queues.size();
            case 0x14 -> status;
            case 0x15 -> configGeneration;
            case 0x16 -> queueSelect;
            case 0x18 -> queue == null ? 0 : queue.size();
            case 0x1A -> queue == null ? NO_VECTOR : queueVectors[queueSelect];
            case 0x1C -> queue != null && queue.ready() ? 1 : 0;
            case 0x1E -> queue == null ? 0 : queueSelect;
            case 0x20, 0x24, 0x28, 0x2C, 0x30, 0x34 -> queue == null ? 0 : queueAddress(queue, (int) offset) >>> ((offset - 0x20) % 8 * 8);
            default -> 0;
        } & (-1L >>> (64 - 8 * size));
    }

    private synchronized void writeCommon(long offset, int size, long value) {
        SplitQueue queue = selectedQueue();
        boolean queueWritable = queue != null && !queue.ready() && (status & DRIVER_OK) == 0;
        switch ((int) offset) {
            case 0x00 -> deviceFeatureSelect = (int) value;
            case 0x08 -> driverFeatureSelect = (int) value;
            case 0x0C -> {
                if (driverFeatureSelect < 2 && (status & FEATURES_OK) == 0) {
                    int shift = 32 * driverFeatureSelect;
                    driverFeatures = (driverFeatures & ~(0xFFFF_FFFFL << shift)) | ((value & 0xFFFF_FFFFL) << shift);
                }
            }
            case 0x10 -> configVector = (int) value & 0xFFFF;
            case 0x14 -> writeStatus((int) value & 0xFF);
            case 0x16 -> queueSelect = (int) value & 0xFFFF;
            case 0x18 -> {
                if (queueWritable) {
                    queue.setSize((int) value & 0xFFFF);
                }
            }
            case 0x1A -> {
                if (queue != null) {
                    queueVectors[queueSelect] = (int) value & 0xFFFF;
                }
            }
            case 0x1C -> {
                if (queueWritable && (value & 1) != 0) {
                    enable(queue);
                }
            }
            case 0x20, 0x24, 0x28, 0x2C, 0x30, 0x34 -> {
                if (queueWritable) {
                    writeQueueAddress(queue, (int) offset, size, value);
                }
            }
            default -> { }
        }
    }

    /** The descriptor table, driver area or device area address a common configuration offset names. */
    private static long queueAddress(SplitQueue queue, int offset) {
        return switch ((offset - 0x20) / 8) {
            case 0 -> queue.descriptorTable();
            case 1 -> queue.availableRing();
            default -> queue.usedRing();
        };
    }

    /** The structure's address fields are written as two 32-bit halves or one 64-bit value. */
    private static void writeQueueAddress(SplitQueue queue, int offset, int size, long value) {
        int shift = (offset - 0x20) % 8 * 8;
        long mask = (-1L >>> (64 - 8 * size)) << shift;
        long address = (queueAddress(queue, offset) & ~mask) | ((value << shift) & mask);
        switch ((offset - 0x20) / 8) {
            case 0 -> queue.setDescriptorTable(address);
            case 1 -> queue.setAvailableRing(address);
            default -> queue.setUsedRing(address);
        }
    }

    private void enable(SplitQueue queue) {
        try {
            queue.setEventIndex((driverFeatures & (1L << RING_EVENT_IDX)) != 0);
            queue.setReady(true);
        } catch (QueueFault fault) {
            needsReset("queue " + queueSelect + ": " + fault.getMessage());
        }
    }

    private SplitQueue selectedQueue() {
        return queueSelect < queues.size() ? queues.get(queueSelect) : null;
    }

    private long offeredFeatures() {
        return device.features() | TRANSPORT_FEATURES;
    }

    private void writeStatus(int value) {
        if (value == 0) {
            reset();
            return;
        }
        int added = value & ~status;
        if ((added & FEATURES_OK) != 0) {
            boolean acceptable = (driverFeatures & ~offeredFeatures()) == 0 && (driverFeatures & (1L << VERSION_1)) != 0;
            if (!acceptable) {
                log.accept("%s: the driver asked for features 0x%x of 0x%x offered (VERSION_1 is required); FEATURES_OK refused"
                        .formatted(name, driverFeatures, offeredFeatures()));
                value &= ~FEATURES_OK;
            }
        }
        synchronized (signals) {
            status = value | (status & DEVICE_NEEDS_RESET);
        }
        if ((added & DRIVER_OK) != 0 && (status & FEATURES_OK) != 0 && (status & DEVICE_NEEDS_RESET) == 0) {
            worker = new DeviceWorker(name + "-queues", this::serve);
            device.activate(new Activation(driverFeatures, List.copyOf(queues), worker::wake));
        }
    }

    /** The driver wrote 0 to the status: back to the state after power-on, with nothing left running. */
    private void reset() {
        if (worker != null) {
            worker.stop();
            worker = null;
            device.reset();
        }
        queues.forEach(SplitQueue::reset);
        Arrays.fill(queueVectors, NO_VECTOR);
        deviceFeatureSelect = 0;
        driverFeatureSelect = 0;
        driverFeatures = 0;
        configVector = NO_VECTOR;
        queueSelect = 0;
        synchronized (signals) {
            status = 0;
            isr = 0;
            intx.set(false);
        }
    }

    private void notified(int index) {
        DeviceWorker current;
        synchronized (this) {
            current = worker;
        }
        if (current != null && index < queues.size()) {
            current.wake(index);
        }
    }

    /** On the worker: serve queue {@code index} until the driver has nothing more, then interrupt if it wants. */
    private void serve(int index) {
        SplitQueue queue = queues.get(index);
        if (!queue.ready() || (status & DEVICE_NEEDS_RESET) != 0) {
            return;
        }
        try {
            boolean more;
            do {
                queue.disableNotifications();
                while (device.canServe(index) && queue.pop(chain)) {
                    device.serve(index, queue, chain);
                }
                more = queue.enableNotifications();
            } while (more && device.canServe(index));
            if (queue.needsInterrupt() && !msix.signal(queueVectors[index])) {
                raiseIsr(QUEUE_INTERRUPT);
            }
        } catch (QueueFault fault) {
            needsReset("queue " + index + ": " + fault.getMessage());
        } catch (RuntimeException e) {
            // A device bug must not take the VMM down: the guest sees a broken device instead.
            needsReset("queue " + index + ": " + e);
        }
    }

    /** The device's configuration changed: the driver re-reads it (a disk that grew). */
    public void configChanged() {
        synchronized (signals) {
            configGeneration = (configGeneration + 1) & 0xFF;
        }
        if (!msix.signal(configVector)) {
            raiseIsr(CONFIG_INTERRUPT);
        }
    }

    /**
     * Marks the device broken until the driver resets it: from then on the worker serves nothing.
     * The device's state is dropped at that reset, when the worker is known to have stopped.
     */
    private void needsReset(String fault) {
        synchronized (signals) {
            if ((status & DEVICE_NEEDS_RESET) != 0) {
                return;
            }
            status |= DEVICE_NEEDS_RESET;
            configGeneration = (configGeneration + 1) & 0xFF;
        }
        log.accept("%s (PCI 00:%02x.0): %s; the device needs a reset".formatted(name, slot, fault));
        if (!msix.signal(configVector)) {
            raiseIsr(CONFIG_INTERRUPT);
        }
    }

    private void raiseIsr(int cause) {
        synchronized (signals) {
            isr |= cause;
            intx.set(true);
        }
    }

    private long readIsr() {
        synchronized (signals) {
            int value = isr;
            isr = 0;
            intx.set(false);
            return value;
        }
    }

    @FunctionalInterface
    private interface Reader {
        long read(long offset, int size);
    }

    @FunctionalInterface
    private interface Writer {
        void write(long offset, int size, long value);
    }

    private static TrapHandler registers(Reader reader, Writer writer) {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return reader.read(offset, size);
            }

            @Override
            public void write(long offset, int size, long value) {
                writer.write(offset, size, value);
            }
        };
    }

    /** Stops the device's worker, for the end of the guest. */
    public synchronized void close() {
        if (worker != null) {
            worker.stop();
            worker = null;
        }
    }
}
