package dev.machina.vmm.config;

/** A guest configuration that cannot be used; the message names the file or flag, the key and the problem. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
