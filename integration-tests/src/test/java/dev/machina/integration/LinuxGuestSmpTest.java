package dev.machina.integration;

import dev.machina.console.GuestConsole;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.machina.integration.LinuxGuestTest.BOOT;
import static dev.machina.integration.LinuxGuestTest.COMMAND;
import static dev.machina.integration.LinuxGuestTest.READY;
import static dev.machina.integration.LinuxGuestTest.REPOSITORY;
import static org.assertj.core.api.Assertions.assertThat;

/** linux_guest with two vCPUs on the pure-Java CPU: both come up, and a kernel panic ends the VMM as a failure. */
class LinuxGuestSmpTest {
    @Test
    void twoCpusComeUpAndAPanicEndsTheVmmWithTheReasonInTheLog() throws Exception {
        LinuxGuestTest.assumeDebianPackageLists();
        try (GuestConsole guest = LaunchedGuest.launch(REPOSITORY, "linux_guest", List.of("--backend=java", "--cpus=2"))) {
            guest.awaitOutput(READY, BOOT);
            LinuxGuestTest.quietConsole(guest);
            assertThat(guest.run("nproc", COMMAND)).isEqualTo("2");

            guest.send("echo c > /proc/sysrq-trigger\n");
            int status = guest.awaitExit(COMMAND);
            assertThat(status).as("exit status; transcript:\n%s", guest.transcript()).isNotZero();
            assertThat(guest.transcript()).contains("Kernel panic - not syncing: sysrq triggered crash");
        }
    }
}
