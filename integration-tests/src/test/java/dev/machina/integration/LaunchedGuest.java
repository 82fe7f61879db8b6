package dev.machina.integration;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A guest launched the way a user launches it, {@code guest launch PACKAGE [flags]} in a process
 * of its own, driven through its serial console with the protocol of the seed's integration
 * tests: each command is sent as {@code echo <marker>; <command>; echo <reversed marker>} and its
 * output is what the console shows between the two markers' lines. Everything the process prints
 * (console and VMM messages) is kept as the transcript that a failure shows.
 */
final class LaunchedGuest implements AutoCloseable {
    private static final AtomicLong MARKERS = new AtomicLong();

    private final Process process;
    private final OutputStream console;
    private final StringBuilder transcript = new StringBuilder();
    /** Where the next command's output may start: earlier output is never matched again. */
    private int consumed;
    private boolean readerRunning = true;

    private LaunchedGuest(Process process) {
        this.process = process;
        this.console = process.getOutputStream();
        Thread.ofPlatform().daemon().name("guest-console").start(() -> collect(process.getInputStream()));
    }

    /** Starts {@code guest launch packageName flags...} from the repository at {@code repository}. */
    static LaunchedGuest launch(Path repository, String packageName, List<String> flags) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow",
                "-Dmachina.home=" + repository,
                "-cp", System.getProperty("java.class.path"),
                "dev.machina.cli.GuestCommand", "launch", packageName));
        command.addAll(flags);
        return new LaunchedGuest(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** Waits until the transcript shows {@code text} after what earlier waits consumed, and consumes it. */
    void awaitOutput(String text, Duration timeout) throws InterruptedException {
        awaitMatch(Pattern.compile(Pattern.quote(text)), timeout, "\"" + text + "\"");
    }

    /** Runs {@code command} in the guest's shell and returns its output, without the final line break. */
    String run(String command, Duration timeout) throws IOException, InterruptedException {
        String marker = "mark" + MARKERS.incrementAndGet() + "x" + Long.toHexString(System.nanoTime());
        String reversed = new StringBuilder(marker).reverse().toString();
        send("echo " + marker + "; " + command + "; echo " + reversed + "\n");
        Matcher output = awaitMatch(Pattern.compile("(?m)^" + marker + "\\r?\\n(.*?)^" + reversed + "\\r?$", Pattern.DOTALL),
                timeout, "the output of `" + command + "`");
        return output.group(1).replace("\r\n", "\n").stripTrailing();
    }

    /** Types {@code text} into the console. */
    void send(String text) throws IOException {
        console.write(text.getBytes(StandardCharsets.UTF_8));
        console.flush();
    }

    /** Waits for the VMM to end and returns its exit status. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the VMM did not end within " + timeout + "; transcript:\n" + transcript());
        }
        return process.exitValue();
    }

    synchronized String transcript() {
        return transcript.toString();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    private synchronized Matcher awaitMatch(Pattern pattern, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Matcher matcher = pattern.matcher(transcript);
            if (matcher.find(consumed)) {
                consumed = matcher.end();
                return matcher;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || !process.isAlive() && !readerRunning) {
                throw new AssertionError("no " + what + " within " + timeout
                        + (process.isAlive() ? "" : " (the VMM ended with status " + process.exitValue() + ")")
                        + "; transcript:\n" + transcript);
            }
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
    }

    private void collect(InputStream output) {
        byte[] buffer = new byte[4096];
        try (output) {
            int count;
            while ((count = output.read(buffer)) >= 0) {
                String text = new String(buffer, 0, count, StandardCharsets.ISO_8859_1);
                synchronized (this) {
                    transcript.append(text);
                    notifyAll();
                }
            }
        } catch (IOException e) {
            // The process is gone; what it printed is all there is.
        } finally {
            synchronized (this) {
                readerRunning = false;
                notifyAll();
            }
        }
    }
}
