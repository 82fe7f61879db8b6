package dev.machina.cli.serial;

import dev.machina.vmm.devices.ConsoleInput;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The serial console shared by everyone attached: a Unix domain socket (mode 0600) where each
 * client gets the console's last {@link #BACKLOG} bytes and then its output as it comes, and types
 * into the guest's console, as does the VMM's own terminal where it has one. Each source's typing
 * is handed to the console on the thread that reads it, so that what a source does between bytes
 * (the terminal's Ctrl-A c switching consoles) takes effect exactly between them. A client that
 * goes away detaches; the guest runs on.
 */
public final class SerialHub implements AutoCloseable {
    /** Enough for linux_guest's boot log: a client attached after the boot still sees how it went and the prompt. */
    static final int BACKLOG = 256 << 10;

    private final ServerSocketChannel server;
    /** Held while a chunk of one source's typing is handed over, so that sources do not interleave within one. */
    private final Object typing = new Object();
    private final List<Thread> readers = new CopyOnWriteArrayList<>();
    /** The console's last output, circular; guarded by {@code this}, as are the clients' order of writes. */
    private final byte[] backlog = new byte[BACKLOG];
    private long written;
    private final List<SocketChannel> clients = new CopyOnWriteArrayList<>();

    private SerialHub(ServerSocketChannel server) {
        this.server = server;
    }

    /** Binds {@code socket}, which must not exist; clients are served once {@link #start} names the console. */
    public static SerialHub listen(Path socket) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        return new SerialHub(server);
    }

    /** Accepts clients from now on; what they type goes to {@code console}. */
    public void start(ConsoleInput console) {
        Thread.ofVirtual().name("serial-accept").start(() -> accept(console));
    }

    /** Hands what {@code local} (the VMM's terminal) types to {@code console} too, until it ends or the hub closes. */
    public void feed(InputStream local, ConsoleInput console) {
        readers.add(Thread.ofPlatform().daemon().name("serial-local-input").start(() -> copyToConsole(local, console)));
    }

    /** An output stream for the console's output that writes to {@code local} and to every attached client. */
    public OutputStream tee(OutputStream local) {
        return new OutputStream() {
            @Override
            public void write(int value) throws IOException {
                write(new byte[] {(byte) value}, 0, 1);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                local.write(bytes, offset, length);
                broadcast(bytes, offset, length);
            }

            @Override
            public void flush() throws IOException {
                local.flush();
            }
        };
    }

    private synchronized void broadcast(byte[] bytes, int offset, int length) {
        for (int i = 0; i < length; i++) {
            backlog[(int) (written++ % BACKLOG)] = bytes[offset + i];
        }
        for (SocketChannel client : clients) {
            send(client, ByteBuffer.wrap(bytes, offset, length));
        }
    }

    /** Gives a new client the backlog and then, with no byte lost or repeated between, what follows. */
    private synchronized void attach(SocketChannel client) {
        int kept = (int) Math.min(written, BACKLOG);
        int start = (int) ((written - kept) % BACKLOG);
        int first = Math.min(kept, BACKLOG - start);
        send(client, ByteBuffer.wrap(backlog, start, first));
        send(client, ByteBuffer.wrap(backlog, 0, kept - first));
        clients.add(client);
    }

    /** Writes to one client; one that is gone (or too broken to write to) is dropped, as detached. */
    private void send(SocketChannel client, ByteBuffer bytes) {
        try {
            while (bytes.hasRemaining()) {
                client.write(bytes);
            }
        } catch (IOException e) {
            detach(client);
        }
    }

    private void accept(ConsoleInput console) {
        try {
            while (true) {
                SocketChannel client = server.accept();
                attach(client);
                Thread.ofVirtual().name("serial-client").start(() -> {
                    copyToConsole(Channels.newInputStream(client), console);
                    detach(client);
                });
            }
        } catch (ClosedChannelException e) {
            // closed: the guest has ended
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void copyToConsole(InputStream source, ConsoleInput console) {
        try (source) {
            byte[] buffer = new byte[256];
            int count;
            while ((count = source.read(buffer)) > 0) {
                synchronized (typing) {
                    for (int i = 0; i < count; i++) {
                        console.receive(buffer[i] & 0xFF);
                    }
                }
            }
        } catch (IOException | InterruptedException e) {
            // the source went away, or the hub closed: this source types no more
        }
    }

    private void detach(SocketChannel client) {
        clients.remove(client);
        try {
            client.close();
        } catch (IOException e) {
            // already gone
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (SocketChannel client : clients) {
            detach(client);
        }
        readers.forEach(Thread::interrupt);
    }
}
