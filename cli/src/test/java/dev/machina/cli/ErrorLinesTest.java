package dev.machina.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;

import static org.assertj.core.api.Assertions.assertThat;

class ErrorLinesTest {
    private static String report(Throwable failure) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ErrorLines.report(failure, new PrintStream(out, true, StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void hostAndInputFaultsAreOneLineWithoutAClassName() {
        for (Throwable failure : new Throwable[] {new AccessDeniedException("/cache/x"), new NoSuchFileException("/cache/x"),
                new FileAlreadyExistsException("/cache/x"), new UncheckedIOException(new MalformedInputException(1)),
                new InvalidPathException("p\u00e9", "Malformed input"), new OutOfMemoryError("Java heap space")}) {
            String text = report(failure);
            assertThat(text).as(failure.toString()).startsWith("guest: ").endsWith("\n").hasLineCount(1)
                    .doesNotContain("Exception", "Error", "java.");
        }
        assertThat(report(new AccessDeniedException("/cache/x"))).isEqualTo("guest: /cache/x: permission denied\n");
    }

    @Test
    void aBugIsAnInternalErrorWithItsStackTrace() {
        String text = report(new IllegalStateException("broken"));
        assertThat(text).startsWith("guest: internal error: java.lang.IllegalStateException: broken\n")
                .contains("at dev.machina.cli.ErrorLinesTest");
    }
}
