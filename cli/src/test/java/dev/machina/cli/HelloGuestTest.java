package dev.machina.cli;

import dev.machina.hypervisor.Backends;
import dev.machina.cli.instance.InstanceRegistry;
import dev.machina.vmm.packages.GuestPackages;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code guest launch hello_guest --backend=kvm} through the command's entry point, with the
 * console on pipes: the package is built from its recipe, boots, echoes a line and powers off on 'q'.
 */
@Timeout(120)
class HelloGuestTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Path REPOSITORY = Path.of("").toAbsolutePath().getParent();

    @TempDir
    Path cache;

    @BeforeAll
    static void requireKvmAndBinutils() throws InterruptedException {
        Path kvm = Path.of("/dev/kvm");
        assumeTrue(Files.isReadable(kvm) && Files.isWritable(kvm), "/dev/kvm is absent or not readable and writable");
        try {
            assumeTrue(new ProcessBuilder("as", "--version").start().waitFor() == 0, "GNU as does not run here");
        } catch (IOException e) {
            assumeTrue(false, "GNU as (binutils) is not installed");
        }
    }

    @Test
    void bootsEchoesAndPowersOff() throws Exception {
        ConsoleWatcher console = new ConsoleWatcher();
        PipedOutputStream keyboard = new PipedOutputStream();
        PipedInputStream input = new PipedInputStream(keyboard);
        ByteArrayOutputStream messages = new ByteArrayOutputStream();
        Environment environment = new Environment(input, console, new PrintStream(messages, true, StandardCharsets.UTF_8),
                false, new GuestPackages(Optional.of(REPOSITORY.resolve("packages")), cache, REPOSITORY), Backends.installed(),
                new InstanceRegistry(cache.resolve("run")));

        CompletableFuture<Integer> status = CompletableFuture.supplyAsync(
                () -> GuestCommand.run(environment, "launch", "hello_guest", "--backend=kvm"));

        console.await("Hello from a Machina guest!", WAIT);
        console.await("hello> ", WAIT);
        type(keyboard, "hi there\r");
        console.await("hi there\r\nhello> ", WAIT);
        type(keyboard, "q");
        assertThat(status.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isZero();
        assertThat(console.text()).endsWith("hello> q\r\nPowering off.\r\n");
        assertThat(messages.toString(StandardCharsets.UTF_8))
                .contains("hello_guest: assembling hello.S", "backend: kvm", "guest: guest powered off");
    }

    private static void type(OutputStream keyboard, String text) throws IOException {
        keyboard.write(text.getBytes(StandardCharsets.US_ASCII));
        keyboard.flush();
    }

    /** The console's output, which a test can wait on until some text has appeared. */
    private static final class ConsoleWatcher extends OutputStream {
        private final StringBuilder text = new StringBuilder();

        @Override
        public synchronized void write(int value) {
            text.append((char) value);
            notifyAll();
        }

        synchronized String text() {
            return text.toString();
        }

        synchronized void await(String expected, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (text.indexOf(expected) < 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("console never showed " + expected.replace("\r", "\\r").replace("\n", "\\n")
                            + "; it showed: " + text.toString().replace("\r", "\\r").replace("\n", "\\n"));
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }
}
