package dev.tributary.flink.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tributary.flink.views.Rows.Alert;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.SerializationSchema;

/** The alert record as JSON for the alerts stream or topic, field names as in docs/reference-product.md. */
public class AlertJson implements SerializationSchema<Alert> {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Override
    public byte[] serialize(Alert alert) {
        return toJson(alert).getBytes(StandardCharsets.UTF_8);
    }

    public static String toJson(Alert alert) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("alertId", alert.alertId());
        node.put("rule", alert.rule());
        node.put("cardId", alert.cardId());
        node.put("customerId", alert.customerId());
        node.put("windowStart", alert.windowStart());
        ArrayNode txnIds = node.putArray("txnIds");
        alert.txnIds().forEach(txnIds::add);
        node.put("detectedBy", alert.detectedBy());
        node.put("detectedAt", alert.detectedAt());
        return node.toString();
    }
}
