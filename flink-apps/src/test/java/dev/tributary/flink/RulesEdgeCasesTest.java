package dev.tributary.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.tributary.flink.io.TransactionJson;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.testing.JobHarness;
import dev.tributary.flink.testing.LakeReader;
import dev.tributary.flink.testing.ReferenceModel;
import dev.tributary.flink.testing.SampleGenerator;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules at their boundaries (the 60 s and 5 min bounds are strict, ties go by txnId, R1
 * matches never share a transaction, R3 needs five earlier transactions and strictly more than
 * 10x), plus dense random traffic where the rules fire often, each compared with the reference.
 */
class RulesEdgeCasesTest {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = JobHarness.miniCluster();

    static final long T = SampleGenerator.START;

    @TempDir
    static Path workDir;
    static Path lake;
    static final List<Transaction> events = new ArrayList<>();

    static void add(String txnId, String card, String amount, String country, long offsetMs) {
        events.add(new Transaction(txnId, card, "cust-" + card, "m", new BigDecimal(amount), "EUR", country, "POS",
                T + offsetMs, 1));
    }

    @BeforeAll
    static void run() throws Exception {
        add("a1", "r1-strict", "150.00", "GB", 0);            // 59.999 s apart: a burst
        add("a2", "r1-strict", "150.00", "GB", 30_000);
        add("a3", "r1-strict", "150.00", "GB", 59_999);
        add("b1", "r1-bound", "150.00", "GB", 0);             // exactly 60 s apart: not a burst...
        add("b2", "r1-bound", "150.00", "GB", 30_000);
        add("b3", "r1-bound", "150.00", "GB", 60_000);
        add("b4", "r1-bound", "150.00", "GB", 61_000);        // ...but b2, b3, b4 are
        add("b5", "r1-bound", "100.00", "GB", 62_000);        // 100 is not over 100
        for (int i = 0; i < 7; i++) {                          // seven in 7 s: two bursts, the 7th left over
            add("c" + i, "r1-skip", "101.00", "GB", i * 1_000L);
        }
        add("d3", "r1-ties", "200.00", "GB", 5_000);          // same time: ordered by txnId
        add("d1", "r1-ties", "200.00", "GB", 5_000);
        add("d2", "r1-ties", "200.00", "GB", 5_000);
        add("e2", "r2-ties", "10.00", "FR", 7_000);           // same time: e1 (GB) precedes e2 (FR)
        add("e1", "r2-ties", "10.00", "GB", 7_000);
        add("f1", "r2-bound", "10.00", "GB", 0);              // exactly 5 min: no hop
        add("f2", "r2-bound", "10.00", "FR", 300_000);
        for (int i = 0; i < 5; i++) {
            add("g" + i, "r3", "10.00", "GB", i * 400_000L);
            add("h" + i, "r3-not", "10.00", "GB", i * 400_000L);
        }
        add("g5", "r3", "100.01", "GB", 2_000_000);          // > 10 x 10.00
        add("h5", "r3-not", "100.00", "GB", 2_000_000);      // = 10 x 10.00
        add("i1", "r3-short", "10.00", "GB", 0);              // only four earlier transactions
        add("i2", "r3-short", "10.00", "GB", 400_000);
        add("i3", "r3-short", "10.00", "GB", 800_000);
        add("i4", "r3-short", "10.00", "GB", 1_200_000);
        add("i5", "r3-short", "500.00", "GB", 1_600_000);
        addDenseRandomTraffic(new Random(11));

        // Arrive in event-time order with up to 4 s of disorder: nothing is late.
        Random jitter = new Random(3);
        List<Transaction> arrival = new ArrayList<>(events);
        Map<Transaction, Long> arrivesAt = arrival.stream()
                .collect(Collectors.toMap(t -> t, t -> t.eventTime + jitter.nextInt(4_000), (a, b) -> a));
        arrival.sort(Comparator.comparingLong(arrivesAt::get));
        Path input = workDir.resolve("events.ndjson");
        Files.write(input, arrival.stream().map(TransactionJson::write).toList());
        Path profiles = workDir.resolve("profiles.csv");
        Files.write(profiles, List.of("card_id,segment,home_country,risk_tier"));
        lake = workDir.resolve("lake");
        JobHarness.run(JobHarness.fileJob(input, lake, profiles));
    }

    /** From T+2 h: 20 cards, a transaction every 0-40 s, a third of them large, countries switching now and then. */
    static void addDenseRandomTraffic(Random random) {
        for (int card = 0; card < 20; card++) {
            long t = 7_200_000;
            String country = "GB";
            for (int i = 0; i < 120; i++) {
                t += random.nextInt(40_000);
                if (random.nextInt(10) == 0) {
                    country = country.equals("GB") ? "FR" : "GB";
                }
                long cents = random.nextInt(3) == 0 ? 10_001 + random.nextInt(20_000) : 500 + random.nextInt(4_000);
                if (random.nextInt(40) == 0) {
                    cents = 200_000;
                }
                add("x" + card + "-" + i, "dense-" + card, BigDecimal.valueOf(cents, 2).toPlainString(), country, t);
            }
        }
    }

    static List<Map<String, Object>> alerts() {
        return LakeReader.rows(lake, "alerts");
    }

    @Test
    void edgeCasesFireExactlyAsSpecified() {
        assertThat(alerts()).filteredOn(a -> !((String) a.get("card_id")).startsWith("dense-"))
                .extracting(a -> a.get("alert_id"), a -> a.get("txn_ids"))
                .containsExactlyInAnyOrder(
                        tuple("R1:r1-strict:" + T, List.of("a1", "a2", "a3")),
                        tuple("R1:r1-bound:" + (T + 30_000), List.of("b2", "b3", "b4")),
                        tuple("R1:r1-skip:" + T, List.of("c0", "c1", "c2")),
                        tuple("R1:r1-skip:" + (T + 3_000), List.of("c3", "c4", "c5")),
                        tuple("R1:r1-ties:" + (T + 5_000), List.of("d1", "d2", "d3")),
                        tuple("R2:r2-ties:" + (T + 7_000), List.of("e1", "e2")),
                        tuple("R3:r3:" + (T + 2_000_000), List.of("g5")));
    }

    @Test
    void denseRandomTrafficMatchesTheReference() {
        TreeSet<String> expected = ReferenceModel.alertIds(events);
        TreeSet<String> actual = alerts().stream().map(a -> (String) a.get("alert_id"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(expected.stream().filter(id -> id.contains(":dense-")).map(id -> id.substring(0, 2)).distinct())
                .as("the random traffic exercises every rule").containsExactlyInAnyOrder("R1", "R2", "R3");
        assertThat(actual).isEqualTo(expected);
        assertThat(alerts()).hasSize(expected.size());
    }
}
