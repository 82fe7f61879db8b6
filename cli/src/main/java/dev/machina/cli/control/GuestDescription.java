package dev.machina.cli.control;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code GET /}: Firecracker's instance information ({@code id}, {@code state}, {@code vmm_version},
 * {@code app_name}) followed by what Machina adds for {@code guest list}.
 *
 * @param state {@code Running} or {@code Paused}, as Firecracker says it
 * @param startedMillis when the VMM launched the guest, in milliseconds since the epoch
 * @param bootMarkerMillis how long after launch the guest wrote the boot-time marker; null until it has
 */
public record GuestDescription(
        String id,
        String state,
        @JsonProperty("vmm_version") String vmmVersion,
        @JsonProperty("app_name") String appName,
        String name,
        @JsonProperty("package") String guestPackage,
        String backend,
        int vcpus,
        @JsonProperty("memory_bytes") long memoryBytes,
        @JsonProperty("started_ms") long startedMillis,
        @JsonProperty("boot_marker_ms") Long bootMarkerMillis,
        long pid) {

    public static final String RUNNING = "Running";
    public static final String PAUSED = "Paused";
}
