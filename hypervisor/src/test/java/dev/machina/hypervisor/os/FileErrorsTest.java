package dev.machina.hypervisor.os;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class FileErrorsTest {
    @Test
    void reasonsAreWordsNotClassNames() {
        assertThat(FileErrors.reason(new AccessDeniedException("/x"))).isEqualTo("permission denied");
        assertThat(FileErrors.reason(new NoSuchFileException("/x"))).isEqualTo("no such file or directory");
        assertThat(FileErrors.reason(new FileAlreadyExistsException("/x"))).isEqualTo("already exists");
        assertThat(FileErrors.reason(new MalformedInputException(1))).isEqualTo("not valid UTF-8 text");
        assertThat(FileErrors.reason(new FileSystemException("/x", null, "Is a directory"))).isEqualTo("is a directory");
        assertThat(FileErrors.reason(new IOException())).isEqualTo("input/output error");
        assertThat(FileErrors.describe(Path.of("/y"), new AccessDeniedException("/x"))).isEqualTo("/x: permission denied");
        assertThat(FileErrors.describe(Path.of("/y"), new MalformedInputException(1))).isEqualTo("/y: not valid UTF-8 text");
    }

    @Test
    void saysWhatAPathIsWhenItIsNotAFile(@TempDir Path directory) throws Exception {
        Path file = Files.writeString(directory.resolve("file"), "x");
        assertThat(FileErrors.unusableAsFile(file)).isEmpty();
        assertThat(FileErrors.unusableAsFile(directory.resolve("absent"))).isEmpty();
        assertThat(FileErrors.unusableAsFile(directory)).hasValue("is a directory, not a file");
        assertThat(FileErrors.unusableAsFile(Path.of("/dev/null"))).hasValue("is a character device, not a file");
        Path fifo = directory.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        assertThat(FileErrors.unusableAsFile(fifo)).hasValue("is a FIFO, not a file");
        Files.createSymbolicLink(directory.resolve("dangling"), directory.resolve("absent"));
        assertThat(FileErrors.unusableAsFile(directory.resolve("dangling"))).hasValue("is a symbolic link to nothing");
    }
}
