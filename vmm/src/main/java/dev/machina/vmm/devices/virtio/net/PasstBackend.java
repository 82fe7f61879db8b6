package dev.machina.vmm.devices.virtio.net;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * User-mode networking through passt, which Machina starts for the guest and stops with it: passt
 * answers DHCP, NDP and DNS, carries the guest's TCP and UDP through the host's own sockets (no
 * privileges needed) and maps the gateway's address to the host's loopback. Frames go over a Unix
 * stream socket, each preceded by its length as 4 big-endian bytes, without a virtio-net header:
 * no offloads, so the guest computes its own checksums and segments.
 */
final class PasstBackend implements NetBackend {
    /** What passt tells the guest by DHCP unless told otherwise: the largest 802.3 frame's payload, in IPv4 words. */
    private static final int MTU = 65_520;
    /**
     * What passt prints once its socket listens. (Its earlier "UNIX domain socket bound at" comes
     * before listen(2), and even when the bind failed, so it does not say that a connect will work.)
     */
    private static final String READY = "You can now start";
    private static final long START_SECONDS = 10;
    /** The header of every received frame: no offload, nothing to say. */
    private static final MemorySegment ZERO_HEADER = MemorySegment.ofArray(new byte[NetDevice.HEADER_SIZE]);

    private final Process passt;
    private final Path directory;
    private final SocketChannel channel;
    private final Selector readable;
    private final Selector writable;
    /** Bytes read from the socket and not yet handed on as whole frames. */
    private final ByteBuffer inbound = ByteBuffer.allocateDirect(4 * NetDevice.MAX_FRAME).order(ByteOrder.BIG_ENDIAN);
    private final MemorySegment inboundMemory = MemorySegment.ofBuffer(inbound);
    private final ByteBuffer length = ByteBuffer.allocateDirect(Integer.BYTES).order(ByteOrder.BIG_ENDIAN);
    private final ByteBuffer[] outbound = new ByteBuffer[2];
    /** The device's transmit buffer and a view of it, made once: the device passes the same buffer every time. */
    private MemorySegment transmitBuffer;
    private ByteBuffer transmitView;

    private PasstBackend(Process passt, Path directory, SocketChannel channel) throws IOException {
        this.passt = passt;
        this.directory = directory;
        this.channel = channel;
        channel.configureBlocking(false);
        readable = Selector.open();
        writable = Selector.open();
        channel.register(readable, SelectionKey.OP_READ);
        channel.register(writable, SelectionKey.OP_WRITE);
        inbound.flip();
        outbound[0] = length;
    }

    /**
     * Starts passt on a socket in a directory of its own and connects to it once passt says it is
     * listening.
     *
     * @throws IOException if passt is not installed (saying which package to install) or does not start
     */
    static PasstBackend start() throws IOException {
        Path program = find().orElseThrow(() -> new IOException(
                "the user-mode network needs passt, which is not installed (apt-get install passt)"));
        Path directory = Files.createTempDirectory("machina-passt");
        // passt started by root runs as nobody, who must be able to make the socket in the directory.
        if (Files.getOwner(directory).getName().equals("root")) {
            Files.setOwner(directory, directory.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        }
        Path socket = directory.resolve("passt.socket");
        // Foreground and one-off: passt is this VMM's child and ends when the VMM closes the socket.
        Process passt = new ProcessBuilder(program.toString(), "--foreground", "--stderr", "--one-off", "--socket", socket.toString())
                .redirectErrorStream(true).start();
        try {
            awaitListening(passt);
            return new PasstBackend(passt, directory, SocketChannel.open(UnixDomainSocketAddress.of(socket)));
        } catch (IOException e) {
            passt.destroy();
            deleteDirectory(directory);
            throw e;
        }
    }

    private static Optional<Path> find() {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/sbin";
        return Stream.of(path.split(":")).filter(dir -> !dir.isEmpty()).map(dir -> Path.of(dir, "passt"))
                .filter(Files::isExecutable).findFirst();
    }

    /** Reads passt's output until it says the socket listens; what it said goes into the error if it ends first. */
    private static void awaitListening(Process passt) throws IOException {
        List<String> said = new ArrayList<>();
        BufferedReader output = new BufferedReader(new InputStreamReader(passt.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = output.readLine()) != null; ) {
            if (line.startsWith(READY)) {
                // Its later output goes nowhere: read and dropped, so that passt never blocks on a full pipe.
                Thread.ofVirtual().start(() -> drain(output));
                return;
            }
            said.add(line);
        }
        try {
            passt.waitFor(START_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new IOException("passt did not start: " + String.join("; ", said.stream().filter(s -> !s.startsWith("Failed to send")).toList()));
    }

    private static void drain(BufferedReader output) {
        try {
            while (output.readLine() != null) {
                // discarded
            }
        } catch (IOException e) {
            // passt is gone; nothing to drain
        }
    }

    @Override
    public long offloads() {
        return 0;
    }

    @Override
    public void negotiated(long features) {
        // passt takes and gives plain frames whatever the guest negotiated.
    }

    @Override
    public int mtu() {
        return MTU;
    }

    @Override
    public int receive(MemorySegment buffer) throws IOException {
        if (!frameBuffered()) {
            inbound.compact();
            int read = channel.read(inbound);
            inbound.flip();
            if (read < 0) {
                throw new IOException("passt closed the connection");
            }
            if (!frameBuffered()) {
                return 0;
            }
        }
        int frame = inbound.getInt();
        MemorySegment.copy(ZERO_HEADER, 0, buffer, 0, NetDevice.HEADER_SIZE);
        MemorySegment.copy(inboundMemory, inbound.position(), buffer, NetDevice.HEADER_SIZE, frame);
        inbound.position(inbound.position() + frame);
        return NetDevice.HEADER_SIZE + frame;
    }

    /** Whether a whole frame is buffered; a length no frame can have means the stream is not passt's. */
    private boolean frameBuffered() throws IOException {
        if (inbound.remaining() < Integer.BYTES) {
            return false;
        }
        int frame = inbound.getInt(inbound.position());
        if (frame < 0 || frame > NetDevice.MAX_FRAME - NetDevice.HEADER_SIZE) {
            throw new IOException("passt sent a frame of " + frame + " bytes");
        }
        return inbound.remaining() >= Integer.BYTES + frame;
    }

    @Override
    public boolean transmit(MemorySegment buffer, int total) throws IOException {
        int frame = total - NetDevice.HEADER_SIZE;
        length.clear();
        length.putInt(frame).flip();
        if (buffer != transmitBuffer) {
            transmitBuffer = buffer;
            transmitView = buffer.asByteBuffer();
        }
        outbound[1] = transmitView.limit(total).position(NetDevice.HEADER_SIZE);
        while (outbound[1].hasRemaining()) {
            if (channel.write(outbound) == 0) {
                // passt is behind: wait for room rather than spin (rare; the guest is the slower side).
                writable.select();
                writable.selectedKeys().clear();
            }
        }
        return true;
    }

    @Override
    public void awaitFrames() throws IOException {
        readable.select();
        readable.selectedKeys().clear();
    }

    @Override
    public void stopWaiting() {
        readable.wakeup();
    }

    @Override
    public String describe() {
        return "user-mode network (passt), host loopback at the gateway's address";
    }

    @Override
    public void close() {
        try {
            readable.close();
            writable.close();
            channel.close();
        } catch (IOException e) {
            // Closing a Unix socket does not fail in a way that matters here; passt is stopped below regardless.
        }
        passt.destroy();
        try {
            passt.waitFor(START_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deleteDirectory(directory);
    }

    private static void deleteDirectory(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            // A temporary directory left behind is harmless.
        }
    }
}
