package dev.machina.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A VMM process whose standard input and output are its guest's serial console, driven with the
 * protocol of the seed's integration tests: each shell command is sent as
 * {@code echo <marker>; <command>; echo <reversed marker>} and its output is what the console
 * shows between the two markers' lines. Everything the process prints (console and VMM messages)
 * is kept as the transcript that a failure shows, with the host time each piece of it arrived, so
 * that a command can be timed on one clock for every VMM.
 */
public final class GuestConsole implements AutoCloseable {
    private static final AtomicLong MARKERS = new AtomicLong();
    private static final Duration EXIT_GRACE = Duration.ofSeconds(10);

    private final Process process;
    private final OutputStream console;
    private final StringBuilder transcript = new StringBuilder();
    /** Each read from the process, in order: the transcript's length after it and when it came. */
    private final List<Arrival> arrivals = new ArrayList<>();
    /** Where the next command's output may start: earlier output is never matched again. */
    private int consumed;
    private boolean readerRunning = true;

    private record Arrival(int transcriptLength, long nanoTime) {
    }

    /** What a command printed, and the host time from its first marker's arrival to its last's. */
    public record Reply(String output, Duration time) {
    }

    private GuestConsole(Process process) {
        this.process = process;
        this.console = process.getOutputStream();
        Thread.ofPlatform().daemon().name("guest-console").start(() -> collect(process.getInputStream()));
    }

    /** Starts {@code command}, a VMM whose standard input and output are the guest's console (errors go there too). */
    public static GuestConsole start(List<String> command) throws IOException {
        return new GuestConsole(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** Waits until the transcript shows {@code text} after what earlier waits consumed, and consumes it. */
    public void awaitOutput(String text, Duration timeout) throws InterruptedException {
        awaitMatch(Pattern.compile(Pattern.quote(text)), timeout, "\"" + text + "\"");
    }

    /** Runs {@code command} in the guest's shell and returns its output, without the final line break. */
    public String run(String command, Duration timeout) throws IOException, InterruptedException {
        return timed(command, timeout).output();
    }

    /**
     * Runs {@code command} in the guest's shell and returns its output, without the final line
     * break, and its time: from the first marker's line to the last's, so that neither typing the
     * command into the console nor the guest's own clock is part of it.
     */
    public Reply timed(String command, Duration timeout) throws IOException, InterruptedException {
        String marker = "mark" + MARKERS.incrementAndGet() + "x" + Long.toHexString(System.nanoTime());
        String reversed = new StringBuilder(marker).reverse().toString();
        send("echo " + marker + "; " + command + "; echo " + reversed + "\n");
        Pattern reply = Pattern.compile("(?m)^(" + marker + ")\\r?\\n(.*?)^(" + reversed + ")\\r?$", Pattern.DOTALL);
        synchronized (this) {
            Matcher matched = awaitMatch(reply, timeout, "the output of `" + command + "`");
            long nanos = arrivalOf(matched.end(3) - 1) - arrivalOf(matched.end(1) - 1);
            return new Reply(matched.group(2).replace("\r\n", "\n").stripTrailing(), Duration.ofNanos(nanos));
        }
    }

    /** Types {@code text} into the console. */
    public void send(String text) throws IOException {
        console.write(text.getBytes(StandardCharsets.UTF_8));
        console.flush();
    }

    /** Waits for the VMM to end and returns its exit status. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("the VMM did not end within " + timeout + "; transcript:\n" + transcript());
        }
        return process.exitValue();
    }

    /** The VMM process's id. */
    public long pid() {
        return process.pid();
    }

    public synchronized String transcript() {
        return transcript.toString();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
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
            if (left <= 0 || !readerRunning) {
                // Output that has ended will not match later: the VMM is ending, and will say how
                // at once (its output closes a moment before the process is gone).
                boolean ended = !readerRunning && process.waitFor(Math.min(left, EXIT_GRACE.toNanos()), TimeUnit.NANOSECONDS);
                throw new IllegalStateException("no " + what + " within " + timeout
                        + (ended ? " (the VMM ended with status " + process.exitValue() + ")" : "")
                        + "; transcript:\n" + transcript);
            }
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
    }

    /** When the transcript's character at {@code offset} arrived. */
    private long arrivalOf(int offset) {
        int low = 0;
        int high = arrivals.size() - 1;
        while (low < high) {
            int middle = (low + high) >>> 1;
            if (arrivals.get(middle).transcriptLength() > offset) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        return arrivals.get(low).nanoTime();
    }

    private void collect(InputStream output) {
        byte[] buffer = new byte[4096];
        try (output) {
            int count;
            while ((count = output.read(buffer)) >= 0) {
                long now = System.nanoTime();
                String text = new String(buffer, 0, count, StandardCharsets.ISO_8859_1);
                synchronized (this) {
                    transcript.append(text);
                    arrivals.add(new Arrival(transcript.length(), now));
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
