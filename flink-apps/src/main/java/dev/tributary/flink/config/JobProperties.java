package dev.tributary.flink.config;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Typed, validated access to the runtime property groups. Every key the job reads goes through
 * here and is remembered, so a test can prove that property-groups.json lists exactly what the job
 * reads.
 */
public final class JobProperties {
    private final Map<String, Properties> groups;
    private final Set<PropertyKey> keysRead = new TreeSet<>();

    public JobProperties(Map<String, Properties> groups) {
        this.groups = groups;
    }

    /** The group/key pairs read so far, present or not. */
    public Set<PropertyKey> keysRead() {
        return Collections.unmodifiableSet(keysRead);
    }

    public Optional<String> optionalString(String group, String key) {
        keysRead.add(new PropertyKey(group, key));
        Properties properties = groups.get(group);
        String value = properties == null ? null : properties.getProperty(key);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }

    public String requiredString(String group, String key, String description) {
        return optionalString(group, key).orElseThrow(() -> InvalidPropertyException.missing(group, key, description));
    }

    public String string(String group, String key, String defaultValue) {
        return optionalString(group, key).orElse(defaultValue);
    }

    public long longInRange(String group, String key, long defaultValue, long min, long max) {
        Optional<String> text = optionalString(group, key);
        return text.isEmpty() ? defaultValue : parseLong(group, key, text.get(), min, max);
    }

    public long requiredLongInRange(String group, String key, long min, long max) {
        Optional<String> text = optionalString(group, key);
        if (text.isEmpty()) {
            throw InvalidPropertyException.missing(group, key, "an integer from " + min + " to " + max);
        }
        return parseLong(group, key, text.get(), min, max);
    }

    private static long parseLong(String group, String key, String text, long min, long max) {
        String allowed = "an integer from " + min + " to " + max;
        long value;
        try {
            value = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw InvalidPropertyException.invalid(group, key, text, allowed);
        }
        if (value < min || value > max) {
            throw InvalidPropertyException.invalid(group, key, text, allowed);
        }
        return value;
    }

    public <E extends Enum<E>> E choice(String group, String key, Class<E> choices, E defaultValue) {
        Optional<String> text = optionalString(group, key);
        return text.isEmpty() ? defaultValue : parseChoice(group, key, text.get(), choices);
    }

    public <E extends Enum<E>> E requiredChoice(String group, String key, Class<E> choices) {
        Optional<String> text = optionalString(group, key);
        if (text.isEmpty()) {
            throw InvalidPropertyException.missing(group, key, "one of " + allowedNames(choices));
        }
        return parseChoice(group, key, text.get(), choices);
    }

    public Optional<Instant> optionalInstant(String group, String key) {
        return optionalString(group, key).map(text -> {
            try {
                return Instant.parse(text);
            } catch (DateTimeParseException e) {
                throw InvalidPropertyException.invalid(group, key, text,
                        "an ISO-8601 UTC instant such as 2026-11-21T10:15:30Z");
            }
        });
    }

    private static <E extends Enum<E>> E parseChoice(String group, String key, String text, Class<E> choices) {
        for (E choice : choices.getEnumConstants()) {
            if (choice.name().toLowerCase(Locale.ROOT).equals(text.toLowerCase(Locale.ROOT))) {
                return choice;
            }
        }
        throw InvalidPropertyException.invalid(group, key, text, "one of " + allowedNames(choices));
    }

    private static <E extends Enum<E>> String allowedNames(Class<E> choices) {
        return Arrays.stream(choices.getEnumConstants())
                .map(choice -> choice.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", ", "[", "]"));
    }
}
