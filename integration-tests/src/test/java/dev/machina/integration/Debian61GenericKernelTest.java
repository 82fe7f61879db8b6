package dev.machina.integration;

/** Debian 12's generic 6.1 kernel, its payload xz-compressed, through linux_guest's checks. */
class Debian61GenericKernelTest extends DebianKernelGuestTest {
    @Override
    String kernelPackage() {
        return "linux-image-amd64";
    }
}
