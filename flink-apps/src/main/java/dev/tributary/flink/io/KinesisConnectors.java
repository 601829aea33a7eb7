package dev.tributary.flink.io;

import dev.tributary.flink.config.JobSettings.KinesisStream;
import dev.tributary.flink.model.ParsedRecord;
import dev.tributary.flink.views.Rows.Alert;
import java.time.Instant;
import java.util.Optional;
import java.util.ServiceLoader;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;

/**
 * The Kinesis source and sink, found through {@link ServiceLoader} so the job compiles without
 * flink-connector-aws-kinesis-streams: the implementation lives in {@code src/kinesis/java} and is
 * built into the jar by {@code mvn -Pkinesis package} (see docs/flink-jobs.md for why it is a profile).
 */
public interface KinesisConnectors {
    /** A KinesisStreamsSource; AT_TIMESTAMP when {@code startTimestamp} is set, TRIM_HORIZON otherwise. */
    Source<ParsedRecord, ?, ?> source(KinesisStream stream, Optional<String> efoConsumerName,
                                      Optional<Instant> startTimestamp, DeserializationSchema<ParsedRecord> records);

    /** A KinesisStreamsSink partitioned by card. */
    Sink<Alert> alertsSink(KinesisStream stream, SerializationSchema<Alert> alerts);

    static KinesisConnectors load() {
        return ServiceLoader.load(KinesisConnectors.class).findFirst().orElseThrow(() -> new IllegalStateException(
                "Kinesis was selected in the runtime properties, but this jar was built without the Kinesis "
                        + "connector; build it with 'mvn -Pkinesis package'"));
    }
}
