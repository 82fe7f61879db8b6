package dev.machina.console;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The console protocol against the host's own shell standing in for a guest's. */
class GuestConsoleTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void runReturnsWhatTheCommandPrintedBetweenTheMarkers() throws Exception {
        try (GuestConsole shell = GuestConsole.start(List.of("sh"))) {
            assertThat(shell.run("echo one; echo two", TIMEOUT)).isEqualTo("one\ntwo");
            assertThat(shell.run("true", TIMEOUT)).isEmpty();
        }
    }

    @Test
    void timedMeasuresTheCommandNotTheConsole() throws Exception {
        try (GuestConsole shell = GuestConsole.start(List.of("sh"))) {
            GuestConsole.Reply reply = shell.timed("sleep 0.3; echo done", TIMEOUT);
            assertThat(reply.output()).isEqualTo("done");
            assertThat(reply.time()).isBetween(Duration.ofMillis(300), Duration.ofSeconds(5));
        }
    }

    @Test
    void awaitOutputConsumesWhatItFound() throws Exception {
        try (GuestConsole shell = GuestConsole.start(List.of("sh"))) {
            shell.send("echo ready\n");
            shell.awaitOutput("ready", TIMEOUT);
            assertThatThrownBy(() -> shell.awaitOutput("ready", Duration.ofMillis(200)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("no \"ready\"").hasMessageContaining("ready\n");
        }
    }

    @Test
    void anEndedProcessFailsTheWaitAtOnceWithItsStatus() throws Exception {
        try (GuestConsole shell = GuestConsole.start(List.of("sh", "-c", "echo bye; exit 3"))) {
            assertThat(shell.awaitExit(TIMEOUT)).isEqualTo(3);
            assertThatThrownBy(() -> shell.awaitOutput("hello", Duration.ofMinutes(5)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("status 3").hasMessageContaining("bye");
        }
    }

    /** A VMM's output closes a moment before its process is gone: the wait must not outlast that moment. */
    @Test
    void outputThatEndsBeforeTheProcessFailsTheWaitWhenItEnds() throws Exception {
        try (GuestConsole shell = GuestConsole.start(List.of("sh", "-c", "echo bye; exec >&- 2>&-; sleep 1; exit 3"))) {
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThatThrownBy(() -> shell.awaitOutput("hello", Duration.ofMinutes(5)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("status 3").hasMessageContaining("bye"));
        }
    }
}
