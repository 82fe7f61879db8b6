package dev.machina.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The terminal on stdin in raw mode (no echo, no line editing, no signals from Ctrl-C), set and
 * restored with {@code stty} on the JVM's own stdin. Restored on {@link #close()}, and by a shutdown
 * hook if the JVM ends first (SIGTERM, SIGINT from elsewhere, an uncaught error).
 */
final class RawTerminal implements AutoCloseable {
    private final String saved;
    private final Thread restoreAtExit;

    private RawTerminal(String saved) {
        this.saved = saved;
        this.restoreAtExit = new Thread(this::restore, "restore-terminal");
        Runtime.getRuntime().addShutdownHook(restoreAtExit);
    }

    /** Whether the JVM's stdin is a terminal: {@code stty} can read its settings. */
    static boolean stdinIsTerminal() {
        try {
            stty("-g");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Puts stdin's terminal into raw mode. */
    static RawTerminal enter() throws IOException {
        RawTerminal terminal = new RawTerminal(stty("-g").strip());
        stty("raw", "-echo");
        return terminal;
    }

    @Override
    public void close() {
        restore();
        try {
            Runtime.getRuntime().removeShutdownHook(restoreAtExit);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down; the hook restores (again), harmlessly.
        }
    }

    private void restore() {
        try {
            stty(saved);
        } catch (IOException e) {
            System.err.println("guest: could not restore the terminal (run `stty sane`): " + e.getMessage());
        }
    }

    private static String stty(String... arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of("stty"));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (process.waitFor() != 0) {
                throw new IOException("stty " + String.join(" ", arguments) + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for stty");
        }
        return output;
    }
}
