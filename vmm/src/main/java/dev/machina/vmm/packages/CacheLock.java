package dev.machina.vmm.packages;

import dev.machina.hypervisor.os.FileErrors;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The build cache's lock: whoever builds, downloads, cleans or prunes in the cache holds it, so
 * that two launches needing the same build or download wait for each other instead of failing or
 * leaving each other's half-written files behind. It is a file lock on {@value #FILE} in the cache,
 * which the kernel releases when its process dies (a killed build leaves nothing to clean up by
 * hand), together with a lock per cache within this JVM (file locks are held per process, and a
 * second lock of the same file in one JVM would throw rather than wait). Not reentrant.
 */
public final class CacheLock implements AutoCloseable {
    static final String FILE = ".lock";

    /** This JVM's lock of each cache, by its real path: file locks do not exclude threads of one process. */
    private static final Map<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

    private final ReentrantLock inProcess;
    private final FileChannel channel;
    private final FileLock lock;

    private CacheLock(ReentrantLock inProcess, FileChannel channel, FileLock lock) {
        this.inProcess = inProcess;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code cache}, creating the cache if needed; if another build holds it, says
     * so to {@code waiting} once and waits for it.
     *
     * @throws PackageException if the lock file cannot be created or locked, naming it and why
     */
    public static CacheLock acquire(Path cache, Consumer<String> waiting) {
        Path file = cache.resolve(FILE);
        ReentrantLock inProcess;
        try {
            inProcess = IN_PROCESS.computeIfAbsent(Files.createDirectories(cache).toRealPath(), path -> new ReentrantLock());
        } catch (IOException e) {
            throw new PackageException("cannot create the build cache " + cache + ": " + FileErrors.reason(e));
        }
        if (inProcess.isHeldByCurrentThread()) {
            throw new IllegalStateException("the lock of " + cache + " is already held by this thread");
        }
        boolean said = false;
        if (!inProcess.tryLock()) {
            waiting.accept(waitingLine(file));
            said = true;
            inProcess.lock();
        }
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                if (!said) {
                    waiting.accept(waitingLine(file));
                }
                lock = channel.lock();
            }
            return new CacheLock(inProcess, channel, lock);
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            inProcess.unlock();
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new PackageException("cannot lock " + file + ": " + FileErrors.reason((IOException) e));
        }
    }

    private static String waitingLine(Path file) {
        return "waiting for another build to finish with the build cache (" + file + " is locked)";
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // Closing the channel below releases it anyway.
        } finally {
            closeQuietly(channel);
            inProcess.unlock();
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Nothing was written through it; the lock goes with the descriptor.
            }
        }
    }
}
