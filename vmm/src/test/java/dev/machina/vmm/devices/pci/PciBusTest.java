package dev.machina.vmm.devices.pci;

import dev.machina.cpu.JavaHypervisorProvider;
import dev.machina.hypervisor.TrapHandler;
import dev.machina.hypervisor.memory.AddressRange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PciBusTest {
    private static final long BAR_ADDRESS = 0xC000_0000L;
    private static final long BAR_SIZE = 0x4000;
    private static final TrapHandler NOTHING = new TrapHandler() {
        @Override
        public long read(long offset, int size) {
            return 0;
        }

        @Override
        public void write(long offset, int size, long value) {
        }
    };

    private final RecordingGuest guest = new RecordingGuest(new JavaHypervisorProvider().open().createGuest(16 << 20));
    private final List<String> log = new ArrayList<>();
    private final PciBus bus = new PciBus(guest, log::add);
    private final TrapHandler ports = bus.configPorts();
    private final TrapHandler ecam = bus.ecam();

    @AfterEach
    void close() {
        guest.close();
    }

    @Test
    void theHostBridgeAnswersInSlotZeroAndEmptySlotsReadAllOnes() {
        assertThat(configRead(0, 0x00, 4)).isEqualTo(0x0008_1B36L);
        assertThat(configRead(0, 0x0A, 2)).as("class: host bridge").isEqualTo(0x0600);
        assertThat(configRead(5, 0x00, 4)).isEqualTo(0xFFFF_FFFFL);
        assertThat(ecam.read(5L << 15, 2)).isEqualTo(0xFFFF);
        assertThat(ecam.read(0, 4)).isEqualTo(0x0008_1B36L);
    }

    @Test
    void theAddressLatchNeedsItsEnableBitAndBusZero() {
        ports.write(0, 4, 0x0000_0000L);
        assertThat(ports.read(4, 4)).as("enable bit clear").isEqualTo(0xFFFF_FFFFL);
        ports.write(0, 4, 0x8001_0000L);
        assertThat(ports.read(4, 4)).as("bus 1 does not exist").isEqualTo(0xFFFF_FFFFL);
        assertThat(ports.read(0, 4)).as("the latch reads back").isEqualTo(0x8001_0000L);
    }

    @Test
    void barsSizeByWritingOnesAndReadOnlyBitsStay() {
        int slot = bus.add(function(BAR_ADDRESS));
        assertThat(configRead(slot, 0x10, 4)).isEqualTo(BAR_ADDRESS);
        configWrite(slot, 0x10, 4, 0xFFFF_FFFFL);
        assertThat(configRead(slot, 0x10, 4)).isEqualTo(-BAR_SIZE & 0xFFFF_FFFFL);
        configWrite(slot, 0x00, 4, 0);
        assertThat(configRead(slot, 0x00, 4)).as("ids are read-only").isEqualTo(0x1234_5678L);
    }

    @Test
    void aBarIsTrappedOnlyWhileMemoryDecodingIsOnAndMovesWithTheGuest() {
        int slot = bus.add(function(BAR_ADDRESS));
        AddressRange first = new AddressRange(BAR_ADDRESS, BAR_SIZE);
        guest.setMemoryTrap(first, NOTHING).remove();   // free while decoding is off

        configWrite(slot, PciFunction.COMMAND, 2, PciFunction.MEMORY_SPACE);
        assertThatThrownBy(() -> guest.setMemoryTrap(first, NOTHING)).isInstanceOf(IllegalArgumentException.class);

        long moved = BAR_ADDRESS + 0x10_0000;
        configWrite(slot, 0x10, 4, moved);
        guest.setMemoryTrap(first, NOTHING).remove();
        assertThatThrownBy(() -> guest.setMemoryTrap(new AddressRange(moved, BAR_SIZE), NOTHING))
                .isInstanceOf(IllegalArgumentException.class);

        configWrite(slot, PciFunction.COMMAND, 2, 0);
        guest.setMemoryTrap(new AddressRange(moved, BAR_SIZE), NOTHING).remove();
    }

    @Test
    void aBarPlacedOverRamStaysUnmappedWithALogLine() {
        int slot = bus.add(function(BAR_ADDRESS));
        configWrite(slot, 0x10, 4, 0x10_0000);
        configWrite(slot, PciFunction.COMMAND, 2, PciFunction.MEMORY_SPACE);
        assertThat(log).singleElement().asString().contains("BAR 0 placed at 0x100000 cannot be mapped");
    }

    @Test
    void intxLinesSharingAnInputStayAssertedWhileAnyAsserts() {
        int first = bus.add(function(BAR_ADDRESS));
        for (int i = 0; i < PciBus.INTX_GSIS - 1; i++) {
            bus.add(function(BAR_ADDRESS + (i + 1) * 0x10_0000L));
        }
        int second = bus.add(function(BAR_ADDRESS + 0x100_0000L));
        int gsi = PciBus.intxGsi(first, 0);
        assertThat(PciBus.intxGsi(second, 0)).isEqualTo(gsi);

        bus.intx(first).set(true);
        bus.intx(second).set(true);
        bus.intx(first).set(false);
        assertThat(guest.interrupts).containsExactly(gsi + "=1");
        assertThat(configRead(first, PciFunction.STATUS, 2) & PciFunction.INTERRUPT_STATUS).isZero();
        assertThat(configRead(second, PciFunction.STATUS, 2) & PciFunction.INTERRUPT_STATUS).isNotZero();
        bus.intx(second).set(false);
        assertThat(guest.interrupts).containsExactly(gsi + "=1", gsi + "=0");
    }

    @Test
    void intxDisabledByTheGuestKeepsTheLineLow() {
        int slot = bus.add(function(BAR_ADDRESS));
        configWrite(slot, PciFunction.COMMAND, 2, PciFunction.INTX_DISABLE);
        bus.intx(slot).set(true);
        assertThat(guest.interrupts).isEmpty();
        assertThat(configRead(slot, PciFunction.STATUS, 2) & PciFunction.INTERRUPT_STATUS).isNotZero();
    }

    private static PciFunction function(long barAddress) {
        PciFunction function = new PciFunction("test", new PciIdentity(0x5678, 0x1234, 0x5678, 1, 0, 0xFF0000));
        function.setBar(0, new Bar(BAR_SIZE, false, List.of(new Bar.Registers(0, BAR_SIZE, NOTHING))), barAddress);
        return function;
    }

    private long configRead(int slot, int register, int size) {
        ports.write(0, 4, 0x8000_0000L | (slot << 11) | (register & 0xFC));
        return ports.read(4 + (register & 3), size);
    }

    private void configWrite(int slot, int register, int size, long value) {
        ports.write(0, 4, 0x8000_0000L | (slot << 11) | (register & 0xFC));
        ports.write(4 + (register & 3), size, value);
    }
}
