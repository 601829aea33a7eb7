package dev.tributary.flink.io;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tributary.flink.config.JobSettings.AlertsSinkSettings;
import dev.tributary.flink.config.JobSettings.AlertsSinkType;
import dev.tributary.flink.config.JobSettings.KafkaAuth;
import dev.tributary.flink.config.JobSettings.KafkaCluster;
import dev.tributary.flink.views.Rows.Alert;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The alert record sent to the alerts stream/topic, and the Kafka client security settings. */
class AlertAndKafkaWiringTest {
    @Test
    void theAlertJsonHasTheSpecsFieldsAndValues() throws Exception {
        String spec = Files.readString(Path.of("..", "docs", "reference-product.md"));
        String section = spec.substring(spec.indexOf("### The alert record"));
        int start = section.indexOf("```json") + "```json".length();
        String example = section.substring(start, section.indexOf("```", start));
        JsonNode expected = new ObjectMapper().readTree(example);

        Alert alert = new Alert(expected.get("alertId").asText(), expected.get("rule").asText(),
                expected.get("cardId").asText(), expected.get("customerId").asText(),
                expected.get("windowStart").asLong(), List.of("t-1", "t-2", "t-3"), "speed",
                expected.get("detectedAt").asLong());
        JsonNode written = new ObjectMapper().readTree(AlertJson.toJson(alert));

        assertThat(fieldNames(written)).containsExactlyElementsOf(fieldNames(expected));
        assertThat(written).isEqualTo(expected);
    }

    @Test
    void iamAuthUsesSaslSslWithTheMskIamLoginModule() {
        Properties iam = KafkaClients.securityProperties(new KafkaCluster("b-1:9098", KafkaAuth.IAM, "p"));

        assertThat(iam).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "AWS_MSK_IAM")
                .containsEntry("sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required;")
                .containsEntry("sasl.client.callback.handler.class",
                        "software.amazon.msk.auth.iam.IAMClientCallbackHandler");
        assertThat(KafkaClients.securityProperties(new KafkaCluster("b-1:9092", KafkaAuth.NONE, "p"))).isEmpty();
    }

    @Test
    void theKafkaAlertsProducerWaitsForEveryReplicaAndLingersBriefly() {
        Properties producer = AlertSinks.kafkaProducerConfig(new AlertsSinkSettings(AlertsSinkType.KAFKA, null,
                new KafkaCluster("b-1:9098", KafkaAuth.IAM, "p"), "alerts"));

        assertThat(producer).containsEntry("acks", "all").containsEntry("linger.ms", "5")
                .containsEntry("sasl.mechanism", "AWS_MSK_IAM");
    }

    @Test
    void theIamClassesNamedInThePropertiesAreOnTheClasspath() throws Exception {
        Class.forName("software.amazon.msk.auth.iam.IAMLoginModule");
        Class.forName("software.amazon.msk.auth.iam.IAMClientCallbackHandler");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
