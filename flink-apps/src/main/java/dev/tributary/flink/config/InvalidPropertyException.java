package dev.tributary.flink.config;

/** A runtime property that is missing or has a value the job cannot use; the message names group, key and value. */
public class InvalidPropertyException extends IllegalArgumentException {
    public InvalidPropertyException(String message) {
        super(message);
    }

    static InvalidPropertyException missing(String group, String key, String allowed) {
        return new InvalidPropertyException("Property group '" + group + "', key '" + key
                + "' is required but missing; expected " + allowed);
    }

    static InvalidPropertyException invalid(String group, String key, String value, String allowed) {
        return new InvalidPropertyException("Property group '" + group + "', key '" + key + "' has value '"
                + value + "' which is not allowed; expected " + allowed);
    }
}
