package dev.tributary.flink.io;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tributary.flink.model.Transaction;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Transaction POJO and the parser follow schemas/transaction.schema.json, the event's one source of truth. */
class TransactionSchemaTest {
    static JsonNode schema;

    @BeforeAll
    static void readSchema() throws Exception {
        schema = new ObjectMapper().readTree(Path.of("..", "schemas", "transaction.schema.json").toFile());
    }

    @Test
    void thePojoHasExactlyTheSchemasFieldsWithMatchingJavaTypes() {
        Map<String, String> glueTypes = new LinkedHashMap<>();
        schema.get("properties").fields().forEachRemaining(f -> glueTypes.put(f.getKey(), f.getValue().get("x-glue-type").asText()));
        Map<String, Class<?>> javaTypeOfGlueType = Map.of(
                "string", String.class, "decimal(12,2)", BigDecimal.class, "bigint", long.class, "int", int.class);

        Map<String, Class<?>> pojoFields = new LinkedHashMap<>();
        for (Field field : Transaction.class.getDeclaredFields()) {
            if (!Modifier.isStatic(field.getModifiers())) {
                pojoFields.put(field.getName(), field.getType());
            }
        }

        assertThat(pojoFields.keySet()).containsExactlyElementsOf(glueTypes.keySet());
        glueTypes.forEach((name, glueType) ->
                assertThat(pojoFields.get(name)).as("Java type of %s (%s)", name, glueType)
                        .isEqualTo(javaTypeOfGlueType.get(glueType)));
    }

    @Test
    void theParserRequiresTheSchemasFieldsAndChannels() {
        List<String> required = new ArrayList<>();
        schema.get("required").forEach(n -> required.add(n.asText()));
        List<String> channels = new ArrayList<>();
        schema.get("properties").get("channel").get("enum").forEach(n -> channels.add(n.asText()));

        assertThat(TransactionJson.FIELDS).containsExactlyElementsOf(required);
        assertThat(new TreeSet<>(TransactionJson.CHANNELS)).containsExactlyElementsOf(new TreeSet<>(channels));
        assertThat(schema.get("additionalProperties").asBoolean()).isFalse();
        assertThat(Arrays.asList(schema.get("properties").get("schemaVersion").get("const").asInt())).containsExactly(1);
    }

    @Test
    void theParserTakesCurrencyAndCountryFromTheSchemasEnums() {
        for (String field : List.of("currency", "country")) {
            List<String> values = new ArrayList<>();
            schema.get("properties").get(field).get("enum").forEach(n -> values.add(n.asText()));
            Set<String> parsed = field.equals("currency") ? TransactionJson.CURRENCIES : TransactionJson.COUNTRIES;
            assertThat(new TreeSet<>(parsed)).as(field).containsExactlyElementsOf(new TreeSet<>(values));
        }
    }
}
