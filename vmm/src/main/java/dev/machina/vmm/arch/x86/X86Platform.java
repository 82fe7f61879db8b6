package dev.machina.vmm.arch.x86;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.vmm.arch.x86.acpi.AcpiConfig;
import dev.machina.vmm.arch.x86.acpi.IsaDevice;
import dev.machina.vmm.devices.DeviceEntry;
import dev.machina.vmm.devices.serial.Uart16550;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The PC platform devices: on the port bus four 16550A UARTs (COM1 carries the console), the CMOS
 * real-time clock, the ACPI PM1 block and the i8042's reset line; in memory the boot-time marker's
 * page. Every other port reads as all ones and ignores writes, as an empty ISA bus does (Linux's
 * port 0x80 delays and probes of absent devices land there).
 */
public final class X86Platform {
    /** The standard PC serial ports. COM3 and COM4 share COM1's and COM2's lines, so they get none: polled only. */
    public enum SerialPort {
        COM1(0x3F8, 4), COM2(0x2F8, 3), COM3(0x3E8, -1), COM4(0x2E8, -1);

        private final int base;
        private final int irq;

        SerialPort(int base, int irq) {
            this.base = base;
            this.irq = irq;
        }

        public int base() {
            return base;
        }

        /** The ISA interrupt line, or -1 for none. */
        public int irq() {
            return irq;
        }
    }

    private final Guest guest;
    private final List<DeviceEntry> devices = new ArrayList<>();
    private Uart16550 console;
    private AcpiPm1 pm1;

    private X86Platform(Guest guest) {
        this.guest = guest;
    }

    /**
     * Puts the platform devices on {@code guest}'s port bus, with COM1 transmitting to
     * {@code consoleOutput}; COM2 to COM4 transmit into nothing.
     */
    public static X86Platform install(Guest guest, PlatformControl control, IntConsumer consoleOutput) {
        X86Platform platform = new X86Platform(guest);
        for (SerialPort port : SerialPort.values()) {
            boolean isConsole = port == SerialPort.COM1;
            Uart16550 uart = new Uart16550(
                    port.irq() < 0 ? asserted -> { } : asserted -> guest.setInterruptLine(port.irq(), asserted),
                    isConsole ? consoleOutput : value -> { });
            platform.ports(port.name(), port.base(), Uart16550.PORTS, uart, "16550A UART"
                    + (port.irq() < 0 ? ", polled" : ", IRQ " + port.irq()) + (isConsole ? ", the console" : ""));
            if (isConsole) {
                platform.console = uart;
            }
        }
        platform.ports("RTC", CmosRtc.INDEX_PORT, CmosRtc.PORTS, new CmosRtc(Clock.systemUTC()), "CMOS real-time clock");
        guest.setMemoryTrap(new AddressRange(X86MemoryMap.BOOT_TIMER_BASE, BootTimer.SIZE),
                new BootTimer(System::nanoTime, control::bootMarker));
        platform.devices.add(new DeviceEntry("boot marker", "MMIO " + new AddressRange(X86MemoryMap.BOOT_TIMER_BASE, BootTimer.SIZE),
                "logs the time of the guest's first write"));
        platform.pm1 = new AcpiPm1(control, asserted -> guest.setInterruptLine(AcpiConfig.DEFAULT_SCI_IRQ, asserted));
        platform.ports("PM1", AcpiPm1.BASE, AcpiPm1.PORTS, platform.pm1,
                "ACPI PM1a event and control blocks (power-off, power button), SCI on IRQ " + AcpiConfig.DEFAULT_SCI_IRQ);
        platform.ports("PM timer", AcpiPmTimer.PORT, AcpiPmTimer.PORTS, new AcpiPmTimer(System::nanoTime), "ACPI PM timer");
        I8042 i8042 = new I8042(control);
        guest.setIoTrap(new AddressRange(I8042.DATA_PORT, 1), i8042.dataPort());
        guest.setIoTrap(new AddressRange(I8042.COMMAND_PORT, 1), i8042.commandPort());
        platform.devices.add(new DeviceEntry("i8042", "ports 0x%x and 0x%x".formatted(I8042.DATA_PORT, I8042.COMMAND_PORT),
                "keyboard controller (self-test and the reset line)"));
        return platform;
    }

    private void ports(String name, int base, int count, TrapHandler handler, String description) {
        AddressRange range = new AddressRange(base, count);
        guest.setIoTrap(range, handler);
        devices.add(new DeviceEntry(name, "ports " + range, description));
    }

    /**
     * The devices the DSDT describes: the console's UART, which Linux then finds through ACPI PnP
     * whatever its legacy probing does. The other UARTs are left to that probing, as on the PCs
     * whose firmware lists only the ports it set up.
     */
    public List<IsaDevice> acpiDevices() {
        SerialPort com1 = SerialPort.COM1;
        return List.of(new IsaDevice(com1.name(), "PNP0501", 1, com1.base(), Uart16550.PORTS, com1.irq()));
    }

    /** The platform devices, in the order they were installed. */
    public List<DeviceEntry> devices() {
        return List.copyOf(devices);
    }

    /** The ACPI PM1 blocks, whose power button a user may press. */
    public AcpiPm1 pm1() {
        return pm1;
    }

    /** COM1, the console UART. */
    public Uart16550 console() {
        return console;
    }
}
