package dev.machina.vmm;

import dev.machina.cpu.GuestPosition;
import dev.machina.cpu.JavaVcpu;
import dev.machina.hypervisor.Backends;
import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.Hypervisor;
import dev.machina.hypervisor.HypervisorProvider;
import dev.machina.hypervisor.Vcpu;
import dev.machina.hypervisor.VcpuExit;
import dev.machina.hypervisor.x86.X86State;
import dev.machina.loader.zbi.ZbiItem;
import dev.machina.vmm.arch.x86.PlatformControl;
import dev.machina.vmm.arch.x86.X86Platform;
import dev.machina.vmm.arch.x86.acpi.AcpiConfig;
import dev.machina.vmm.arch.x86.acpi.AcpiTables;
import dev.machina.vmm.boot.linux.BootArguments;
import dev.machina.vmm.boot.linux.E820Map;
import dev.machina.vmm.boot.linux.LinuxBoot;
import dev.machina.vmm.boot.zircon.ZirconBoot;
import dev.machina.vmm.config.ByteSize;
import dev.machina.vmm.config.ConfigException;
import dev.machina.vmm.config.ConfigKey;
import dev.machina.vmm.config.GuestConfig;
import dev.machina.vmm.config.VirtioDevice;
import dev.machina.vmm.devices.ConsoleInput;
import dev.machina.vmm.devices.DeviceEntry;
import dev.machina.vmm.devices.DeviceManager;
import dev.machina.vmm.devices.serial.ConsoleWriter;
import dev.machina.vmm.devices.serial.Uart16550;

import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * One guest machine: the backend, the guest with its platform devices and kernel, its vCPUs, and
 * how it ended. {@link #run} starts it and waits; the first way of ending wins (a power-off
 * request, a reset, a vCPU's exit, {@link #stop()}), and then every vCPU is stopped.
 */
public final class VirtualMachine implements AutoCloseable {
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration EXIT_POLL = Duration.ofDays(1);
    /** How long a pause waits for every vCPU to leave the guest; the Java CPU takes a batch, KVM a kick. */
    private static final Duration PAUSE_TIMEOUT = Duration.ofSeconds(5);

    private final Hypervisor hypervisor;
    private final Guest guest;
    private final ConsoleWriter consoleWriter;
    private final X86Platform platform;
    private final DeviceManager devices;
    /** The consoles typed input can go to, the serial port first, and which one it goes to now. */
    private final List<Input> inputs;
    private volatile int input;

    private record Input(String name, ConsoleInput console) {
    }
    private final CompletableFuture<GuestOutcome> outcome = new CompletableFuture<>();
    private final AtomicReference<Duration> bootTime = new AtomicReference<>();
    private volatile boolean paused;

    private VirtualMachine(Hypervisor hypervisor, Guest guest, GuestConfig config, OutputStream consoleOutput,
                           Consumer<String> messages) {
        this.hypervisor = hypervisor;
        this.guest = guest;
        this.consoleWriter = new ConsoleWriter(consoleOutput, "console-output");
        this.platform = X86Platform.install(guest, new PlatformControl() {
            @Override
            public void powerOff() {
                end(new GuestOutcome.PoweredOff());
            }

            @Override
            public void reset() {
                end(new GuestOutcome.Rebooted());
            }

            @Override
            public void bootMarker(Duration sinceLaunch) {
                bootTime.compareAndSet(null, sinceLaunch);
                messages.accept(String.format(Locale.ROOT, "machina: boot marker reached %.3f s after launch%s",
                        sinceLaunch.toNanos() / 1e9, instructionsRetired().stream()
                                .mapToObj(count -> String.format(Locale.ROOT, ", %,d guest instructions", count))
                                .findFirst().orElse("")));
            }
        }, consoleWriter);
        Uart16550 console = platform.console();
        this.devices = DeviceManager.install(guest, config, consoleWriter, messages);
        this.inputs = new ArrayList<>(List.of(new Input("the serial console (ttyS0)", console)));
        devices.virtioConsole().ifPresent(hvc -> inputs.add(new Input("the virtio console (hvc0)", hvc)));
        try {
            boot(guest, config, AcpiConfig.defaults(config.cpus()).withIsaDevices(platform.acpiDevices()).withPci(devices.acpi()),
                    messages);
        } catch (RuntimeException e) {
            devices.close();
            throw e;
        }
    }

    /**
     * Loads the kernel with ACPI tables that describe the machine as {@code acpi} says, and creates
     * the vCPUs; a Zircon boot tells {@code messages} what it put in the data ZBI.
     */
    private static void boot(Guest guest, GuestConfig config, AcpiConfig acpi, Consumer<String> messages) {
        AcpiTables tables = AcpiTables.write(guest.memory(), acpi);
        BootArguments arguments = new BootArguments(config.cmdline(), config.ramdisk(),
                OptionalLong.of(tables.rsdp()), E820Map.standard(guest.memory().regions()));
        X86State boot = switch (config.kernel()) {
            case GuestConfig.Kernel.Linux linux -> LinuxBoot.load(guest.memory(), linux.path(), arguments);
            case GuestConfig.Kernel.Zircon zircon -> {
                // The console's UART; a framebuffer item joins it once there is a GPU.
                X86Platform.SerialPort console = X86Platform.SerialPort.COM1;
                ZirconBoot.Booted booted = ZirconBoot.load(guest.memory(), zircon.path(), arguments,
                        List.of(ZbiItem.i8250Uart(console.base(), console.irq())));
                messages.accept("zircon: data ZBI at 0x%x (%,d bytes); the VMM passed:"
                        .formatted(booted.dataZbi().start(), booted.dataZbi().size()));
                booted.added().forEach(item -> messages.accept("zircon:   " + item.describe()));
                yield booted.state();
            }
        };
        for (int id = 0; id < config.cpus(); id++) {
            guest.createVcpu(id);
        }
        guest.vcpus().getFirst().writeState(boot);
    }

    /**
     * Builds the machine {@code config} describes on the backend it names, printing which backend
     * was chosen and why to {@code messages}. The console UART transmits to {@code consoleOutput}
     * through a {@link ConsoleWriter}, written out by the time {@link #run} returns. Nothing runs
     * until {@link #run}.
     */
    public static VirtualMachine create(GuestConfig config, Backends backends, OutputStream consoleOutput, Consumer<String> messages) {
        Backends.Choice choice = backends.choose(config.backend());
        messages.accept(choice.explanation());
        requireMemoryWithinLimit(config, choice.provider());
        warnAboutUnsupported(config, messages);
        Hypervisor hypervisor = choice.provider().open();
        Guest guest = null;
        try {
            guest = hypervisor.createGuest(config.memoryBytes());
            VirtualMachine machine = new VirtualMachine(hypervisor, guest, config, consoleOutput, messages);
            List<DeviceEntry> pci = machine.devices.inventory();
            for (DeviceEntry device : pci.subList(1, pci.size())) {
                messages.accept("device: %s at %s: %s".formatted(device.name(), device.location(), device.description()));
            }
            return machine;
        } catch (RuntimeException e) {
            if (guest != null) {
                guest.close();
            }
            hypervisor.close();
            throw e;
        }
    }

    /** Refuses RAM beyond what the backend can give, before it maps any: one line, not a failure inside it. */
    private static void requireMemoryWithinLimit(GuestConfig config, HypervisorProvider backend) {
        HypervisorProvider.MemoryLimit limit = backend.memoryLimit();
        if (config.memoryBytes() > limit.bytes()) {
            throw config.error(ConfigKey.MEMORY, "%s is more than the %s backend can give a guest here: at most %s (%s)"
                    .formatted(ByteSize.format(config.memoryBytes()), backend.name(), ByteSize.format(limit.bytes()),
                            limit.reason()));
        }
    }

    private static void warnAboutUnsupported(GuestConfig config, Consumer<String> messages) {
        Set<VirtioDevice> missing = EnumSet.allOf(VirtioDevice.class);
        missing.removeAll(DeviceManager.SUPPORTED);
        missing.retainAll(config.virtioDevices());
        if (!missing.isEmpty()) {
            messages.accept("note: not given to the guest yet: " + missing.stream().map(VirtioDevice::description)
                    .collect(Collectors.joining(", ")));
        }
    }

    /**
     * Starts the guest and waits until it ends. What is typed reaches it through {@link #type}.
     */
    public GuestOutcome run() throws InterruptedException {
        try {
            for (Vcpu vcpu : guest.vcpus()) {
                Thread.ofVirtual().name("watch-vcpu-" + vcpu.id()).start(() -> watch(vcpu));
                vcpu.start();
            }
            return outcome.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            stopVcpus();
            for (Vcpu vcpu : guest.vcpus()) {
                vcpu.awaitExit(STOP_TIMEOUT);
            }
            consoleWriter.close();
        }
    }

    /**
     * Hands the guest a byte typed by the user, on the console typing goes to now (the serial
     * port, or hvc0 after {@link #switchConsoleInput}), waiting while that console's buffer is
     * full. Called by whoever reads the user's typing, in order with its switches.
     */
    public void type(int value) throws InterruptedException {
        inputs.get(input).console().receive(value);
    }

    /** The guest instructions all vCPUs have executed, where the backend counts them. */
    public OptionalLong instructionsRetired() {
        long total = 0;
        for (Vcpu vcpu : guest.vcpus()) {
            OptionalLong count = vcpu.instructionsRetired();
            if (count.isEmpty()) {
                return OptionalLong.empty();
            }
            total += count.getAsLong();
        }
        return OptionalLong.of(total);
    }

    /**
     * Where each vCPU is, read without stopping it, for a sampling profiler
     * ({@link JavaVcpu#position()}): only the Java CPU's registers can be read while it runs.
     *
     * @throws ConfigException if the guest runs on another backend
     */
    public List<Supplier<GuestPosition>> positions() {
        List<Supplier<GuestPosition>> positions = new ArrayList<>();
        for (Vcpu vcpu : guest.vcpus()) {
            if (!(vcpu instanceof JavaVcpu javaVcpu)) {
                throw new ConfigException("--profile samples the Java CPU; the " + guest.backend()
                        + " backend runs the guest where its registers cannot be read while it runs (use --backend=java)");
            }
            positions.add(javaVcpu::position);
        }
        return positions;
    }

    /**
     * Holds every vCPU outside the guest, and returns once all are held (or have ended): the
     * guest's work stops, its devices' workers finish what they were given.
     *
     * @throws IllegalStateException if a vCPU is not held within {@link #PAUSE_TIMEOUT}
     */
    public synchronized void pause() throws InterruptedException {
        for (Vcpu vcpu : guest.vcpus()) {
            vcpu.pause();
        }
        for (Vcpu vcpu : guest.vcpus()) {
            if (!vcpu.awaitPaused(PAUSE_TIMEOUT)) {
                throw new IllegalStateException("vCPU " + vcpu.id() + " did not pause within " + PAUSE_TIMEOUT.toSeconds() + " s");
            }
        }
        paused = true;
    }

    /** Lets every vCPU run again after {@link #pause()}. */
    public synchronized void resume() {
        paused = false;
        for (Vcpu vcpu : guest.vcpus()) {
            vcpu.resume();
        }
    }

    /** Whether {@link #pause()} holds the vCPUs. */
    public boolean paused() {
        return paused;
    }

    /** The backend the guest runs on ({@code java}, {@code kvm}). */
    public String backend() {
        return guest.backend();
    }

    public int vcpuCount() {
        return guest.vcpus().size();
    }

    /** The guest's RAM in bytes. */
    public long memoryBytes() {
        return guest.memory().size();
    }

    /** The counters of every vCPU and disk as they are now; readable while the guest runs. */
    public MachineStatistics statistics() {
        List<MachineStatistics.VcpuStatistics> vcpus = new ArrayList<>();
        for (Vcpu vcpu : guest.vcpus()) {
            OptionalLong retired = vcpu.instructionsRetired();
            vcpus.add(new MachineStatistics.VcpuStatistics(vcpu.id(), vcpu.counters().entries(),
                    vcpu.counters().byReason(), retired.isPresent() ? retired.getAsLong() : null));
        }
        List<MachineStatistics.DiskStatistics> disks = new ArrayList<>();
        devices.blockStatistics().forEach((name, disk) -> disks.add(new MachineStatistics.DiskStatistics(name,
                disk.reads(), disk.bytesRead(), disk.writes(), disk.bytesWritten(), disk.flushes(), disk.failures())));
        return new MachineStatistics(vcpus, disks);
    }

    /**
     * A copy of {@code length} bytes of guest-physical memory at {@code address}, read while the
     * guest runs (a racy snapshot of what it is writing).
     *
     * @throws dev.machina.hypervisor.memory.GuestMemoryException if any byte of the range is not RAM
     */
    public byte[] readMemory(long address, int length) {
        byte[] bytes = new byte[length];
        guest.memory().read(address, bytes, 0, length);
        return bytes;
    }

    /** How long after launch the guest first wrote the boot-time marker, if it has. */
    public Optional<Duration> bootTime() {
        return Optional.ofNullable(bootTime.get());
    }

    /**
     * Presses the ACPI power button: a guest that handles it (systemd's logind, acpid) powers off,
     * and {@link #run} returns {@link GuestOutcome.PoweredOff}; one that does not runs on.
     */
    public void pressPowerButton() {
        platform.pm1().pressPowerButton();
    }

    /** Ends the guest as the user asked; {@link #run} returns {@link GuestOutcome.Stopped}. */
    public void stop() {
        end(new GuestOutcome.Stopped());
    }

    private void end(GuestOutcome how) {
        if (outcome.complete(how)) {
            stopVcpus();
        }
    }

    private void stopVcpus() {
        for (Vcpu vcpu : guest.vcpus()) {
            vcpu.stop();
        }
    }

    private void watch(Vcpu vcpu) {
        try {
            VcpuExit exit;
            do {
                exit = vcpu.awaitExit(EXIT_POLL).orElse(null);
            } while (exit == null);
            end(outcomeOf(vcpu, exit));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static GuestOutcome outcomeOf(Vcpu vcpu, VcpuExit exit) {
        return switch (exit) {
            case VcpuExit.Stopped() -> new GuestOutcome.Stopped();
            case VcpuExit.Shutdown(String detail) -> new GuestOutcome.Shutdown("vCPU " + vcpu.id() + ": " + detail);
            case VcpuExit.SystemEvent(VcpuExit.SystemEvent.Kind kind) -> switch (kind) {
                case SHUTDOWN -> new GuestOutcome.PoweredOff();
                case RESET -> new GuestOutcome.Rebooted();
                case CRASH -> new GuestOutcome.Failed("vCPU " + vcpu.id() + " reported a guest crash");
            };
            case VcpuExit.Failed(String reason) -> new GuestOutcome.Failed(reason);
        };
    }

    /**
     * Sends what is typed from now on to the guest's next console (the serial port, then hvc0 where
     * the guest has a virtio console), and returns that console's name.
     */
    public String switchConsoleInput() {
        int next = (input + 1) % inputs.size();
        input = next;
        return inputs.get(next).name();
    }

    /** Every device of the machine the VMM provides: the platform's, then the PCI bus's (the vCPUs' chipset is the backend's). */
    public List<DeviceEntry> devices() {
        List<DeviceEntry> all = new ArrayList<>(platform.devices());
        all.addAll(devices.inventory());
        return all;
    }

    @Override
    public void close() {
        if (devices != null) {
            devices.close();
        }
        consoleWriter.close();
        guest.close();
        hypervisor.close();
    }
}
