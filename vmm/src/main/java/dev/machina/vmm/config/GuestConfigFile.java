package dev.machina.vmm.config;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.machina.hypervisor.os.FileErrors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * Reads guest.cfg: one JSON object (comments allowed, duplicate keys not, nothing after it but
 * whitespace and comments) whose keys are {@link ConfigKey}s, in UTF-8 with or without a
 * byte-order mark. A repeatable key takes a string or a list of strings.
 */
public final class GuestConfigFile {
    public static final String NAME = "guest.cfg";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.ALLOW_COMMENTS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            // A second object after the first ({...} {"cpus": 1000}) is a mistake, not a comment.
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    /** Editors on some systems start UTF-8 files with one; it says nothing about the settings. */
    private static final char BYTE_ORDER_MARK = '\uFEFF';

    private GuestConfigFile() {
    }

    /**
     * Reads {@code source}'s file into new values.
     *
     * @param file the guest.cfg to read
     * @throws ConfigException naming the file, and the key where there is one, for any problem
     */
    public static ConfigValues read(Path file, ConfigSource source) {
        ConfigValues values = new ConfigValues(source);
        JsonNode root = parse(file, source);
        for (Iterator<Map.Entry<String, JsonNode>> fields = root.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            ConfigKey key = ConfigKey.named(field.getKey()).orElseThrow(() -> source.error("unknown key \""
                    + field.getKey() + "\" (known: " + String.join(", ", Arrays.stream(ConfigKey.values()).map(ConfigKey::key).toList()) + ")"));
            JsonNode node = field.getValue();
            if (key.repeatable() && node.isArray()) {
                for (JsonNode element : node) {
                    values.put(key, parse(key, element, false, source), source);
                }
            } else {
                values.put(key, parse(key, node, key.repeatable(), source), source);
            }
        }
        return values;
    }

    private static JsonNode parse(Path file, ConfigSource source) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw source.error("cannot read: " + FileErrors.reason(e));
        }
        if (!text.isEmpty() && text.charAt(0) == BYTE_ORDER_MARK) {
            text = text.substring(1);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonEOFException e) {
            // Jackson's own words here name its internal token types and source descriptions.
            String open = e.getOriginalMessage().contains("marker for Object") ? "before the closing } of an object"
                    : e.getOriginalMessage().contains("marker for Array") ? "before the closing ] of a list" : "inside a value";
            throw source.error("malformed JSON: the file ends " + open + at(e));
        } catch (JsonParseException e) {
            throw source.error("malformed JSON" + at(e) + ": " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            String trailing = e.getOriginalMessage().startsWith("Trailing token") ? "text after the settings' closing }"
                    : e.getOriginalMessage();
            throw source.error("malformed JSON" + at(e) + ": " + trailing);
        }
        if (root == null || root.isMissingNode()) {
            throw source.error("is empty: expected a JSON object of settings such as {\"linux\": \"vmlinuz\"}");
        }
        if (!root.isObject()) {
            throw source.error("expected a JSON object of settings, found " + ValueType.describe(root));
        }
        return root;
    }

    private static String at(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    }

    private static Object parse(ConfigKey key, JsonNode node, boolean orList, ConfigSource source) {
        try {
            return key.type().parse(node, orList);
        } catch (IllegalArgumentException e) {
            throw source.error(key, e.getMessage());
        }
    }
}
