package dev.tributary.flink.io;

import dev.tributary.flink.config.JobSettings;
import dev.tributary.flink.config.JobSettings.AlertsSinkSettings;
import dev.tributary.flink.views.Rows.Alert;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Properties;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;

/** The external alerts sink chosen by {@code Alerts/sink}, besides the alerts view in the lake. */
public final class AlertSinks {
    private AlertSinks() {}

    public static Optional<Sink<Alert>> create(JobSettings settings) {
        AlertsSinkSettings alerts = settings.alerts();
        return switch (alerts.type()) {
            case NONE -> Optional.empty();
            case KINESIS -> Optional.of(KinesisConnectors.alertsSink(alerts.kinesis(), new AlertJson()));
            case KAFKA -> Optional.of(kafka(settings));
        };
    }

    private static KafkaSink<Alert> kafka(JobSettings settings) {
        AlertsSinkSettings alerts = settings.alerts();
        Properties producer = KafkaClients.securityProperties(alerts.kafka());
        // Must not exceed the broker's transaction.max.timeout.ms (15 minutes by default), or every commit fails.
        producer.setProperty("transaction.timeout.ms", String.valueOf(alerts.kafkaTransactionTimeout().toMillis()));
        return KafkaSink.<Alert>builder()
                .setBootstrapServers(alerts.kafka().bootstrapServers())
                .setKafkaProducerConfig(producer)
                .setRecordSerializer(KafkaRecordSerializationSchema.<Alert>builder()
                        .setTopic(alerts.kafkaTopic())
                        .setKeySerializationSchema(alert -> alert.cardId().getBytes(StandardCharsets.UTF_8))
                        .setValueSerializationSchema(new AlertJson())
                        .build())
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                // Versioned so a replay's transactions never fence the live job's.
                .setTransactionalIdPrefix(settings.lake().versioned(alerts.kafka().idPrefix() + "-alerts"))
                .build();
    }
}
