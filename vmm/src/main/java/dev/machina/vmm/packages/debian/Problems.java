package dev.machina.vmm.packages.debian;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/** Says what went wrong with a file in the user's words: the JDK's exceptions carry a class name or only a path. */
public final class Problems {
    private Problems() {
    }

    public static String describe(IOException e) {
        return switch (e) {
            case NoSuchFileException missing -> "no such file or directory";
            case AccessDeniedException denied -> "permission denied";
            case FileAlreadyExistsException exists -> "it already exists";
            case FileSystemException other when other.getReason() != null -> other.getReason();
            default -> e.getMessage() != null ? e.getMessage() : "input/output error";
        };
    }
}
