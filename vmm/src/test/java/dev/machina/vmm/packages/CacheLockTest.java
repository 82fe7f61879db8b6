package dev.machina.vmm.packages;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

class CacheLockTest {
    private static final String WAITING = "waiting for another build to finish with the build cache";

    @TempDir
    Path cache;

    /** Takes the lock on another thread once {@code holder} is held; returns when it had to wait, and the future of its taking. */
    private CompletableFuture<Void> contend(CountDownLatch waited, AtomicBoolean acquired) {
        return CompletableFuture.runAsync(() -> {
            try (CacheLock lock = CacheLock.acquire(cache, line -> {
                assertThat(line).startsWith(WAITING).contains(cache.resolve(".lock").toString());
                waited.countDown();
            })) {
                acquired.set(true);
            }
        });
    }

    @Test
    void aSecondThreadWaitsSayingSoUntilTheFirstReleases() throws Exception {
        CountDownLatch waited = new CountDownLatch(1);
        AtomicBoolean acquired = new AtomicBoolean();
        CompletableFuture<Void> second;
        try (CacheLock first = CacheLock.acquire(cache, line -> { })) {
            second = contend(waited, acquired);
            assertThat(waited.await(30, TimeUnit.SECONDS)).as("the second said it waits").isTrue();
            assertThat(acquired).as("not while the first holds it").isFalse();
        }
        second.get(30, TimeUnit.SECONDS);
        assertThat(acquired).isTrue();
    }

    /** Another process holds the file lock (as a second `guest launch` would): this one waits for it to let go. */
    @Test
    void aProcessWaitsForAnotherProcess() throws Exception {
        Path holder = cache.resolve("Holder.java");
        Files.writeString(holder, """
                import java.nio.channels.FileChannel;
                import java.nio.file.Path;
                import java.nio.file.StandardOpenOption;
                class Holder {
                    public static void main(String[] args) throws Exception {
                        try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                             var lock = channel.lock()) {
                            System.out.println("locked");
                            System.out.flush();
                            System.in.readAllBytes();
                        }
                    }
                }
                """);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(List.of(java.toString(), holder.toString(), cache.resolve(".lock").toString()))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("locked");

            CountDownLatch waited = new CountDownLatch(1);
            AtomicBoolean acquired = new AtomicBoolean();
            CompletableFuture<Void> contender = contend(waited, acquired);
            assertThat(waited.await(30, TimeUnit.SECONDS)).as("it said it waits").isTrue();
            assertThat(acquired).isFalse();

            process.getOutputStream().close(); // the holder exits, and the kernel releases its lock
            contender.get(60, TimeUnit.SECONDS);
            assertThat(acquired).isTrue();
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void anUncontendedLockSaysNothing() {
        try (CacheLock lock = CacheLock.acquire(cache.resolve("new/cache"), line -> {
            throw new AssertionError("said " + line);
        })) {
            assertThat(cache.resolve("new/cache/.lock")).exists();
        }
        try (CacheLock again = CacheLock.acquire(cache.resolve("new/cache"), line -> {
            throw new AssertionError("said " + line);
        })) {
            assertThat(again).isNotNull();
        }
    }
}
