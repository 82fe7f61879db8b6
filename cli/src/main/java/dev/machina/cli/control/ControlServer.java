package dev.machina.cli.control;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The control API of one guest: HTTP with JSON on a Unix domain socket (mode 0600, in the
 * instance's 0700 directory), served by Jetty. The Firecracker-compatible endpoints a running
 * guest has ({@code GET /}, {@code PATCH /vm}, {@code PUT /actions}, {@code GET /metrics}, also in
 * Prometheus's format with {@code ?format=prometheus}) answer as
 * Firecracker's do: 204 for a change, 200 with JSON for a read, 400 with {@code {"fault_message":
 * ...}} for a request that is malformed or not possible now; Machina's own sit under
 * {@code /machina/}. A bad request changes nothing.
 */
public final class ControlServer implements AutoCloseable {
    /** The largest {@code /machina/memory} read: a dump is for reading, not for copying the guest. */
    public static final int MAX_MEMORY_READ = 1 << 20;
    private static final System.Logger LOG = System.getLogger(ControlServer.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Jetty's logger, held so that its level stays set: Jetty says at INFO that it started, which
     * a VMM's messages have no place for; its warnings and errors still show.
     */
    private static final java.util.logging.Logger JETTY_LOG = java.util.logging.Logger.getLogger("org.eclipse.jetty");

    static {
        JETTY_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    private final Server server;

    private ControlServer(Server server) {
        this.server = server;
    }

    /** {@code PATCH /vm}. */
    record VmState(String state) {
    }

    /** {@code PUT /actions}. */
    record Action(@JsonProperty("action_type") String actionType) {
    }

    /** {@code PUT /machina/stop}: how long the guest has to power off before it is ended where it is. */
    record Stop(@JsonProperty("grace_ms") long graceMillis) {
    }

    /** A request that cannot be served: its status and the fault message. */
    private static final class Fault extends Exception {
        final int status;

        Fault(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** Listens on {@code socket} (which must not exist) and serves {@code guest} until {@link #close()}. */
    public static ControlServer start(Path socket, ControlledGuest guest) throws IOException {
        QueuedThreadPool threads = new QueuedThreadPool(8, 1);
        threads.setName("control");
        threads.setDaemon(true);
        Server server = new Server(threads);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server, 1, 1, new HttpConnectionFactory());
        connector.setUnixDomainPath(socket);
        server.addConnector(connector);
        server.setHandler(new Routes(guest));
        try {
            server.start();
        } catch (Exception e) {
            throw new IOException("cannot serve the control API on " + socket + ": " + e.getMessage(), e);
        }
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        return new ControlServer(server);
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "stopping the control API", e);
        }
    }

    private static final class Routes extends Handler.Abstract {
        private final ControlledGuest guest;

        Routes(ControlledGuest guest) {
            this.guest = guest;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            try {
                Reply reply = route(request.getMethod(), request.getHttpURI().getPath(), request);
                send(response, callback, reply.status, reply.contentType, reply.body);
            } catch (Fault fault) {
                sendFault(response, callback, fault.status, fault.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                sendFault(response, callback, 500, "interrupted");
            } catch (RuntimeException | IOException e) {
                LOG.log(System.Logger.Level.ERROR, "control API request failed", e);
                sendFault(response, callback, 500, "internal error: " + e);
            }
            return true;
        }

        private Reply route(String method, String path, Request request) throws Fault, IOException, InterruptedException {
            return switch (method + " " + path) {
                case "GET /" -> Reply.json(guest.describe());
                case "PATCH /vm" -> {
                    VmState state = body(request, VmState.class);
                    switch (String.valueOf(state.state())) {
                        case "Paused" -> guest.pause();
                        case "Resumed" -> guest.resume();
                        default -> throw new Fault(400, "state must be \"Paused\" or \"Resumed\", not " + state.state());
                    }
                    yield Reply.NO_CONTENT;
                }
                case "PUT /actions" -> action(body(request, Action.class));
                case "GET /metrics" -> metrics(Request.extractQueryParameters(request).getValue("format"));
                case "GET /machina/memory" -> memory(Request.extractQueryParameters(request));
                case "PUT /machina/stop" -> {
                    Stop stop = body(request, Stop.class);
                    if (stop.graceMillis() < 0) {
                        throw new Fault(400, "grace_ms must not be negative");
                    }
                    guest.stop(stop.graceMillis());
                    yield Reply.NO_CONTENT;
                }
                default -> throw new Fault(400, "Invalid request method and/or path: " + method + " " + path);
            };
        }

        /** JSON, or with {@code format=prometheus} Prometheus's text format. */
        private Reply metrics(String format) throws Fault, JsonProcessingException {
            if (format == null || format.equals("json")) {
                return Reply.json(guest.statistics());
            }
            if (format.equals("prometheus")) {
                return new Reply(200, PrometheusText.CONTENT_TYPE,
                        PrometheusText.format(guest.statistics()).getBytes(StandardCharsets.UTF_8));
            }
            throw new Fault(400, "format must be json or prometheus, not " + format);
        }

        private Reply action(Action action) throws Fault {
            return switch (String.valueOf(action.actionType())) {
                case "FlushMetrics" -> Reply.NO_CONTENT; // GET /metrics is always current: nothing is buffered
                case "SendCtrlAltDel" -> throw new Fault(400,
                        "SendCtrlAltDel: this machine's i8042 has no keyboard to send it through; PUT /machina/stop powers off through ACPI");
                case "InstanceStart" -> throw new Fault(400, "InstanceStart: the guest is already running");
                default -> throw new Fault(400, "action_type must be FlushMetrics, SendCtrlAltDel or InstanceStart, not " + action.actionType());
            };
        }

        private Reply memory(Fields query) throws Fault {
            long address = number(query, "address");
            long length = number(query, "length");
            if (length <= 0 || length > MAX_MEMORY_READ) {
                throw new Fault(400, "length must be 1 to " + MAX_MEMORY_READ + ", not " + length);
            }
            try {
                return new Reply(200, "application/octet-stream", guest.readMemory(address, (int) length));
            } catch (IllegalArgumentException e) {
                throw new Fault(400, e.getMessage());
            }
        }

        /** A query parameter in decimal or, with 0x, hexadecimal. */
        private static long number(Fields query, String name) throws Fault {
            String value = query.getValue(name);
            if (value == null) {
                throw new Fault(400, "the query parameter " + name + " is missing");
            }
            try {
                return value.startsWith("0x") ? Long.parseUnsignedLong(value.substring(2), 16) : Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new Fault(400, name + " is not a number: " + value);
            }
        }

        private static <T> T body(Request request, Class<T> type) throws Fault, IOException {
            String text = Content.Source.asString(request, StandardCharsets.UTF_8);
            try {
                T value = JSON.readValue(text, type);
                if (value == null) {
                    throw new Fault(400, "the request body must be a JSON object");
                }
                return value;
            } catch (UnrecognizedPropertyException e) {
                throw new Fault(400, "unknown field \"" + e.getPropertyName() + "\" (known: " + String.join(", ",
                        e.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList()) + ")");
            } catch (JsonProcessingException e) {
                throw new Fault(400, text.isBlank() ? "the request needs a JSON body" : "malformed JSON"
                        + (e.getLocation() == null ? "" : " at line %d, column %d".formatted(e.getLocation().getLineNr(), e.getLocation().getColumnNr())));
            }
        }
    }

    private record Reply(int status, String contentType, byte[] body) {
        static final Reply NO_CONTENT = new Reply(204, null, new byte[0]);

        static Reply json(Object value) throws JsonProcessingException {
            return new Reply(200, "application/json", JSON.writeValueAsBytes(value));
        }
    }

    private static void sendFault(Response response, Callback callback, int status, String message) {
        try {
            send(response, callback, status, "application/json", JSON.writeValueAsBytes(Map.of("fault_message", message)));
        } catch (JsonProcessingException e) {
            callback.failed(e);
        }
    }

    private static void send(Response response, Callback callback, int status, String contentType, byte[] body) {
        response.setStatus(status);
        if (contentType != null) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        }
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, body.length == 0 ? BufferUtil.EMPTY_BUFFER : ByteBuffer.wrap(body), callback);
    }
}
