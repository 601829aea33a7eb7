package dev.tributary.flink.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tributary.flink.model.ParsedRecord;
import dev.tributary.flink.model.Transaction;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads and writes the {@code Transaction} event as JSON, enforcing schemas/transaction.schema.json
 * (the same rules ajv applies in the speed layer). A record that breaks them becomes a rejected
 * {@link ParsedRecord} with the reason; parsing never throws.
 */
public final class TransactionJson {
    public static final List<String> FIELDS = List.of("txnId", "cardId", "customerId", "merchantId", "amount",
            "currency", "country", "channel", "eventTime", "schemaVersion");
    public static final Set<String> CHANNELS = Set.of("POS", "ECOM", "ATM", "CONTACTLESS");

    private static final Pattern ID = Pattern.compile("^[A-Za-z0-9_-]+$");
    private static final BigDecimal MAX_AMOUNT = new BigDecimal("1000000");
    private static final long MIN_EVENT_TIME = 946684800000L;
    private static final long MAX_EVENT_TIME = 4102444800000L;
    private static final int MAX_ID_LENGTH = 64;

    // Exact decimals: 0.1 must stay 0.1, not the double nearest to it.
    private static final ObjectMapper MAPPER =
            new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    // After MAPPER, which reads them.
    /** ISO 4217 codes and ISO 3166-1 alpha-2 codes: the schema's enums, read from the copy in the jar. */
    public static final Set<String> CURRENCIES = schemaEnum("currency");
    public static final Set<String> COUNTRIES = schemaEnum("country");

    private TransactionJson() {}

    public static ParsedRecord parse(String raw) {
        JsonNode node;
        try {
            node = MAPPER.readTree(raw);
        } catch (JsonProcessingException e) {
            return ParsedRecord.rejected(raw, "invalid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            return ParsedRecord.rejected(raw, "not a JSON object");
        }
        try {
            return ParsedRecord.valid(toTransaction(node));
        } catch (SchemaViolation violation) {
            return ParsedRecord.rejected(raw, "schema violation: " + violation.getMessage());
        }
    }

    public static String write(Transaction t) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("txnId", t.txnId);
        node.put("cardId", t.cardId);
        node.put("customerId", t.customerId);
        node.put("merchantId", t.merchantId);
        node.put("amount", t.amount);
        node.put("currency", t.currency);
        node.put("country", t.country);
        node.put("channel", t.channel);
        node.put("eventTime", t.eventTime);
        node.put("schemaVersion", t.schemaVersion);
        return node.toString();
    }

    private static Transaction toTransaction(JsonNode node) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw new SchemaViolation("unknown field '" + name + "'");
            }
        }
        return new Transaction(
                id(node, "txnId", true),
                id(node, "cardId", true),
                id(node, "customerId", true),
                id(node, "merchantId", false),
                amount(node),
                oneOf(node, "currency", CURRENCIES, "an ISO 4217 currency code"),
                oneOf(node, "country", COUNTRIES, "an ISO 3166-1 alpha-2 country code"),
                channel(node),
                eventTime(node),
                schemaVersion(node));
    }

    private static JsonNode required(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new SchemaViolation("missing required field '" + field + "'");
        }
        return value;
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = required(node, field);
        if (!value.isTextual()) {
            throw new SchemaViolation("'" + field + "' must be a string");
        }
        return value.textValue();
    }

    private static String id(JsonNode node, String field, boolean restrictedAlphabet) {
        String value = text(node, field);
        if (value.isEmpty() || value.length() > MAX_ID_LENGTH) {
            throw new SchemaViolation("'" + field + "' must have 1 to " + MAX_ID_LENGTH + " characters");
        }
        if (restrictedAlphabet && !ID.matcher(value).matches()) {
            throw new SchemaViolation("'" + field + "' must match " + ID.pattern());
        }
        return value;
    }

    private static String oneOf(JsonNode node, String field, Set<String> allowed, String what) {
        String value = text(node, field);
        if (!allowed.contains(value)) {
            throw new SchemaViolation("'" + field + "' must be " + what);
        }
        return value;
    }

    private static Set<String> schemaEnum(String field) {
        try (InputStream in = TransactionJson.class.getResourceAsStream("/schemas/transaction.schema.json")) {
            if (in == null) {
                throw new IllegalStateException("schemas/transaction.schema.json is not in the jar (flink-apps/pom.xml resources)");
            }
            JsonNode values = MAPPER.readTree(in).path("properties").path(field).path("enum");
            if (!values.isArray() || values.isEmpty()) {
                throw new IllegalStateException("schemas/transaction.schema.json has no enum for '" + field + "'");
            }
            Set<String> set = new HashSet<>();
            values.forEach(v -> set.add(v.asText()));
            return Set.copyOf(set);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read schemas/transaction.schema.json from the jar", e);
        }
    }

    private static String channel(JsonNode node) {
        String value = text(node, "channel");
        if (!CHANNELS.contains(value)) {
            throw new SchemaViolation("'channel' must be one of " + CHANNELS);
        }
        return value;
    }

    private static BigDecimal amount(JsonNode node) {
        JsonNode value = required(node, "amount");
        if (!value.isNumber()) {
            throw new SchemaViolation("'amount' must be a number");
        }
        BigDecimal amount = value.decimalValue();
        if (amount.signum() <= 0 || amount.compareTo(MAX_AMOUNT) > 0) {
            throw new SchemaViolation("'amount' must be > 0 and <= 1000000");
        }
        if (amount.stripTrailingZeros().scale() > 2) {
            throw new SchemaViolation("'amount' must have at most two decimals");
        }
        return amount.setScale(2);
    }

    private static long eventTime(JsonNode node) {
        JsonNode value = required(node, "eventTime");
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw new SchemaViolation("'eventTime' must be an integer (epoch milliseconds)");
        }
        long eventTime = value.longValue();
        if (eventTime < MIN_EVENT_TIME || eventTime > MAX_EVENT_TIME) {
            throw new SchemaViolation("'eventTime' must be within [" + MIN_EVENT_TIME + ", " + MAX_EVENT_TIME + "]");
        }
        return eventTime;
    }

    private static int schemaVersion(JsonNode node) {
        JsonNode value = required(node, "schemaVersion");
        if (!value.isIntegralNumber() || value.asLong() != 1) {
            throw new SchemaViolation("'schemaVersion' must be 1");
        }
        return 1;
    }

    private static final class SchemaViolation extends RuntimeException {
        SchemaViolation(String message) {
            super(message, null, false, false);
        }
    }
}
