package dev.machina.hypervisor.os;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;
import java.util.Optional;

/**
 * File problems in the user's words: why an operation failed ("permission denied", "is a
 * directory") and what a path that is not a regular file is, never a Java exception's class
 * name, which is what {@link IOException#toString()} and many of their messages show.
 */
public final class FileErrors {
    /** The file-type bits of st_mode, and the types a path can be besides a regular file. */
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;

    private FileErrors() {
    }

    /** Why {@code e} happened, in a few words, without the file's name. */
    public static String reason(IOException e) {
        return switch (e) {
            case AccessDeniedException denied -> "permission denied";
            case NoSuchFileException missing -> "no such file or directory";
            case FileAlreadyExistsException exists -> "already exists";
            case NotDirectoryException notDirectory -> "not a directory";
            case DirectoryNotEmptyException notEmpty -> "the directory is not empty";
            case FileSystemLoopException loop -> "too many levels of symbolic links";
            case CharacterCodingException coding -> "not valid UTF-8 text";
            case EOFException eof -> "it ends too early";
            case FileSystemException other when other.getReason() != null -> lowerFirst(other.getReason());
            default -> e.getMessage() == null || e.getMessage().isBlank() ? "input/output error" : e.getMessage();
        };
    }

    /**
     * {@code "<file>: <reason>"}, naming the file the exception names where it names one, else
     * {@code file}; only the reason where neither names one.
     */
    public static String describe(Path file, IOException e) {
        String named = e instanceof FileSystemException fs && fs.getFile() != null ? fs.getFile()
                : file == null ? null : file.toString();
        return named == null ? reason(e) : named + ": " + reason(e);
    }

    /** Why {@code written} cannot be a path on this host: the file-name encoding cannot hold it. */
    public static String reason(InvalidPathException e) {
        String encoding = System.getProperty("sun.jnu.encoding", "");
        if (!encoding.isEmpty() && !encoding.toUpperCase(Locale.ROOT).contains("UTF")) {
            return "cannot be a file name under this locale's %s file-name encoding (set LANG or LC_ALL to a UTF-8 locale such as C.UTF-8)"
                    .formatted(encoding);
        }
        return "is not a valid path (" + e.getReason() + ")";
    }

    /**
     * Why {@code path} cannot be read as a file when it exists: {@code "is a directory, not a
     * file"} (or a FIFO, a character or block device, a socket), {@code "permission denied"}, a
     * dangling symbolic link. Empty for a readable regular file, and for a path that does not exist.
     */
    public static Optional<String> unusableAsFile(Path path) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            if (attributes.isRegularFile()) {
                return Files.isReadable(path) ? Optional.empty() : Optional.of("permission denied");
            }
            String kind = attributes.isDirectory() ? "a directory" : switch (mode(path) & S_IFMT) {
                case S_IFIFO -> "a FIFO";
                case S_IFCHR -> "a character device";
                case S_IFBLK -> "a block device";
                case S_IFSOCK -> "a socket";
                default -> "something other than a regular file";
            };
            return Optional.of("is " + kind + ", not a file");
        } catch (NoSuchFileException e) {
            return Files.isSymbolicLink(path) ? Optional.of("is a symbolic link to nothing") : Optional.empty();
        } catch (IOException e) {
            return Optional.of(reason(e));
        }
    }

    private static int mode(Path path) throws IOException {
        try {
            return (Integer) Files.getAttribute(path, "unix:mode");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return 0; // no unix view: say only that it is not a regular file
        }
    }

    private static String lowerFirst(String text) {
        return text.isEmpty() ? text : Character.toLowerCase(text.charAt(0)) + text.substring(1);
    }
}
