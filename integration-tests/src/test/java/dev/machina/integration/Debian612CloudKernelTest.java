package dev.machina.integration;

/** The 6.12 cloud kernel of bookworm's updates, its payload zstd-compressed, through linux_guest's checks. */
class Debian612CloudKernelTest extends DebianKernelGuestTest {
    @Override
    String kernelPackage() {
        return "linux-image-6.12-cloud-amd64";
    }
}
