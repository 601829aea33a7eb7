package dev.tributary.flink.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tributary.flink.TributaryStreamJob;
import dev.tributary.flink.testing.JobHarness;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * property-groups.json is the contract the CDK side is tested against. The job must read exactly
 * the keys it lists (both ways), and its defaults and allowed values must be the job's own.
 */
class PropertyContractTest {
    static JsonNode contract;

    @BeforeAll
    static void readContract() throws Exception {
        contract = new ObjectMapper().readTree(Path.of("property-groups.json").toFile()).get("propertyGroups");
    }

    static Set<PropertyKey> contractKeys() {
        Set<PropertyKey> keys = new TreeSet<>();
        contract.forEach(group -> group.get("properties").forEach(p ->
                keys.add(new PropertyKey(group.get("propertyGroupId").asText(), p.get("key").asText()))));
        return keys;
    }

    /** Every source and sink selection the job supports, with every optional key set. */
    static List<Map<String, Properties>> everySelection() {
        Map<String, Properties> fileToLakeOnly =
                JobHarness.fileJob(Path.of("/in.ndjson"), Path.of("/lake"), Path.of("/profiles.csv"));

        Map<String, Properties> kafkaReplay = JobHarness.fileJob(Path.of("/in"), Path.of("/lake"), Path.of("/p.csv"));
        kafkaReplay.get("Job").putAll(JobHarness.properties("output.version", "2", "dedupe.ttl.hours", "48",
                "watermark.max-out-of-orderness.ms", "2000", "watermark.idleness.ms", "30000",
                "allowed-lateness.ms", "60000"));
        kafkaReplay.put("Source", JobHarness.properties("type", "kafka", "start.timestamp", "2026-11-21T00:00:00Z"));
        kafkaReplay.put("Kafka", JobHarness.properties("bootstrap.servers", "b-1:9098", "topic", "transactions",
                "auth", "iam", "id.prefix", "fraud"));
        kafkaReplay.put("Alerts", JobHarness.properties("sink", "kafka", "topic", "alerts"));

        Map<String, Properties> kinesisEfo = JobHarness.fileJob(Path.of("/in"), Path.of("/lake"), Path.of("/p.csv"));
        kinesisEfo.put("Source", JobHarness.properties("type", "kinesis", "start.timestamp", "2026-11-21T00:00:00Z"));
        kinesisEfo.put("Kinesis", JobHarness.properties("aws.region", "eu-west-1",
                "stream.arn", "arn:aws:kinesis:eu-west-1:111122223333:stream/transactions",
                "efo.consumer.name", "tributary-stream"));
        kinesisEfo.put("Alerts", JobHarness.properties("sink", "kinesis",
                "stream.arn", "arn:aws:kinesis:eu-west-1:111122223333:stream/alerts"));
        return List.of(fileToLakeOnly, kafkaReplay, kinesisEfo);
    }

    /** Builds the job graph as main() does and returns the keys read on the way. */
    static Set<PropertyKey> keysReadBuilding(Map<String, Properties> groups) {
        JobProperties recording = new JobProperties(groups);
        TributaryStreamJob.build(StreamExecutionEnvironment.getExecutionEnvironment(), recording);
        return recording.keysRead();
    }

    @Test
    void theJobReadsExactlyTheContractsKeys() {
        Set<PropertyKey> read = new TreeSet<>();
        everySelection().forEach(groups -> read.addAll(keysReadBuilding(groups)));

        Set<PropertyKey> undocumented = new TreeSet<>(read);
        undocumented.removeAll(contractKeys());
        Set<PropertyKey> neverRead = new TreeSet<>(contractKeys());
        neverRead.removeAll(read);

        assertThat(undocumented).as("keys the job reads that property-groups.json lacks").isEmpty();
        assertThat(neverRead).as("keys property-groups.json lists that the job never reads").isEmpty();
    }

    @Test
    void theContractsDefaultsAreTheJobsDefaults() {
        for (Map<String, Properties> groups : everySelection().subList(0, 2)) {
            Map<String, Properties> minimal = withoutKeysThatHaveDefaults(groups);
            Map<String, Properties> explicit = withoutKeysThatHaveDefaults(groups);
            forEachProperty(p -> {
                Properties group = explicit.computeIfAbsent(p.group, g -> new Properties());
                if (p.property.has("default") && !group.containsKey(p.property.get("key").asText())) {
                    group.setProperty(p.property.get("key").asText(), p.property.get("default").asText());
                }
            });
            assertThat(JobSettings.read(new JobProperties(minimal)))
                    .isEqualTo(JobSettings.read(new JobProperties(explicit)));
        }
    }

    @Test
    void theContractsAllowedValuesAreTheJobsChoices() {
        assertThat(allowed("Source", "type")).isEqualTo(names(JobSettings.SourceType.values()));
        assertThat(allowed("Alerts", "sink")).isEqualTo(names(JobSettings.AlertsSinkType.values()));
        assertThat(allowed("Kafka", "auth")).isEqualTo(names(JobSettings.KafkaAuth.values()));
    }

    @Test
    void everyEntryIsDocumented() {
        forEachProperty(p -> {
            assertThat(p.property.get("description").asText()).as("description of %s", p.property).isNotBlank();
            assertThat(p.property.get("required").isBoolean()).as("required of %s", p.property).isTrue();
            if (p.property.get("required").asBoolean()) {
                assertThat(p.property.has("default")).as("a required key has no default: %s", p.property).isFalse();
            }
        });
    }

    private record ContractEntry(String group, JsonNode property) {}

    private static void forEachProperty(Consumer<ContractEntry> action) {
        contract.forEach(group -> group.get("properties").forEach(p ->
                action.accept(new ContractEntry(group.get("propertyGroupId").asText(), p))));
    }

    private static Map<String, Properties> withoutKeysThatHaveDefaults(Map<String, Properties> groups) {
        Map<String, Properties> copy = new java.util.LinkedHashMap<>();
        groups.forEach((group, properties) -> {
            Properties kept = new Properties();
            kept.putAll(properties);
            copy.put(group, kept);
        });
        forEachProperty(p -> {
            boolean selectsAlertsSink = p.group.equals("Alerts") && p.property.get("key").asText().equals("sink");
            if (p.property.has("default") && !selectsAlertsSink && copy.containsKey(p.group)) {
                copy.get(p.group).remove(p.property.get("key").asText());
            }
        });
        return copy;
    }

    private static List<String> allowed(String group, String key) {
        List<String> values = new ArrayList<>();
        forEachProperty(p -> {
            if (p.group.equals(group) && p.property.get("key").asText().equals(key)) {
                p.property.get("allowed").forEach(v -> values.add(v.asText()));
            }
        });
        return values;
    }

    private static List<String> names(Enum<?>[] values) {
        return Arrays.stream(values).map(v -> v.name().toLowerCase(Locale.ROOT)).toList();
    }
}
