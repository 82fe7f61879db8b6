package dev.machina.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The console's escape sequence, as QEMU spells it: Ctrl-A then {@code x} quits (the stream ends
 * and {@code quit} runs), Ctrl-A then {@code c} runs {@code switchConsole} (the keyboard goes to
 * the guest's other console), Ctrl-A twice sends one Ctrl-A to the guest, and Ctrl-A before any
 * other key is dropped with that key.
 */
final class EscapeFilter extends FilterInputStream {
    static final int ESCAPE = 0x01;
    static final String HELP = "console: Ctrl-A x quits, Ctrl-A c switches between the serial console and hvc0 (with virtio-console), Ctrl-A Ctrl-A sends Ctrl-A";

    private final Runnable quit;
    private final Runnable switchConsole;
    private boolean escaped;
    private boolean quitting;

    EscapeFilter(InputStream input, Runnable quit, Runnable switchConsole) {
        super(input);
        this.quit = quit;
        this.switchConsole = switchConsole;
    }

    @Override
    public int read() throws IOException {
        while (!quitting) {
            int value = in.read();
            if (value < 0) {
                return value;
            }
            if (escaped) {
                escaped = false;
                if (value == 'x' || value == 'X') {
                    quitting = true;
                    quit.run();
                } else if (value == 'c' || value == 'C') {
                    switchConsole.run();
                } else if (value == ESCAPE) {
                    return ESCAPE;
                }
            } else if (value == ESCAPE) {
                escaped = true;
            } else {
                return value;
            }
        }
        return -1;
    }

    /** One byte at a time, so that an escape is acted on as soon as it is typed. */
    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        int value = read();
        if (value < 0) {
            return -1;
        }
        buffer[offset] = (byte) value;
        return 1;
    }
}
