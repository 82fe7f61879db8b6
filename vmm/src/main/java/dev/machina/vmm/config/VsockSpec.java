package dev.machina.vmm.config;

import java.nio.file.Path;

/**
 * virtio-vsock's host side: the guest's context id, and the Unix socket host programs connect to
 * (Firecracker's hybrid protocol), whose name with {@code _PORT} appended is where the guest's
 * connections to host port PORT go.
 */
public record VsockSpec(long cid, Path socket) {
    public static final long DEFAULT_CID = 3;
    /** Context ids 0 to 2 are the hypervisor's, the local one and the host's; 0xFFFFFFFF is "any". */
    static final long FIRST_GUEST_CID = 3;

    /** The default socket: one per VMM process in the temporary directory, so that guests side by side never share one. */
    static Path defaultSocket() {
        return Path.of(System.getProperty("java.io.tmpdir"), "machina-vsock-" + ProcessHandle.current().pid() + ".sock");
    }
}
