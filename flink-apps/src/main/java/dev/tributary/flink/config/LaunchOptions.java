package dev.tributary.flink.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The job's command-line arguments. Managed Flink passes none; a local run (the sandbox, tests,
 * benchmarks) passes {@code --properties <file>} to read its property groups from a JSON file, and
 * may pass {@code --checkpoints <dir>} so that its checkpoints are kept there and a restart resumes
 * from the newest one, as Managed Flink resumes from its latest snapshot, and
 * {@code --checkpoint-interval-ms <n>} (Managed Flink sets the interval itself).
 */
public record LaunchOptions(Optional<Path> localPropertiesFile, Optional<Path> checkpointDir, Duration checkpointInterval) {
    public static final String PROPERTIES_FLAG = "--properties";
    public static final String CHECKPOINTS_FLAG = "--checkpoints";
    public static final String INTERVAL_FLAG = "--checkpoint-interval-ms";
    /** A local run's checkpoint interval unless given: the file sink commits views once per checkpoint. */
    public static final Duration DEFAULT_LOCAL_CHECKPOINT_INTERVAL = Duration.ofSeconds(10);

    public static LaunchOptions parse(String[] args) {
        Optional<Path> file = Optional.empty();
        Optional<Path> checkpoints = Optional.empty();
        Duration interval = DEFAULT_LOCAL_CHECKPOINT_INTERVAL;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (!PROPERTIES_FLAG.equals(flag) && !CHECKPOINTS_FLAG.equals(flag) && !INTERVAL_FLAG.equals(flag)) {
                throw new IllegalArgumentException("Unknown argument '" + flag + "'; a run outside Managed Flink takes "
                        + PROPERTIES_FLAG + " <file> [" + CHECKPOINTS_FLAG + " <dir>] [" + INTERVAL_FLAG + " <ms>]");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            String value = args[++i];
            switch (flag) {
                case PROPERTIES_FLAG -> file = Optional.of(Path.of(value));
                case CHECKPOINTS_FLAG -> checkpoints = Optional.of(Path.of(value).toAbsolutePath());
                default -> interval = parseInterval(value);
            }
        }
        if (file.isEmpty() && (checkpoints.isPresent() || interval != DEFAULT_LOCAL_CHECKPOINT_INTERVAL)) {
            throw new IllegalArgumentException(CHECKPOINTS_FLAG + " and " + INTERVAL_FLAG + " are for a local run, which needs "
                    + PROPERTIES_FLAG + " <file>");
        }
        return new LaunchOptions(file, checkpoints, interval);
    }

    private static Duration parseInterval(String value) {
        try {
            long millis = Long.parseLong(value);
            if (millis >= 100 && millis <= 3_600_000) {
                return Duration.ofMillis(millis);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(INTERVAL_FLAG + " must be a whole number of milliseconds in 100..3600000, not '"
                + value + "'");
    }

    public boolean isLocal() {
        return localPropertiesFile.isPresent();
    }

    /**
     * The newest complete checkpoint under the checkpoint directory ({@code <dir>/<job id>/chk-<n>/_metadata}),
     * to restore from. A checkpoint is complete once its {@code _metadata} exists; Flink keeps only the
     * newest one per job (state.checkpoints.num-retained = 1), so this is the one a restart resumes from.
     */
    public Optional<Path> latestCheckpoint() {
        if (checkpointDir.isEmpty() || !Files.isDirectory(checkpointDir.get())) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.find(checkpointDir.get(), 3,
                (path, attributes) -> attributes.isRegularFile() && path.getFileName().toString().equals("_metadata")
                        && path.getParent().getFileName().toString().startsWith("chk-"))) {
            return files.max(Comparator.comparing(LaunchOptions::modified)).map(Path::getParent);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot look for checkpoints in " + checkpointDir.get(), e);
        }
    }

    private static FileTime modified(Path path) {
        try {
            return Files.getLastModifiedTime(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
