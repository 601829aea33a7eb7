package dev.tributary.flink.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tributary.flink.testing.JobHarness;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Invalid properties stop the job with a message naming the group, the key, the value and what is allowed. */
class JobPropertiesTest {
    static Map<String, Properties> validFileJob() {
        return JobHarness.fileJob(Path.of("/in.ndjson"), Path.of("/lake"), Path.of("/profiles.csv"));
    }

    static JobSettings read(Map<String, Properties> groups) {
        return JobSettings.read(new JobProperties(groups));
    }

    @Test
    void defaultsApplyWhenOptionalKeysAreAbsent() {
        JobSettings settings = read(validFileJob());

        assertThat(settings.lake().version()).isEqualTo(1);
        assertThat(settings.eventTime().allowedLateness()).isEqualTo(Duration.ofSeconds(30));
        assertThat(settings.alerts().type()).isEqualTo(JobSettings.AlertsSinkType.NONE);
        assertThat(settings.lake().versioned("dedupe")).isEqualTo("dedupe-v1");
    }

    @Test
    void aMissingRequiredKeyIsNamed() {
        Map<String, Properties> groups = validFileJob();
        groups.get("Job").remove("lake.root");

        assertThatThrownBy(() -> read(groups)).isInstanceOf(InvalidPropertyException.class)
                .hasMessageContaining("Property group 'Job', key 'lake.root' is required but missing");
    }

    @Test
    void aConditionallyRequiredKeyIsNamedWhenItsSelectionIsMade() {
        Map<String, Properties> groups = validFileJob();
        groups.get("Source").setProperty("type", "kafka");

        assertThatThrownBy(() -> read(groups))
                .hasMessageContaining("Property group 'Kafka', key 'bootstrap.servers' is required but missing");
    }

    @Test
    void anUnknownChoiceListsTheAllowedValues() {
        Map<String, Properties> groups = validFileJob();
        groups.get("Source").setProperty("type", "kinesiss");

        assertThatThrownBy(() -> read(groups)).hasMessage("Property group 'Source', key 'type' has value 'kinesiss' "
                + "which is not allowed; expected one of [kinesis, kafka, file]");
    }

    @Test
    void numbersAndInstantsAreValidated() {
        Map<String, Properties> badVersion = validFileJob();
        badVersion.get("Job").setProperty("output.version", "two");
        assertThatThrownBy(() -> read(badVersion)).hasMessageContaining("key 'output.version' has value 'two'");

        Map<String, Properties> badStart = validFileJob();
        badStart.get("Source").setProperty("type", "kafka");
        badStart.get("Source").setProperty("start.timestamp", "yesterday");
        badStart.put("Kafka", JobHarness.properties("bootstrap.servers", "b-1:9098", "topic", "transactions"));
        assertThatThrownBy(() -> read(badStart)).hasMessageContaining("key 'start.timestamp' has value 'yesterday'")
                .hasMessageContaining("ISO-8601");
    }

    @Test
    void replaySettingsDeriveVersionedIdentities() {
        Map<String, Properties> groups = validFileJob();
        groups.get("Job").setProperty("output.version", "3");
        groups.get("Source").setProperty("type", "kafka");
        groups.get("Source").setProperty("start.timestamp", "2026-11-21T06:00:00Z");
        groups.put("Kafka", JobHarness.properties("bootstrap.servers", "b-1:9098", "topic", "transactions",
                "auth", "IAM"));

        JobSettings settings = read(groups);

        assertThat(settings.source().startTimestamp()).contains(Instant.parse("2026-11-21T06:00:00Z"));
        assertThat(settings.source().kafka().auth()).isEqualTo(JobSettings.KafkaAuth.IAM);
        assertThat(settings.lake().versioned(settings.source().kafka().idPrefix())).isEqualTo("tributary-stream-v3");
    }
}
