package dev.tributary.flink.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.kinesisanalytics.runtime.KinesisAnalyticsRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Local runs read a JSON file; Managed Flink reads its runtime properties; both in the same shape. */
class ApplicationPropertiesTest {
    static final String FILE = """
            [
              {"PropertyGroupId": "Job", "PropertyMap": {"lake.root": "s3://lake", "output.version": "2"}},
              {"PropertyGroupId": "Source", "PropertyMap": {"type": "kafka", "start.timestamp": "2026-11-21T00:00:00Z"}}
            ]
            """;

    @TempDir
    Path dir;

    @Test
    void theLocalFileReadsLikeManagedFlinkReadsTheSameDocument() throws Exception {
        Path file = dir.resolve("properties.json");
        Files.writeString(file, FILE);

        Map<String, Properties> local = ApplicationProperties.fromLocalFile(file);

        assertThat(local).containsOnlyKeys("Job", "Source");
        assertThat(local.get("Job").getProperty("output.version")).isEqualTo("2");
        assertThat(local).isEqualTo(KinesisAnalyticsRuntime.getApplicationProperties(file.toString()));
    }

    @Test
    void withPropertiesFlagTheLocalFileIsUsedAndTheManagedRuntimeIsNotAsked() throws Exception {
        Path file = dir.resolve("properties.json");
        Files.writeString(file, FILE);
        AtomicBoolean managedAsked = new AtomicBoolean();

        Map<String, Properties> groups = ApplicationProperties.load(
                LaunchOptions.parse(new String[] {"--properties", file.toString()}),
                () -> { managedAsked.set(true); return Map.of(); });

        assertThat(managedAsked).isFalse();
        assertThat(groups.get("Source").getProperty("type")).isEqualTo("kafka");
    }

    @Test
    void withoutArgumentsTheManagedRuntimePropertiesAreUsed() {
        Map<String, Properties> managed = Map.of("Job", new Properties());

        LaunchOptions options = LaunchOptions.parse(new String[0]);

        assertThat(options.isLocal()).isFalse();
        assertThat(ApplicationProperties.load(options, () -> managed)).isSameAs(managed);
    }

    @Test
    void aMalformedLocalFileIsRejectedWithItsShape() throws Exception {
        Path file = dir.resolve("properties.json");
        Files.writeString(file, "{\"Job\": {\"lake.root\": \"s3://lake\"}}");

        assertThatThrownBy(() -> ApplicationProperties.fromLocalFile(file))
                .isInstanceOf(InvalidPropertyException.class)
                .hasMessageContaining("PropertyGroupId");
    }

    @Test
    void unknownArgumentsAreRejected() {
        assertThatThrownBy(() -> LaunchOptions.parse(new String[] {"--lake", "x"}))
                .hasMessageContaining("Unknown argument '--lake'");
        assertThatThrownBy(() -> LaunchOptions.parse(new String[] {"--properties"}))
                .hasMessageContaining("--properties needs a value");
    }
}
