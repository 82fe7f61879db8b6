package dev.machina.integration;

/** The 6.12 generic kernel of bookworm's updates, its payload zstd-compressed, through linux_guest's checks. */
class Debian612GenericKernelTest extends DebianKernelGuestTest {
    @Override
    String kernelPackage() {
        return "linux-image-6.12-amd64";
    }
}
