package dev.tributary.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.tributary.flink.io.TransactionJson;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.testing.JobHarness;
import dev.tributary.flink.testing.LakeReader;
import dev.tributary.flink.testing.SampleGenerator;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hand-written stream whose every watermark is known (defaults: 5 s out-of-orderness, 30 s
 * allowed lateness), to pin down what out of order, late within the allowed lateness and late
 * beyond it each do to the views, the rules and late_events.
 */
class LatenessAndWindowsTest {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = JobHarness.miniCluster();

    static final long T = SampleGenerator.START;
    static final String CARD_A = "card-000001";
    static final String CARD_B = "card-000002";

    @TempDir
    static Path workDir;
    static Path lake;

    static Transaction txn(String id, String card, String amount, String country, long offsetMs) {
        return new Transaction(id, card, card.equals(CARD_A) ? "cust-a" : "cust-b", "merchant-1",
                new BigDecimal(amount), "EUR", country, "POS", T + offsetMs, 1);
    }

    @BeforeAll
    static void run() throws Exception {
        List<String> arrivalOrder = List.of(
                TransactionJson.write(txn("a1", CARD_A, "10.00", "GB", 10_000)),
                TransactionJson.write(txn("a2", CARD_A, "20.00", "GB", 50_000)),
                // 3 s out of order, within the 5 s bound: the watermark (T+44.999 s) has not reached it.
                TransactionJson.write(txn("a3", CARD_A, "5.00", "GB", 47_000)),
                // Watermark becomes T+74.999 s: minute [T, T+60 s) has ended.
                TransactionJson.write(txn("b1", CARD_B, "1.00", "GB", 80_000)),
                // Behind the watermark but within the allowed lateness (55 s + 30 s > 74.999 s): counted,
                // and the rules still see it in event-time order (it hops country right after a2).
                TransactionJson.write(txn("a4", CARD_A, "25.00", "FR", 55_000)),
                // Watermark becomes T+114.999 s.
                TransactionJson.write(txn("b2", CARD_B, "1.00", "GB", 120_000)),
                // Beyond the allowed lateness (20 s + 30 s <= 114.999 s): late_events only.
                TransactionJson.write(txn("a5", CARD_A, "50.00", "GB", 20_000)),
                // A redelivery of a2: counted once.
                TransactionJson.write(txn("a2", CARD_A, "20.00", "GB", 50_000)),
                "this is not JSON");
        Path input = workDir.resolve("events.ndjson");
        Files.write(input, arrivalOrder);
        Path profiles = workDir.resolve("profiles.ndjson");
        Files.write(profiles, List.of(
                "{\"card_id\":\"card-000001\",\"segment\":\"premium\",\"home_country\":\"GB\",\"risk_tier\":\"low\"}"));
        lake = workDir.resolve("lake");
        JobHarness.run(JobHarness.fileJob(input, lake, profiles));
    }

    @Test
    void tumblingMinuteCountsOutOfOrderAndWithinLatenessEventsExactly() {
        assertThat(LakeReader.rows(lake, "spend_per_card_minute"))
                .extracting(r -> r.get("card_id"), r -> r.get("window_start"), r -> r.get("txn_count"),
                        r -> r.get("total_amount"))
                .containsExactlyInAnyOrder(
                        tuple(CARD_A, T, 4L, new BigDecimal("60.00")),
                        tuple(CARD_B, T + 60_000, 1L, new BigDecimal("1.00")),
                        tuple(CARD_B, T + 120_000, 1L, new BigDecimal("1.00")));
    }

    @Test
    void sessionsIncludeWithinLatenessEventsAndEndAGapAfterTheLastOne() {
        assertThat(LakeReader.rows(lake, "customer_sessions"))
                .extracting(r -> r.get("customer_id"), r -> r.get("session_start"), r -> r.get("session_end"),
                        r -> r.get("txn_count"), r -> r.get("total_amount"))
                .containsExactlyInAnyOrder(
                        tuple("cust-a", T + 10_000, T + 55_000 + 1_800_000, 4L, new BigDecimal("60.00")),
                        tuple("cust-b", T + 80_000, T + 120_000 + 1_800_000, 2L, new BigDecimal("2.00")));
    }

    @Test
    void eventsBeyondTheAllowedLatenessGoToLateEventsWithTheWatermarkTheyMissed() {
        List<Map<String, Object>> late = LakeReader.rows(lake, "late_events");
        assertThat(late).extracting(r -> r.get("txn_id"), r -> r.get("event_time"), r -> r.get("watermark"),
                        r -> r.get("amount"))
                .containsExactly(tuple("a5", T + 20_000, T + 114_999, new BigDecimal("50.00")));
        assertThat(LakeReader.rows(lake, "enriched_transactions")).extracting(r -> r.get("txn_id"))
                .containsExactlyInAnyOrder("a1", "a2", "a3", "b1", "a4", "b2");
    }

    @Test
    void rulesSeeWithinLatenessEventsInEventTimeOrder() {
        assertThat(LakeReader.rows(lake, "alerts")).extracting(r -> r.get("alert_id"), r -> r.get("txn_ids"))
                .containsExactly(tuple("R2:" + CARD_A + ":" + (T + 50_000), List.of("a2", "a4")));
    }

    @Test
    void enrichmentJoinsTheProfileAndLeavesUnknownCardsEmpty() {
        assertThat(LakeReader.rows(lake, "enriched_transactions"))
                .extracting(r -> r.get("txn_id"), r -> r.get("segment"), r -> r.get("risk_tier"))
                .contains(tuple("a1", "premium", "low"), tuple("b1", null, null));
    }

    @Test
    void aMalformedRecordIsKeptWithItsReason() {
        assertThat(LakeReader.rows(lake, "dead_letter")).singleElement()
                .satisfies(r -> {
                    assertThat(r.get("raw")).isEqualTo("this is not JSON");
                    assertThat((String) r.get("reason")).startsWith("invalid JSON");
                });
    }
}
