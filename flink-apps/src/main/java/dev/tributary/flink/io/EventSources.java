package dev.tributary.flink.io;

import dev.tributary.flink.config.JobSettings;
import dev.tributary.flink.config.JobSettings.SourceSettings;
import dev.tributary.flink.model.ParsedRecord;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.fs.Path;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/** The event log source chosen by {@code Source/type}: Kinesis, Kafka (MSK) or an NDJSON file. */
public final class EventSources {
    private EventSources() {}

    public static Source<ParsedRecord, ?, ?> create(JobSettings settings) {
        SourceSettings source = settings.source();
        return switch (source.type()) {
            case FILE -> FileSource.forRecordStreamFormat(new TransactionLineFormat(), new Path(source.filePath()))
                    .build();
            case KAFKA -> kafka(settings);
            case KINESIS -> KinesisConnectors.source(source.kinesis(), source.efoConsumerName(),
                    source.startTimestamp(), new ParsedRecordDeserializer());
        };
    }

    private static KafkaSource<ParsedRecord> kafka(JobSettings settings) {
        SourceSettings source = settings.source();
        OffsetsInitializer start = source.startTimestamp()
                .map(instant -> OffsetsInitializer.timestamp(instant.toEpochMilli()))
                .orElseGet(() -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST));
        return KafkaSource.<ParsedRecord>builder()
                .setBootstrapServers(source.kafka().bootstrapServers())
                .setTopics(source.kafkaTopic())
                // One consumer group per output version: a replay (v=n+1) never moves the live job's offsets.
                .setGroupId(settings.lake().versioned(source.kafka().idPrefix()))
                .setStartingOffsets(start)
                .setValueOnlyDeserializer(new ParsedRecordDeserializer())
                .setProperties(KafkaClients.securityProperties(source.kafka()))
                .build();
    }
}
