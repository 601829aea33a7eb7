package dev.tributary.flink.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The job's command-line arguments. Managed Flink passes none; a local run passes
 * {@code --properties <file>} to read its property groups from a JSON file instead.
 */
public record LaunchOptions(Optional<Path> localPropertiesFile) {
    public static final String PROPERTIES_FLAG = "--properties";

    public static LaunchOptions parse(String[] args) {
        Optional<Path> file = Optional.empty();
        for (int i = 0; i < args.length; i++) {
            if (PROPERTIES_FLAG.equals(args[i])) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(PROPERTIES_FLAG + " needs a file path");
                }
                file = Optional.of(Path.of(args[++i]));
            } else {
                throw new IllegalArgumentException("Unknown argument '" + args[i] + "'; the only argument is "
                        + PROPERTIES_FLAG + " <file> for a run outside Managed Flink");
            }
        }
        return new LaunchOptions(file);
    }

    public boolean isLocal() {
        return localPropertiesFile.isPresent();
    }
}
