package dev.machina.cli.instance;

import dev.machina.hypervisor.os.FileTrees;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The directory of the instance this VMM runs, locked for as long as it is open; closing it
 * removes the directory and then releases the lock.
 */
public final class InstanceDirectory implements AutoCloseable {
    private final Instance instance;
    private final FileLock lock;

    InstanceDirectory(String id, Optional<String> name, Path directory, FileLock lock) {
        this.instance = new Instance(id, name, directory);
        this.lock = lock;
    }

    public Instance instance() {
        return instance;
    }

    @Override
    public void close() {
        try {
            FileTrees.delete(instance.directory());
            lock.channel().close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
