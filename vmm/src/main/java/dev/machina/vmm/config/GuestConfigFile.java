package dev.machina.vmm.config;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * Reads guest.cfg: one JSON object (comments allowed, duplicate keys not) whose keys are
 * {@link ConfigKey}s. A repeatable key takes a string or a list of strings.
 */
public final class GuestConfigFile {
    public static final String NAME = "guest.cfg";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.ALLOW_COMMENTS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

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
            throw source.error("cannot read: " + e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonParseException e) {
            throw source.error("malformed JSON at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw source.error("malformed JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw source.error("expected a JSON object of settings, found " + (root == null ? "nothing" : ValueType.describe(root)));
        }
        return root;
    }

    private static Object parse(ConfigKey key, JsonNode node, boolean orList, ConfigSource source) {
        try {
            return key.type().parse(node, orList);
        } catch (IllegalArgumentException e) {
            throw source.error(key, e.getMessage());
        }
    }
}
