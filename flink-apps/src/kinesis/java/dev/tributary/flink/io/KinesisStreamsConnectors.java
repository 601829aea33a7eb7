package dev.tributary.flink.io;

import dev.tributary.flink.config.JobSettings.KinesisStream;
import dev.tributary.flink.model.ParsedRecord;
import dev.tributary.flink.views.Rows.Alert;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.Properties;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kinesis.sink.KinesisStreamsSink;
import org.apache.flink.connector.kinesis.source.KinesisStreamsSource;
import org.apache.flink.connector.kinesis.source.config.KinesisSourceConfigOptions;
import org.apache.flink.connector.kinesis.source.config.KinesisSourceConfigOptions.InitialPosition;
import org.apache.flink.connector.kinesis.source.config.KinesisSourceConfigOptions.ReaderType;

/**
 * {@link KinesisConnectors} on flink-connector-aws-kinesis-streams: the FLIP-27 KinesisStreamsSource
 * (polling, or enhanced fan-out when a consumer name is given) and the KinesisStreamsSink.
 * Compiled only by {@code mvn -Pkinesis}; registered in META-INF/services.
 */
public class KinesisStreamsConnectors implements KinesisConnectors {
    private static final ConfigOption<String> AWS_REGION =
            ConfigOptions.key("aws.region").stringType().noDefaultValue();
    /** The connector's default STREAM_TIMESTAMP_DATE_FORMAT. */
    private static final DateTimeFormatter START_FORMAT =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);

    @Override
    public Source<ParsedRecord, ?, ?> source(KinesisStream stream, Optional<String> efoConsumerName,
                                             Optional<Instant> startTimestamp,
                                             DeserializationSchema<ParsedRecord> records) {
        Configuration config = new Configuration();
        config.set(AWS_REGION, stream.region());
        if (startTimestamp.isPresent()) {
            config.set(KinesisSourceConfigOptions.STREAM_INITIAL_POSITION, InitialPosition.AT_TIMESTAMP);
            config.set(KinesisSourceConfigOptions.STREAM_INITIAL_TIMESTAMP, START_FORMAT.format(startTimestamp.get()));
        } else {
            config.set(KinesisSourceConfigOptions.STREAM_INITIAL_POSITION, InitialPosition.TRIM_HORIZON);
        }
        efoConsumerName.ifPresent(name -> {
            config.set(KinesisSourceConfigOptions.READER_TYPE, ReaderType.EFO);
            config.set(KinesisSourceConfigOptions.EFO_CONSUMER_NAME, name);
        });
        return KinesisStreamsSource.<ParsedRecord>builder()
                .setStreamArn(stream.streamArn())
                .setSourceConfig(config)
                .setDeserializationSchema(records)
                .build();
    }

    @Override
    public Sink<Alert> alertsSink(KinesisStream stream, SerializationSchema<Alert> alerts) {
        Properties client = new Properties();
        client.setProperty("aws.region", stream.region());
        return KinesisStreamsSink.<Alert>builder()
                .setKinesisClientProperties(client)
                .setStreamArn(stream.streamArn())
                .setSerializationSchema(alerts)
                .setPartitionKeyGenerator(Alert::cardId)
                .build();
    }
}
