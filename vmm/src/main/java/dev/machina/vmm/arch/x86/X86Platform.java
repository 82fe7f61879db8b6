package dev.machina.vmm.arch.x86;

import dev.machina.hypervisor.Guest;
import dev.machina.hypervisor.memory.AddressRange;
import dev.machina.hypervisor.x86.X86MemoryMap;
import dev.machina.vmm.devices.serial.Uart16550;

import java.time.Clock;
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

    private final Uart16550 console;

    private X86Platform(Uart16550 console) {
        this.console = console;
    }

    /**
     * Puts the platform devices on {@code guest}'s port bus, with COM1 transmitting to
     * {@code consoleOutput}; COM2 to COM4 transmit into nothing.
     */
    public static X86Platform install(Guest guest, PlatformControl control, IntConsumer consoleOutput) {
        Uart16550 console = null;
        for (SerialPort port : SerialPort.values()) {
            boolean isConsole = port == SerialPort.COM1;
            Uart16550 uart = new Uart16550(
                    port.irq() < 0 ? asserted -> { } : asserted -> guest.setInterruptLine(port.irq(), asserted),
                    isConsole ? consoleOutput : value -> { });
            guest.setIoTrap(new AddressRange(port.base(), Uart16550.PORTS), uart);
            if (isConsole) {
                console = uart;
            }
        }
        guest.setIoTrap(new AddressRange(CmosRtc.INDEX_PORT, CmosRtc.PORTS), new CmosRtc(Clock.systemUTC()));
        guest.setMemoryTrap(new AddressRange(X86MemoryMap.BOOT_TIMER_BASE, BootTimer.SIZE),
                new BootTimer(System::nanoTime, control::bootMarker));
        guest.setIoTrap(new AddressRange(AcpiPm1.BASE, AcpiPm1.PORTS), new AcpiPm1(control));
        guest.setIoTrap(new AddressRange(AcpiPmTimer.PORT, AcpiPmTimer.PORTS), new AcpiPmTimer(System::nanoTime));
        I8042 i8042 = new I8042(control);
        guest.setIoTrap(new AddressRange(I8042.DATA_PORT, 1), i8042.dataPort());
        guest.setIoTrap(new AddressRange(I8042.COMMAND_PORT, 1), i8042.commandPort());
        return new X86Platform(console);
    }

    /** COM1, the console UART. */
    public Uart16550 console() {
        return console;
    }
}
