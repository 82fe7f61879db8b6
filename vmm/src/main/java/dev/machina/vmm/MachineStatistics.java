package dev.machina.vmm;

import dev.machina.hypervisor.ExitReason;

import java.util.List;
import java.util.Map;

/**
 * What a running machine has done so far, read while it runs: each vCPU's entries and exits by
 * reason and, where the backend counts them, instructions retired; each disk's requests.
 */
public record MachineStatistics(List<VcpuStatistics> vcpus, List<DiskStatistics> disks) {

    /**
     * @param instructionsRetired null where the backend does not count them (KVM)
     */
    public record VcpuStatistics(int id, long entries, Map<ExitReason, Long> exits, Long instructionsRetired) {
    }

    public record DiskStatistics(String name, long reads, long bytesRead, long writes, long bytesWritten,
                                 long flushes, long failures) {
    }
}
