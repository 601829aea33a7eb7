package dev.tributary.flink.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LaunchOptionsTest {
    @Test
    void managedFlinkPassesNothing() {
        LaunchOptions options = LaunchOptions.parse(new String[0]);
        assertThat(options.isLocal()).isFalse();
        assertThat(options.checkpointDir()).isEmpty();
        assertThat(options.latestCheckpoint()).isEmpty();
    }

    @Test
    void localRunTakesCheckpointDirAndInterval() {
        LaunchOptions options = LaunchOptions.parse(new String[] {
            "--properties", "p.json", "--checkpoints", "ckpt", "--checkpoint-interval-ms", "2500"});
        assertThat(options.isLocal()).isTrue();
        assertThat(options.checkpointDir()).contains(Path.of("ckpt").toAbsolutePath());
        assertThat(options.checkpointInterval()).isEqualTo(Duration.ofMillis(2500));
        assertThat(LaunchOptions.parse(new String[] {"--properties", "p.json"}).checkpointInterval())
                .isEqualTo(LaunchOptions.DEFAULT_LOCAL_CHECKPOINT_INTERVAL);
    }

    @Test
    void rejectsUnknownMissingAndOutOfRangeArguments() {
        assertThatThrownBy(() -> LaunchOptions.parse(new String[] {"--nope", "x"}))
                .hasMessageContaining("Unknown argument '--nope'");
        assertThatThrownBy(() -> LaunchOptions.parse(new String[] {"--properties"})).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> LaunchOptions.parse(new String[] {"--properties", "p", "--checkpoint-interval-ms", "10"}))
                .hasMessageContaining("100..3600000");
        assertThatThrownBy(() -> LaunchOptions.parse(new String[] {"--checkpoints", "c"}))
                .hasMessageContaining("needs --properties");
    }

    @Test
    void restoresFromTheNewestCompleteCheckpoint(@TempDir Path dir) throws Exception {
        Path older = complete(dir.resolve("job-a/chk-7"), Instant.parse("2026-11-01T00:00:00Z"));
        Path newer = complete(dir.resolve("job-b/chk-3"), Instant.parse("2026-11-02T00:00:00Z"));
        Files.createDirectories(dir.resolve("job-b/chk-4")); // in progress: no _metadata yet
        LaunchOptions options = LaunchOptions.parse(new String[] {"--properties", "p", "--checkpoints", dir.toString()});
        assertThat(options.latestCheckpoint()).contains(newer);
        assertThat(older).isNotEqualTo(newer);
    }

    @Test
    void noCheckpointYetMeansAFreshStart(@TempDir Path dir) {
        LaunchOptions options = LaunchOptions.parse(new String[] {
            "--properties", "p", "--checkpoints", dir.resolve("missing").toString()});
        assertThat(options.latestCheckpoint()).isEmpty();
    }

    private static Path complete(Path checkpoint, Instant at) throws Exception {
        Files.createDirectories(checkpoint);
        Path metadata = Files.writeString(checkpoint.resolve("_metadata"), "x");
        Files.setLastModifiedTime(metadata, FileTime.from(at));
        return checkpoint;
    }
}
