package dev.machina.cli.instance;

import dev.machina.hypervisor.os.FileTrees;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Where running guests are found: one directory per instance under a base directory private to
 * the user ({@code $XDG_RUNTIME_DIR/machina}, else {@code run/} in the build cache), each named by
 * the instance's id and holding its sockets. A VMM holds a lock on its directory's {@code lock}
 * file for its life; the kernel releases it when the VMM dies however it dies, so a directory
 * whose lock can be taken was left by a killed VMM and is removed.
 */
public final class InstanceRegistry {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final String LOCK = "lock";
    private static final String NAME = "name";
    /** Names are file names and command-line words: no separators, no leading dot or dash. */
    private static final String NAME_PATTERN = "[A-Za-z0-9_][A-Za-z0-9._-]{0,63}";
    private static final int ID_BYTES = 4;

    private final Path base;
    private final SecureRandom random = new SecureRandom();

    public InstanceRegistry(Path base) {
        this.base = base;
    }

    /** The registry of this user: {@code $XDG_RUNTIME_DIR/machina}, else {@code <cache>/run}. */
    public static InstanceRegistry forUser(Map<String, String> environment, Path cache) {
        String runtime = environment.get("XDG_RUNTIME_DIR");
        return new InstanceRegistry(runtime != null && !runtime.isBlank() ? Path.of(runtime, "machina") : cache.resolve("run"));
    }

    /**
     * Makes the directory of a new instance, 0700, and holds its lock until
     * {@link InstanceDirectory#close()} removes it.
     *
     * @throws InstanceException if {@code name} is not a valid name or a running guest has it
     */
    public InstanceDirectory create(Optional<String> name) throws IOException {
        if (name.isPresent()) {
            if (!name.get().matches(NAME_PATTERN)) {
                throw new InstanceException("--name " + name.get() + ": a name is letters, digits, '.', '_' and '-', at most 64, not starting with '.' or '-'");
            }
            if (running().stream().anyMatch(instance -> name.equals(instance.name()))) {
                throw new InstanceException("--name " + name.get() + ": a running guest already has that name");
            }
        }
        privateDirectory(base);
        while (true) {
            String id = HexFormat.of().formatHex(randomId());
            Path directory = base.resolve(id);
            try {
                Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (FileAlreadyExistsException e) {
                continue; // another instance drew the same id
            }
            Files.setPosixFilePermissions(directory, OWNER_ONLY); // whatever the umask made of it
            FileChannel lockFile = FileChannel.open(directory.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = lockFile.lock();
            if (name.isPresent()) {
                Files.writeString(directory.resolve(NAME), name.get());
            }
            return new InstanceDirectory(id, name, directory, lock);
        }
    }

    private byte[] randomId() {
        byte[] id = new byte[ID_BYTES];
        random.nextBytes(id);
        return id;
    }

    /** The instances whose VMM is alive, by id; directories that dead VMMs left are removed on the way. */
    public List<Instance> running() throws IOException {
        if (!Files.isDirectory(base)) {
            return List.of();
        }
        List<Instance> instances = new ArrayList<>();
        try (Stream<Path> entries = Files.list(base)) {
            for (Path directory : entries.sorted().toList()) {
                if (alive(directory)) {
                    String id = directory.getFileName().toString();
                    Path nameFile = directory.resolve(NAME);
                    Optional<String> name = Files.exists(nameFile) ? Optional.of(Files.readString(nameFile)) : Optional.empty();
                    instances.add(new Instance(id, name, directory));
                } else {
                    FileTrees.delete(directory);
                }
            }
        }
        return instances;
    }

    /**
     * The running instance with id or name {@code idOrName}.
     *
     * @throws InstanceException naming it, if no running guest has that id or name
     */
    public Instance find(String idOrName) throws IOException {
        return running().stream()
                .filter(instance -> instance.id().equals(idOrName) || instance.name().filter(idOrName::equals).isPresent())
                .findFirst()
                .orElseThrow(() -> new InstanceException("no running guest has the id or name " + idOrName + " (guest list shows them)"));
    }

    /**
     * Waits until the VMM of {@code instance} has ended: its lock is free (the kernel wakes the
     * wait), or its directory is gone.
     *
     * @return false if {@code timeout} passed first
     */
    public boolean awaitEnd(Instance instance, Duration timeout) throws IOException, InterruptedException {
        FileChannel channel;
        try {
            channel = FileChannel.open(instance.directory().resolve(LOCK), StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            return true;
        }
        try (channel) {
            CompletableFuture<FileLock> lock = new CompletableFuture<>();
            Thread.ofVirtual().name("await-vmm-end").start(() -> {
                try {
                    lock.complete(channel.lock());
                } catch (IOException e) {
                    lock.completeExceptionally(e);
                }
            });
            try {
                lock.get(timeout.toNanos(), TimeUnit.NANOSECONDS).release();
                return true;
            } catch (TimeoutException e) {
                return false; // closing the channel ends the waiting lock()
            } catch (ExecutionException e) {
                throw new IOException("waiting for the VMM of " + instance.label() + " to end", e.getCause());
            }
        }
    }

    /** Whether a VMM holds the directory's lock; a directory being made (no lock file yet) counts as alive. */
    private static boolean alive(Path directory) throws IOException {
        Path lockPath = directory.resolve(LOCK);
        if (!Files.isDirectory(directory) || !Files.exists(lockPath)) {
            return Files.isDirectory(directory);
        }
        try (FileChannel channel = FileChannel.open(lockPath, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true; // this JVM runs the instance
        }
    }

    /** Makes {@code directory} (and its parents) if missing, and refuses one that others can enter. */
    private static void privateDirectory(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            Files.createDirectories(directory);
            Files.setPosixFilePermissions(directory, OWNER_ONLY);
        }
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(directory);
        if (!OWNER_ONLY.containsAll(permissions)) {
            throw new InstanceException(directory + " can be entered by other users ("
                    + PosixFilePermissions.toString(permissions) + "): make it rwx------ or remove it");
        }
    }
}
