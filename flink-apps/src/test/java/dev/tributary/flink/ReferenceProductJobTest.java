package dev.tributary.flink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tributary.flink.io.TransactionJson;
import dev.tributary.flink.lake.ViewPartitioner;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.testing.JobHarness;
import dev.tributary.flink.testing.LakeReader;
import dev.tributary.flink.testing.ReferenceModel;
import dev.tributary.flink.testing.ReferenceModel.SpendRow;
import dev.tributary.flink.testing.SampleGenerator;
import dev.tributary.flink.testing.SampleGenerator.Sample;
import dev.tributary.flink.views.Views;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.apache.flink.test.junit5.MiniClusterExtension;

/**
 * Runs the whole job once over a labelled, deterministic sample (fraud, disorder, late events,
 * duplicates, malformed records) and checks every view against the generator's labels and an
 * independent reference implementation of docs/reference-product.md.
 */
class ReferenceProductJobTest {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = JobHarness.miniCluster();

    @TempDir
    static Path workDir;

    static Sample sample;
    static Path lake;

    @BeforeAll
    static void runJobOverTheSample() throws Exception {
        sample = SampleGenerator.generate(SampleGenerator.Options.sample(42));
        Path input = workDir.resolve("events.ndjson");
        sample.writeTo(input);
        Path profiles = workDir.resolve("profiles.csv");
        Files.write(profiles, SampleGenerator.profileCsv(SampleGenerator.Options.sample(42).cards()));
        lake = workDir.resolve("lake");
        JobHarness.run(JobHarness.fileJob(input, lake, profiles));
    }

    private static List<Map<String, Object>> rows(String view) {
        return LakeReader.rows(lake, view);
    }

    @Test
    void everyRuleFiresOnItsInjectedFraudAndOnNothingElse() {
        Set<String> alertIds = rows("alerts").stream().map(r -> (String) r.get("alert_id"))
                .collect(Collectors.toCollection(TreeSet::new));

        assertThat(sample.labelledAlertIds()).anyMatch(id -> id.startsWith("R1:"))
                .anyMatch(id -> id.startsWith("R2:")).anyMatch(id -> id.startsWith("R3:"));
        assertThat(ReferenceModel.alertIds(sample.onTimeEvents())).isEqualTo(sample.labelledAlertIds());
        assertThat(alertIds).isEqualTo(sample.labelledAlertIds());
        assertThat(rows("alerts")).hasSize(alertIds.size());
    }

    @Test
    void alertRecordsCarryTheSpecFields() {
        Map<String, Transaction> byTxnId = sample.uniqueEvents().stream()
                .collect(Collectors.toMap(t -> t.txnId, Function.identity()));
        for (Map<String, Object> alert : rows("alerts")) {
            String rule = (String) alert.get("rule");
            @SuppressWarnings("unchecked")
            List<String> txnIds = (List<String>) alert.get("txn_ids");
            Transaction first = byTxnId.get(txnIds.get(0));
            assertThat(alert.get("alert_id")).isEqualTo(rule + ":" + alert.get("card_id") + ":" + alert.get("window_start"));
            assertThat(alert.get("detected_by")).isEqualTo("stream");
            assertThat(alert.get("customer_id")).isEqualTo(first.customerId);
            assertThat(txnIds).hasSize(switch (rule) { case "R1" -> 3; case "R2" -> 2; default -> 1; });
            assertThat(alert.get("window_start")).isEqualTo(first.eventTime);
        }
    }

    @Test
    void spendPerCardMinuteIsExact() {
        assertThat(spendRows("spend_per_card_minute", "card_id", "window_start", null))
                .containsExactlyInAnyOrderElementsOf(
                        withoutEnd(ReferenceModel.tumbling(sample.onTimeEvents(), true, 60_000)));
    }

    @Test
    void spendPerCustomerHourKeepsOnlyTotalsOverOneThousand() {
        List<SpendRow> expected = withoutEnd(ReferenceModel.tumbling(sample.onTimeEvents(), false, 3_600_000))
                .stream().filter(row -> row.totalCents() > 100_000).toList();
        assertThat(expected).isNotEmpty();
        assertThat(spendRows("spend_per_customer_hour", "customer_id", "window_start", null))
                .containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void cardVelocityIsExact() {
        assertThat(spendRows("card_velocity", "card_id", "window_start", "window_end"))
                .containsExactlyInAnyOrderElementsOf(ReferenceModel.sliding(sample.onTimeEvents(), 600_000, 60_000));
    }

    @Test
    void customerSessionsAreExact() {
        assertThat(spendRows("customer_sessions", "customer_id", "session_start", "session_end"))
                .containsExactlyInAnyOrderElementsOf(ReferenceModel.sessions(sample.onTimeEvents(), 1_800_000));
    }

    @Test
    void everyOnTimeTransactionIsEnrichedOnceWithItsCardProfile() {
        List<Map<String, Object>> enriched = rows("enriched_transactions");
        assertThat(enriched).extracting(r -> r.get("txn_id"))
                .containsExactlyInAnyOrderElementsOf(sample.onTimeEvents().stream().map(t -> t.txnId).toList());
        Map<String, Transaction> byTxnId = sample.onTimeEvents().stream()
                .collect(Collectors.toMap(t -> t.txnId, Function.identity()));
        for (Map<String, Object> row : enriched) {
            Transaction txn = byTxnId.get((String) row.get("txn_id"));
            int card = Integer.parseInt(txn.cardId.substring(5));
            assertThat((BigDecimal) row.get("amount")).isEqualByComparingTo(txn.amount);
            assertThat(row.get("event_time")).isEqualTo(txn.eventTime);
            assertThat(row.get("home_country")).isEqualTo(card % 3 == 2 ? null : SampleGenerator.homeCountry(card));
            assertThat(row.get("segment")).isEqualTo(
                    card % 3 == 2 ? null : List.of("retail", "premium", "business").get(card % 3));
        }
    }

    @Test
    void eventsBeyondTheAllowedLatenessAreKeptInLateEvents() throws Exception {
        List<Map<String, Object>> late = rows("late_events");
        assertThat(sample.lateTxnIds()).isNotEmpty();
        assertThat(late).extracting(r -> r.get("txn_id")).containsExactlyInAnyOrderElementsOf(sample.lateTxnIds());
        ObjectMapper json = new ObjectMapper();
        for (Map<String, Object> row : late) {
            assertThat((Long) row.get("event_time") + 30_000).isLessThanOrEqualTo((Long) row.get("watermark"));
            JsonNode raw = json.readTree((String) row.get("raw"));
            assertThat(raw.get("txnId").asText()).isEqualTo(row.get("txn_id"));
            assertThat(TransactionJson.parse((String) row.get("raw")).isValid()).isTrue();
        }
    }

    @Test
    void malformedRecordsGoToTheDeadLetterViewWithTheirReason() {
        List<Map<String, Object>> dead = rows("dead_letter");
        assertThat(dead).hasSize(sample.malformedCount());
        assertThat(dead).allSatisfy(row -> assertThat((String) row.get("reason"))
                .matches("(invalid JSON|not a JSON object|schema violation): .+|not a JSON object"));
    }

    @Test
    void filesArePartitionedByVersionDateAndHourOfTheirRows() {
        for (Path file : LakeReader.committedFiles(lake, "spend_per_card_minute")) {
            String partition = lake.resolve("views/spend_per_card_minute").relativize(file.getParent()).toString();
            assertThat(partition).matches("v=1/dt=\\d{4}-\\d{2}-\\d{2}/hr=\\d{2}");
        }
        Map<String, Object> anyRow = rows("spend_per_card_minute").get(0);
        String expected = ViewPartitioner.partitionOf(1, (Long) anyRow.get("window_start"));
        assertThat(LakeReader.committedFiles(lake, "spend_per_card_minute"))
                .anyMatch(file -> file.toString().contains("/" + expected + "/"));
    }

    @Test
    void parquetSchemasMatchViewsJson() throws Exception {
        JsonNode views = new ObjectMapper().readTree(Path.of("..", "schemas", "views.json").toFile()).get("views");
        List<String> declared = new ArrayList<>();
        views.fieldNames().forEachRemaining(declared::add);
        assertThat(Views.SERVING_VIEWS).extracting(v -> v.name()).containsExactlyElementsOf(declared);
        for (String view : declared) {
            List<Path> files = LakeReader.committedFiles(lake, view);
            assertThat(files).as("files of %s", view).isNotEmpty();
            List<String> expected = new ArrayList<>();
            views.get(view).get("columns").forEach(c -> expected.add(c.get("name").asText() + " " + c.get("type").asText()));
            for (Path file : files) {
                assertThat(glueColumns(LakeReader.schema(file))).as("schema of %s", file).isEqualTo(expected);
            }
        }
    }

    /** The Glue type a Parquet column reads as, written independently of the job's own mapping. */
    static List<String> glueColumns(MessageType schema) {
        List<String> columns = new ArrayList<>();
        for (Type field : schema.getFields()) {
            columns.add(field.getName() + " " + glueType(field));
        }
        return columns;
    }

    private static String glueType(Type field) {
        LogicalTypeAnnotation logical = field.getLogicalTypeAnnotation();
        if (!field.isPrimitive()) {
            Type element = field.asGroupType().getType(0).asGroupType().getType(0);
            return logical instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation
                    && field.asGroupType().getType(0).isRepetition(Type.Repetition.REPEATED)
                    ? "array<" + glueType(element) + ">" : "unsupported group";
        }
        PrimitiveType.PrimitiveTypeName physical = field.asPrimitiveType().getPrimitiveTypeName();
        if (logical instanceof LogicalTypeAnnotation.DecimalLogicalTypeAnnotation d) {
            return "decimal(" + d.getPrecision() + "," + d.getScale() + ")";
        }
        if (logical instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation
                && physical == PrimitiveType.PrimitiveTypeName.BINARY) {
            return "string";
        }
        if (logical == null && physical == PrimitiveType.PrimitiveTypeName.INT64) {
            return "bigint";
        }
        if (logical == null && physical == PrimitiveType.PrimitiveTypeName.INT32) {
            return "int";
        }
        return "unsupported " + physical + " " + logical;
    }

    private static List<SpendRow> spendRows(String view, String keyColumn, String startColumn, String endColumn) {
        return rows(view).stream().map(r -> new SpendRow((String) r.get(keyColumn), (Long) r.get(startColumn),
                endColumn == null ? 0 : (Long) r.get(endColumn), (Long) r.get("txn_count"),
                ((BigDecimal) r.get("total_amount")).movePointRight(2).longValueExact())).toList();
    }

    private static List<SpendRow> withoutEnd(List<SpendRow> rows) {
        return rows.stream().map(r -> new SpendRow(r.key(), r.start(), 0, r.count(), r.totalCents())).toList();
    }
}
