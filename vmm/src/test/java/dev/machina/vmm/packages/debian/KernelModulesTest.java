package dev.machina.vmm.packages.debian;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Load orders from the dependencies modules declare (Debian 6.1.0-57's virtio modules among them). */
class KernelModulesTest {
    private final KernelModules modules = new KernelModules("kernel/drivers/char/virtio_console.ko\n");

    KernelModulesTest() {
        modules.add("kernel/drivers/virtio/virtio_ring.ko", List.of());
        modules.add("kernel/drivers/virtio/virtio.ko", List.of("virtio_ring"));
        modules.add("kernel/drivers/virtio/virtio_pci_modern_dev.ko", List.of());
        modules.add("kernel/drivers/virtio/virtio_pci_legacy_dev.ko", List.of());
        modules.add("kernel/drivers/virtio/virtio_pci.ko", List.of("virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio", "virtio_ring"));
        modules.add("kernel/drivers/block/virtio_blk.ko", List.of("virtio", "virtio_ring"));
        modules.add("kernel/drivers/net/virtio_net.ko", List.of("net_failover", "virtio", "virtio_ring"));
        modules.add("kernel/drivers/net/net_failover.ko", List.of("failover"));
        modules.add("kernel/drivers/char/hw_random/virtio-rng.ko", List.of("virtio", "virtio_ring"));
    }

    @Test
    void everyModuleComesAfterWhatItNeedsWhateverTheOrderAsked() {
        assertThat(modules.loadOrder(List.of("virtio_blk", "virtio", "virtio_ring", "virtio_pci"))).containsExactly(
                "kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
                "kernel/drivers/block/virtio_blk.ko",
                "kernel/drivers/virtio/virtio_pci_legacy_dev.ko", "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
                "kernel/drivers/virtio/virtio_pci.ko");
    }

    @Test
    void builtInModulesNeedNoFileAndDashesAreUnderscores() {
        assertThat(modules.loadOrder(List.of("virtio_console", "virtio-rng"))).containsExactly(
                "kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
                "kernel/drivers/char/hw_random/virtio-rng.ko");
        assertThat(modules.unknown(List.of("virtio_console", "virtio_rng"))).as("net_failover needs failover").containsExactly("failover");
    }

    @Test
    void unknownModulesAreTheWantedAndNeededOnesNotFound() {
        assertThat(modules.unknown(List.of("virtio_blk", "virtio_gpu"))).containsExactly("virtio_gpu", "failover");
    }

    @Test
    void dependenciesAreReadFromTheModinfoSection() {
        byte[] module = moduleWithModinfo("license=GPL\0depends=virtio,virtio_ring\0retpoline=Y\0name=virtio_blk\0vermagic=6.1.0-57-cloud-amd64 SMP\0");
        assertThat(KernelModules.dependencies(module)).containsExactly("virtio", "virtio_ring");
        assertThat(KernelModules.dependencies(moduleWithModinfo("depends=\0name=virtio_ring\0"))).isEmpty();
        assertThat(KernelModules.dependencies(new byte[] {(byte) 0xFD, '7', 'z', 'X', 'Z', 0})).as("an xz-compressed module").isEmpty();
    }

    /** A relocatable ELF64 file with a null section, .modinfo and the section-name table, as a module's. */
    private static byte[] moduleWithModinfo(String modinfo) {
        byte[] info = modinfo.getBytes(StandardCharsets.UTF_8);
        byte[] names = "\0.modinfo\0.shstrtab\0".getBytes(StandardCharsets.US_ASCII);
        int infoOffset = 64;
        int namesOffset = infoOffset + info.length;
        int sectionTable = (namesOffset + names.length + 7) & ~7;
        ByteBuffer file = ByteBuffer.allocate(sectionTable + 3 * 64).order(ByteOrder.LITTLE_ENDIAN);
        file.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        file.putShort(16, (short) 1).putShort(18, (short) 62).putInt(20, 1);
        file.putLong(40, sectionTable).putShort(52, (short) 64).putShort(58, (short) 64).putShort(60, (short) 3).putShort(62, (short) 2);
        file.put(infoOffset, info).put(namesOffset, names);
        section(file, sectionTable + 64, 1, infoOffset, info.length);
        section(file, sectionTable + 128, 10, namesOffset, names.length);
        return file.array();
    }

    private static void section(ByteBuffer file, int header, int name, int offset, int size) {
        file.putInt(header, name).putInt(header + 4, 1).putLong(header + 24, offset).putLong(header + 32, size);
    }
}
