package dev.tributary.flink.io;

import dev.tributary.flink.config.JobSettings.KinesisStream;
import dev.tributary.flink.model.ParsedRecord;
import dev.tributary.flink.views.Rows.Alert;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.Properties;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.aws.config.AWSConfigConstants;
import org.apache.flink.connector.kinesis.sink.KinesisStreamsSink;
import org.apache.flink.connector.kinesis.source.KinesisStreamsSource;
import org.apache.flink.connector.kinesis.source.config.KinesisSourceConfigOptions;
import org.apache.flink.connector.kinesis.source.config.KinesisSourceConfigOptions.InitialPosition;
import org.apache.flink.connector.kinesis.source.config.KinesisSourceConfigOptions.ReaderType;

/**
 * The Kinesis source and sink, on flink-connector-aws-kinesis-streams: the FLIP-27
 * {@link KinesisStreamsSource} (polling, or enhanced fan-out when a consumer name is given) and the
 * {@link KinesisStreamsSink}.
 *
 * <p>Endpoint and credentials are the AWS SDK's own: on Managed Flink the application's role; in the
 * sandbox and the tests the SDK's standard settings ({@code AWS_ENDPOINT_URL_KINESIS} or the
 * {@code aws.endpointUrlKinesis} system property, and the usual credential chain), so no property
 * of the job says "local".
 */
public final class KinesisConnectors {
    /** The connector's default STREAM_TIMESTAMP_DATE_FORMAT ({@code source.init.timestamp.format}). */
    private static final DateTimeFormatter START_FORMAT =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);

    /** Pause of the polling reader after a GetRecords call that returned nothing. */
    public static final Duration EMPTY_READ_PAUSE = Duration.ofSeconds(1);

    private KinesisConnectors() {}

    /**
     * The source's configuration, as {@link KinesisStreamsSource} reads it: AT_TIMESTAMP when
     * {@code startTimestamp} is set (a replay), TRIM_HORIZON otherwise (a new job reads the whole
     * retention; a restored job resumes from its checkpointed sequence numbers either way); the EFO
     * reader with a job-managed consumer of {@code efoConsumerName} when given, polling otherwise.
     */
    public static Configuration sourceConfig(KinesisStream stream, Optional<String> efoConsumerName,
                                             Optional<Instant> startTimestamp) {
        Configuration config = new Configuration();
        config.setString(AWSConfigConstants.AWS_REGION, stream.region());
        if (startTimestamp.isPresent()) {
            config.set(KinesisSourceConfigOptions.STREAM_INITIAL_POSITION, InitialPosition.AT_TIMESTAMP);
            config.set(KinesisSourceConfigOptions.STREAM_INITIAL_TIMESTAMP, START_FORMAT.format(startTimestamp.get()));
        } else {
            config.set(KinesisSourceConfigOptions.STREAM_INITIAL_POSITION, InitialPosition.TRIM_HORIZON);
        }
        if (efoConsumerName.isPresent()) {
            config.set(KinesisSourceConfigOptions.READER_TYPE, ReaderType.EFO);
            config.set(KinesisSourceConfigOptions.EFO_CONSUMER_NAME, efoConsumerName.get());
        } else {
            config.set(KinesisSourceConfigOptions.READER_TYPE, ReaderType.POLLING);
            // A shard serves 5 GetRecords calls a second, shared by every polling consumer (the speed layer's
            // event source mapping and the archive's Firehose poll once a second each). The connector's 250 ms
            // pause after an empty read alone would take 4 of them on an idle shard; 1 s keeps the readers
            // together within the quota. A busy shard is read back to back either way.
            config.set(KinesisSourceConfigOptions.READER_EMPTY_RECORDS_FETCH_INTERVAL, EMPTY_READ_PAUSE);
        }
        return config;
    }

    public static KinesisStreamsSource<ParsedRecord> source(KinesisStream stream, Optional<String> efoConsumerName,
                                                          Optional<Instant> startTimestamp,
                                                          DeserializationSchema<ParsedRecord> records) {
        return KinesisStreamsSource.<ParsedRecord>builder()
                .setStreamArn(stream.streamArn())
                .setSourceConfig(sourceConfig(stream, efoConsumerName, startTimestamp))
                .setDeserializationSchema(records)
                .build();
    }

    /** The sink's client properties. */
    public static Properties sinkClientProperties(KinesisStream stream) {
        Properties client = new Properties();
        client.setProperty(AWSConfigConstants.AWS_REGION, stream.region());
        return client;
    }

    /**
     * How long the alerts sink holds a partial batch before it sends it (the connector's default is
     * 5 s). The sink sends a PutRecords request when a full batch is buffered or when the first record
     * buffered has waited this long; alerts are few, so it is nearly always the latter.
     */
    public static final Duration ALERTS_MAX_TIME_IN_BUFFER = Duration.ofMillis(50);

    /**
     * A KinesisStreamsSink partitioned by card, at least once (the connector has no transactions: a
     * checkpoint waits until every buffered and in-flight record is written, and a restore may write
     * some again), sending each alert within {@link #ALERTS_MAX_TIME_IN_BUFFER}.
     */
    public static KinesisStreamsSink<Alert> alertsSink(KinesisStream stream, SerializationSchema<Alert> alerts) {
        return KinesisStreamsSink.<Alert>builder()
                .setKinesisClientProperties(sinkClientProperties(stream))
                .setStreamArn(stream.streamArn())
                .setSerializationSchema(alerts)
                .setPartitionKeyGenerator(Alert::cardId)
                .setMaxTimeInBufferMS(ALERTS_MAX_TIME_IN_BUFFER.toMillis())
                .build();
    }
}
