package dev.tributary.flink.io;

import dev.tributary.flink.config.JobSettings;
import dev.tributary.flink.config.JobSettings.AlertsSinkSettings;
import dev.tributary.flink.views.Rows.Alert;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;

/**
 * The alerts log chosen by {@code Alerts/sink}, besides the alerts view in the lake. Both sinks are
 * at least once and send each alert as soon as it is detected: an exactly-once (transactional) Kafka
 * sink would make alerts visible only at the checkpoint commit, up to a checkpoint interval late. A
 * restore from a checkpoint may send some alerts again, with the same alertId; subscribers
 * de-duplicate by it.
 */
public final class AlertSinks {
    /**
     * The Kafka producer's {@code linger.ms}: how long it may wait to fill a batch before sending. Kafka
     * 4's default, set here so that no client default can make it longer.
     */
    public static final Duration KAFKA_LINGER = Duration.ofMillis(5);

    private AlertSinks() {}

    public static Optional<Sink<Alert>> create(JobSettings settings) {
        AlertsSinkSettings alerts = settings.alerts();
        return switch (alerts.type()) {
            case NONE -> Optional.empty();
            case KINESIS -> Optional.of(KinesisConnectors.alertsSink(alerts.kinesis(), new AlertJson()));
            case KAFKA -> Optional.of(kafka(alerts));
        };
    }

    /**
     * The producer settings of the Kafka alerts sink: the cluster's security settings, every replica
     * acknowledging each write (a write the broker acknowledged survives a broker's loss), and a short linger.
     */
    static Properties kafkaProducerConfig(AlertsSinkSettings alerts) {
        Properties producer = KafkaClients.securityProperties(alerts.kafka());
        producer.setProperty("acks", "all");
        producer.setProperty("linger.ms", String.valueOf(KAFKA_LINGER.toMillis()));
        return producer;
    }

    /**
     * At least once: records go to the producer as they arrive, and each checkpoint waits until the
     * producer has every record sent before it acknowledged (flush), so a restore never skips one.
     */
    private static KafkaSink<Alert> kafka(AlertsSinkSettings alerts) {
        return KafkaSink.<Alert>builder()
                .setBootstrapServers(alerts.kafka().bootstrapServers())
                .setKafkaProducerConfig(kafkaProducerConfig(alerts))
                .setRecordSerializer(KafkaRecordSerializationSchema.<Alert>builder()
                        .setTopic(alerts.kafkaTopic())
                        .setKeySerializationSchema(alert -> alert.cardId().getBytes(StandardCharsets.UTF_8))
                        .setValueSerializationSchema(new AlertJson())
                        .build())
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .build();
    }
}
