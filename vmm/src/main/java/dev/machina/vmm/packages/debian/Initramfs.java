package dev.machina.vmm.packages.debian;

import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An initial RAM file system for Linux: a cpio archive in the "newc" format
 * (Documentation/driver-api/early-userspace/buffer-format.rst) of directories, files, symbolic
 * links and device nodes, all owned by root. Parent directories are added (mode 0755) before
 * their first child, as the kernel's unpacker needs them to exist.
 */
public final class Initramfs {
    /** What the archive holds; paths are relative ("dev/console"), modes are permission bits. */
    public sealed interface Node {
        String path();

        /** The cpio mode: the file type bits and the permission bits. */
        long mode();
    }

    public record Directory(String path, int permissions) implements Node {
        @Override
        public long mode() {
            return CpioConstants.C_ISDIR | permissions;
        }
    }

    public record RegularFile(String path, int permissions, byte[] content) implements Node {
        @Override
        public long mode() {
            return CpioConstants.C_ISREG | permissions;
        }
    }

    public record Symlink(String path, String target) implements Node {
        @Override
        public long mode() {
            return CpioConstants.C_ISLNK | 0777;
        }
    }

    public record Device(String path, int permissions, boolean block, int major, int minor) implements Node {
        @Override
        public long mode() {
            return (block ? CpioConstants.C_ISBLK : CpioConstants.C_ISCHR) | permissions;
        }
    }

    private static final int DIRECTORY_PERMISSIONS = 0755;

    private final Map<String, Node> nodes = new LinkedHashMap<>();

    public Initramfs directory(String path, int permissions) {
        return add(new Directory(normalize(path), permissions));
    }

    public Initramfs file(String path, int permissions, byte[] content) {
        return add(new RegularFile(normalize(path), permissions, content.clone()));
    }

    /** A file with the contents of the host file {@code source}, read now. */
    public Initramfs file(String path, int permissions, Path source) throws IOException {
        return add(new RegularFile(normalize(path), permissions, Files.readAllBytes(source)));
    }

    public Initramfs symlink(String path, String target) {
        return add(new Symlink(normalize(path), target));
    }

    /** A character device node, e.g. {@code characterDevice("dev/console", 0600, 5, 1)}. */
    public Initramfs characterDevice(String path, int permissions, int major, int minor) {
        return add(new Device(normalize(path), permissions, false, major, minor));
    }

    public Initramfs blockDevice(String path, int permissions, int major, int minor) {
        return add(new Device(normalize(path), permissions, true, major, minor));
    }

    /** The nodes in archive order. */
    public Collection<Node> nodes() {
        return nodes.values();
    }

    /** Writes the archive to {@code target}. */
    public void write(Path target) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(target))) {
            write(out);
        }
    }

    /** Writes the uncompressed archive, with its trailer, to {@code out} (left open). */
    public void write(OutputStream out) throws IOException {
        CpioArchiveOutputStream cpio = new CpioArchiveOutputStream(new NonClosing(out), CpioConstants.FORMAT_NEW);
        for (Node node : nodes.values()) {
            byte[] content = switch (node) {
                case RegularFile file -> file.content();
                case Symlink link -> link.target().getBytes(StandardCharsets.UTF_8);
                case Directory ignored -> new byte[0];
                case Device ignored -> new byte[0];
            };
            CpioArchiveEntry entry = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, node.path(), content.length);
            entry.setMode(node.mode());
            entry.setNumberOfLinks(node instanceof Directory ? 2 : 1);
            if (node instanceof Device device) {
                entry.setRemoteDeviceMaj(device.major());
                entry.setRemoteDeviceMin(device.minor());
            }
            cpio.putArchiveEntry(entry);
            cpio.write(content);
            cpio.closeArchiveEntry();
        }
        cpio.close();
    }

    private Initramfs add(Node node) {
        int slash = node.path().lastIndexOf('/');
        if (slash > 0) {
            String parent = node.path().substring(0, slash);
            if (!nodes.containsKey(parent)) {
                directory(parent, DIRECTORY_PERMISSIONS);
            } else if (!(nodes.get(parent) instanceof Directory)) {
                throw new IllegalArgumentException("the initramfs has " + parent + ", which is not a directory, above " + node.path());
            }
        }
        if (nodes.putIfAbsent(node.path(), node) != null) {
            throw new IllegalArgumentException("the initramfs already has " + node.path());
        }
        return this;
    }

    private static String normalize(String path) {
        String relative = path.replaceFirst("^/+", "");
        if (relative.isEmpty() || relative.endsWith("/") || relative.contains("//")
                || ("/" + relative + "/").contains("/../") || ("/" + relative + "/").contains("/./")) {
            throw new IllegalArgumentException("not a plain path in the initramfs: \"" + path + '"');
        }
        return relative;
    }

    /** Lets the cpio stream write its trailer on close without closing the caller's stream. */
    private static final class NonClosing extends FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            out.write(bytes, offset, length);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
