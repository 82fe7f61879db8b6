package dev.machina.vmm.devices.pci;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MsiXTest {
    private static final int VECTORS = 3;
    private final PciFunction function = new PciFunction("test", new PciIdentity(0x1AF4, 0x1042, 0x1AF4, 0x1042, 1, 0x010000));
    private final List<String> messages = new ArrayList<>();
    private final MsiX msix = new MsiX(function, VECTORS, 0, 0x4000, 0x6000, (address, data) -> messages.add("%x:%x".formatted(address, data)));
    private final int capability = (int) function.get(PciFunction.CAPABILITIES_POINTER, 1);

    @Test
    void theCapabilityDescribesTheTableAndPba() {
        assertThat(function.read(capability, 1)).isEqualTo(MsiX.CAPABILITY_ID);
        assertThat(function.read(capability + 2, 2)).as("table size - 1").isEqualTo(VECTORS - 1);
        assertThat(function.read(capability + 4, 4)).as("table offset and BIR").isEqualTo(0x4000);
        assertThat(function.read(capability + 8, 4)).as("PBA offset and BIR").isEqualTo(0x6000);
        assertThat(function.read(PciFunction.STATUS, 2) & PciFunction.CAPABILITIES_LIST).isNotZero();
    }

    @Test
    void disabledMsiXRaisesNothingAndSaysSo() {
        program(1, 0xFEE0_0000L, 0x41);
        assertThat(msix.signal(1)).isFalse();
        assertThat(messages).isEmpty();
    }

    @Test
    void anUnmaskedVectorDeliversItsMessage() {
        program(1, 0xFEE0_1000L, 0x42);
        enable(0);
        assertThat(msix.signal(1)).isTrue();
        assertThat(messages).containsExactly("fee01000:42");
    }

    @Test
    void aMaskedVectorIsPendingUntilUnmasked() {
        program(2, 0xFEE0_0000L, 0x43);
        msix.table().write(2 * 16 + 12, 4, 1);
        enable(0);
        msix.signal(2);
        assertThat(messages).isEmpty();
        assertThat(msix.pendingBits().read(0, 8)).isEqualTo(1L << 2);
        msix.table().write(2 * 16 + 12, 4, 0);
        assertThat(messages).containsExactly("fee00000:43");
        assertThat(msix.pendingBits().read(0, 8)).isZero();
    }

    @Test
    void theFunctionMaskHoldsEveryVectorBack() {
        program(0, 0xFEE0_0000L, 0x44);
        enable(1 << 14);
        msix.signal(0);
        assertThat(messages).isEmpty();
        enable(0);
        assertThat(messages).containsExactly("fee00000:44");
    }

    @Test
    void vectorsStartMaskedAndTheTableReadsBack() {
        assertThat(msix.table().read(12, 4)).isEqualTo(1);
        program(1, 0x1_FEE0_2000L, 0x45);
        assertThat(msix.table().read(16, 8)).isEqualTo(0x1_FEE0_2000L);
        assertThat(msix.table().read(24, 4)).isEqualTo(0x45);
    }

    private void program(int vector, long address, int data) {
        msix.table().write(vector * 16L, 4, address & 0xFFFF_FFFFL);
        msix.table().write(vector * 16L + 4, 4, address >>> 32);
        msix.table().write(vector * 16L + 8, 4, data);
        msix.table().write(vector * 16L + 12, 4, 0);
    }

    private void enable(int extraBits) {
        function.write(capability + 2, 2, (1 << 15) | extraBits);
    }
}
