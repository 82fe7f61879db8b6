package dev.machina.cli.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.machina.cli.instance.Instance;
import dev.machina.cli.instance.InstanceException;

import java.io.IOException;
import java.io.InputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The {@code guest} verbs' side of the control API: one HTTP/1.0 request per connection on the
 * instance's control socket (the server closes it after the reply, so the reply is everything
 * read). Java's HTTP client cannot reach a Unix domain socket, and the verbs need no more than this.
 */
public final class ControlClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] HEADER_END = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final Instance instance;

    public ControlClient(Instance instance) {
        this.instance = instance;
    }

    /** {@code GET path}, its JSON body. */
    public JsonNode getJson(String path) {
        return parse(send("GET", path, null));
    }

    /** {@code GET path}, its body as it came. */
    public byte[] getBytes(String path) {
        return send("GET", path, null);
    }

    /** {@code method path} with {@code body} as JSON, for a change the server answers with 204. */
    public void change(String method, String path, Object body) {
        try {
            send(method, path, JSON.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /**
     * Sends one request and returns the body of a 2xx reply.
     *
     * @throws InstanceException with the server's fault message, or saying that the guest's VMM does not answer
     */
    private byte[] send(String method, String path, byte[] body) {
        byte[] reply;
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(instance.controlSocket()))) {
            StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.0\r\nHost: localhost\r\n");
            if (body != null) {
                head.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
            }
            head.append("\r\n");
            var output = Channels.newOutputStream(channel);
            output.write(head.toString().getBytes(StandardCharsets.US_ASCII));
            if (body != null) {
                output.write(body);
            }
            output.flush();
            try (InputStream input = Channels.newInputStream(channel)) {
                reply = input.readAllBytes();
            }
        } catch (IOException e) {
            throw new InstanceException("guest " + instance.label() + " does not answer on its control socket ("
                    + e.getMessage() + "): its VMM has ended or is ending");
        }
        int headerEnd = indexOf(reply, HEADER_END);
        if (headerEnd < 0) {
            throw new InstanceException("guest " + instance.label() + " sent a reply without headers");
        }
        String statusLine = new String(reply, 0, indexOf(reply, "\r\n".getBytes(StandardCharsets.US_ASCII)), StandardCharsets.US_ASCII);
        byte[] content = Arrays.copyOfRange(reply, headerEnd + HEADER_END.length, reply.length);
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        if (status / 100 != 2) {
            JsonNode fault = parse(content).path("fault_message");
            throw new InstanceException("guest " + instance.label() + ": " + (fault.isTextual() ? fault.asText() : statusLine));
        }
        return content;
    }

    private JsonNode parse(byte[] content) {
        try {
            return JSON.readTree(content);
        } catch (IOException e) {
            throw new InstanceException("guest " + instance.label() + " sent JSON that does not parse: " + e.getMessage());
        }
    }

    private static int indexOf(byte[] bytes, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= bytes.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (bytes[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
