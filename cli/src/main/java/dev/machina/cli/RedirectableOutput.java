package dev.machina.cli;

import java.io.IOException;
import java.io.OutputStream;

/** An output stream whose destination can change once: a background VMM's messages, from its launcher's pipe to its log. */
final class RedirectableOutput extends OutputStream {
    private volatile OutputStream target;

    RedirectableOutput(OutputStream target) {
        this.target = target;
    }

    void redirect(OutputStream next) throws IOException {
        OutputStream previous = target;
        target = next;
        previous.flush();
    }

    @Override
    public void write(int value) throws IOException {
        target.write(value);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        target.write(bytes, offset, length);
    }

    @Override
    public void flush() throws IOException {
        target.flush();
    }
}
