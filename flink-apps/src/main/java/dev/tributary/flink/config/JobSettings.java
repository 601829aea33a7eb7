package dev.tributary.flink.config;

import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Everything the job reads from its runtime properties, parsed and validated in one place.
 * property-groups.json documents these groups and keys; PropertyContractTest keeps the two equal.
 */
public record JobSettings(
        Lake lake,
        EventTime eventTime,
        Duration dedupeTtl,
        String profilesPath,
        SourceSettings source,
        AlertsSinkSettings alerts,
        RuleParameters rules) implements Serializable {

    public static final String JOB = "Job";
    public static final String SOURCE = "Source";
    public static final String KINESIS = "Kinesis";
    public static final String KAFKA = "Kafka";
    public static final String ALERTS = "Alerts";

    public enum SourceType { KINESIS, KAFKA, FILE }

    public enum AlertsSinkType { NONE, KINESIS, KAFKA }

    public enum KafkaAuth { NONE, IAM }

    /** Where views are written, and which output version this run writes ({@code v=<version>}). */
    public record Lake(String root, int version) implements Serializable {
        /** Operator uids and the consumer group carry the version, so a replay never shares state. */
        public String versioned(String name) {
            return name + "-v" + version;
        }
    }

    public record EventTime(Duration maxOutOfOrderness, Duration idleness, Duration allowedLateness)
            implements Serializable {}

    public record KinesisStream(String region, String streamArn) implements Serializable {}

    public record KafkaCluster(String bootstrapServers, KafkaAuth auth, String idPrefix) implements Serializable {}

    /**
     * The event log to read. {@code startTimestamp} (replay) makes Kinesis start AT_TIMESTAMP and Kafka at
     * the offsets for that time; without it Kinesis starts at TRIM_HORIZON and Kafka at the committed offsets
     * of the version's consumer group (earliest when there are none).
     */
    public record SourceSettings(SourceType type, Optional<Instant> startTimestamp, String filePath,
                                 KinesisStream kinesis, Optional<String> efoConsumerName,
                                 KafkaCluster kafka, String kafkaTopic) implements Serializable {}

    /** The alerts log: written at least once, each alert sent as soon as it is detected. */
    public record AlertsSinkSettings(AlertsSinkType type, KinesisStream kinesis, KafkaCluster kafka, String kafkaTopic)
            implements Serializable {}

    public static JobSettings read(JobProperties p) {
        Lake lake = new Lake(
                p.requiredString(JOB, "lake.root", "the lake's root URI, e.g. s3://bucket or file:///tmp/lake"),
                (int) p.longInRange(JOB, "output.version", 1, 1, 9_999));
        EventTime eventTime = new EventTime(
                Duration.ofMillis(p.longInRange(JOB, "watermark.max-out-of-orderness.ms", 5_000, 0, 3_600_000)),
                Duration.ofMillis(p.longInRange(JOB, "watermark.idleness.ms", 60_000, 1_000, 3_600_000)),
                Duration.ofMillis(p.longInRange(JOB, "allowed-lateness.ms", 30_000, 0, 86_400_000)));
        Duration dedupeTtl = Duration.ofHours(p.longInRange(JOB, "dedupe.ttl.hours", 24, 1, 720));
        String profilesPath = p.requiredString(JOB, "profiles.path",
                "the card profile table (NDJSON or CSV file URI)");
        return new JobSettings(lake, eventTime, dedupeTtl, profilesPath, readSource(p), readAlerts(p),
                RuleParameters.read(p));
    }

    private static SourceSettings readSource(JobProperties p) {
        SourceType type = p.requiredChoice(SOURCE, "type", SourceType.class);
        return switch (type) {
            case FILE -> new SourceSettings(type, Optional.empty(),
                    p.requiredString(SOURCE, "file.path", "an NDJSON file or folder URI when Source/type is file"),
                    null, Optional.empty(), null, null);
            case KINESIS -> new SourceSettings(type, p.optionalInstant(SOURCE, "start.timestamp"), null,
                    kinesisStream(p, "stream.arn"), p.optionalString(KINESIS, "efo.consumer.name"), null, null);
            case KAFKA -> new SourceSettings(type, p.optionalInstant(SOURCE, "start.timestamp"), null, null,
                    Optional.empty(), kafkaCluster(p),
                    p.requiredString(KAFKA, "topic", "the source topic when Source/type is kafka"));
        };
    }

    private static AlertsSinkSettings readAlerts(JobProperties p) {
        AlertsSinkType type = p.choice(ALERTS, "sink", AlertsSinkType.class, AlertsSinkType.NONE);
        return switch (type) {
            case NONE -> new AlertsSinkSettings(type, null, null, null);
            case KINESIS -> {
                String region = p.requiredString(KINESIS, "aws.region", "the AWS region, e.g. eu-west-1");
                String arn = p.requiredString(ALERTS, "stream.arn", "the alerts stream ARN when Alerts/sink is kinesis");
                yield new AlertsSinkSettings(type, new KinesisStream(region, arn), null, null);
            }
            case KAFKA -> new AlertsSinkSettings(type, null, kafkaCluster(p),
                    p.requiredString(ALERTS, "topic", "the alerts topic when Alerts/sink is kafka"));
        };
    }

    private static KinesisStream kinesisStream(JobProperties p, String arnKey) {
        return new KinesisStream(
                p.requiredString(KINESIS, "aws.region", "the AWS region, e.g. eu-west-1"),
                p.requiredString(KINESIS, arnKey, "the source stream ARN when Source/type is kinesis"));
    }

    private static KafkaCluster kafkaCluster(JobProperties p) {
        return new KafkaCluster(
                p.requiredString(KAFKA, "bootstrap.servers", "host:port[,host:port...]"),
                p.choice(KAFKA, "auth", KafkaAuth.class, KafkaAuth.NONE),
                p.string(KAFKA, "id.prefix", "tributary-stream"));
    }
}
