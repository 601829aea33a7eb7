package dev.tributary.flink.config;

import com.amazonaws.services.kinesisanalytics.runtime.KinesisAnalyticsRuntime;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;

/**
 * Loads the runtime property groups. On Managed Flink they come from the application's runtime
 * properties through {@link KinesisAnalyticsRuntime}; anywhere else from a local JSON file of the
 * same shape: an array of {@code {"PropertyGroupId": ..., "PropertyMap": {...}}}.
 */
public final class ApplicationProperties {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ApplicationProperties() {}

    /** The local file when one is given (local run, sandbox, tests), the managed runtime's groups otherwise. */
    public static Map<String, Properties> load(LaunchOptions options) {
        return load(options, ApplicationProperties::fromManagedRuntime);
    }

    static Map<String, Properties> load(LaunchOptions options, Supplier<Map<String, Properties>> managedRuntime) {
        return options.localPropertiesFile().map(ApplicationProperties::fromLocalFile).orElseGet(managedRuntime);
    }

    public static Map<String, Properties> fromManagedRuntime() {
        try {
            return KinesisAnalyticsRuntime.getApplicationProperties();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read Managed Flink's runtime properties", e);
        }
    }

    public static Map<String, Properties> fromLocalFile(Path file) {
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the local property file " + file, e);
        }
        if (root == null || !root.isArray()) {
            throw new InvalidPropertyException(file + " must hold a JSON array of {PropertyGroupId, PropertyMap}");
        }
        Map<String, Properties> groups = new LinkedHashMap<>();
        for (JsonNode group : root) {
            JsonNode id = group.get("PropertyGroupId");
            JsonNode map = group.get("PropertyMap");
            if (id == null || !id.isTextual() || map == null || !map.isObject()) {
                throw new InvalidPropertyException(file + ": every entry needs a string PropertyGroupId and an "
                        + "object PropertyMap, found " + group);
            }
            Properties properties = groups.computeIfAbsent(id.textValue(), unused -> new Properties());
            map.fields().forEachRemaining(entry -> properties.setProperty(entry.getKey(), entry.getValue().asText()));
        }
        return groups;
    }
}
