package dev.machina.vmm.config;

/** The virtio devices a guest can be given by switch. */
public enum VirtioDevice {
    BALLOON("memory balloon"),
    CONSOLE("virtio console"),
    GPU("virtio GPU"),
    NET("network device"),
    RNG("random number generator"),
    VSOCK("vsock socket device");

    private final String description;

    VirtioDevice(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
