package dev.machina.vmm.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.machina.hypervisor.Backends;

import java.util.List;
import java.util.Locale;

/** What a configuration key holds, parsed the same way from guest.cfg and from a flag. */
enum ValueType {
    PATH("a file path"),
    TEXT("a string"),
    COUNT("a positive whole number"),
    SIZE("a size such as \"512M\""),
    SWITCH("true or false"),
    BLOCK("a block device \"path[,ro|rw|volatile][,raw|qcow]\""),
    NET("a network device \"tap:IFNAME[,mac=XX:XX:XX:XX:XX:XX]\""),
    BACKEND("one of auto, kvm, java");

    private static final List<String> BACKENDS = List.of(Backends.AUTO, Backends.KVM, Backends.JAVA);

    private final String expected;

    ValueType(String expected) {
        this.expected = expected;
    }

    /** What a value must look like, for error messages and help. */
    String expected() {
        return expected;
    }

    /**
     * Parses a value written as text (a flag, or a JSON string).
     *
     * @throws IllegalArgumentException saying what is wrong with {@code text}
     */
    Object parse(String text) {
        return switch (this) {
            case PATH -> {
                if (text.isBlank()) {
                    throw new IllegalArgumentException("the path is empty");
                }
                yield text;
            }
            case TEXT -> {
                if (text.indexOf('\0') >= 0) {
                    // The boot protocol hands the kernel a C string: it would stop reading there.
                    throw new IllegalArgumentException("contains a NUL character at %d, where the kernel would stop reading"
                            .formatted(text.indexOf('\0')));
                }
                yield text;
            }
            case COUNT -> parseCount(text);
            case SIZE -> ByteSize.parse(text);
            case SWITCH -> switch (text.strip().toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new IllegalArgumentException('"' + text + "\" is not " + expected);
            };
            case BLOCK -> BlockSpec.parse(text);
            case NET -> NetSpec.parse(text);
            case BACKEND -> {
                String name = text.strip().toLowerCase(Locale.ROOT);
                if (!BACKENDS.contains(name)) {
                    throw new IllegalArgumentException('"' + text + "\" is not " + expected);
                }
                yield name;
            }
        };
    }

    /**
     * Parses a JSON value, which must have the JSON type this value is written with; {@code orList}
     * says, for the error, that a list of such values would do too.
     */
    Object parse(JsonNode node, boolean orList) {
        boolean fits = switch (this) {
            case COUNT -> node.isIntegralNumber();
            case SIZE -> node.isTextual() || node.isIntegralNumber();
            case SWITCH -> node.isBoolean();
            default -> node.isTextual();
        };
        if (!fits) {
            throw new IllegalArgumentException("expected " + expected + (orList ? " or a list of them" : "")
                    + ", found " + describe(node));
        }
        return parse(node.asText());
    }

    private Object parseCount(String text) {
        try {
            int count = Integer.parseInt(text.strip());
            if (count > 0) {
                return count;
            }
        } catch (NumberFormatException e) {
            // Reported below with the text as written.
        }
        throw new IllegalArgumentException('"' + text + "\" is not " + expected);
    }

    static String describe(JsonNode node) {
        return switch (node.getNodeType()) {
            case STRING -> "the string " + node;
            case NUMBER -> "the number " + node;
            case BOOLEAN -> node.asText();
            case ARRAY -> "a list";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }
}
