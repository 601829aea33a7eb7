package dev.tributary.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tributary.flink.io.TransactionJson;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.rules.CardRules;
import dev.tributary.flink.testing.HoldUntilOnLog;
import dev.tributary.flink.testing.JobHarness;
import dev.tributary.flink.testing.KinesisLocal;
import dev.tributary.flink.testing.LakeReader;
import dev.tributary.flink.testing.ReferenceModel;
import dev.tributary.flink.testing.SampleGenerator;
import dev.tributary.flink.testing.SampleGenerator.Sample;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The eager rules through the whole job, with the alerts log on a real Kinesis stream (kinesis-local)
 * written by the job's KinesisStreamsSink: an alert reaches the log while the job's input is held just
 * after the transaction that completes it, so before any watermark can pass its transactions (eagerness),
 * also when that transaction arrived out of order; an alert the final evaluation does not confirm stays on
 * the log and is counted in {@code alertsNotConfirmed}; the lake's alerts view equals the reference model;
 * and across a failure and restore every alert id reaches the log at least once and the view exactly once.
 */
class EagerAlertsTest {
    @RegisterExtension
    @Order(1)
    static final KinesisLocal KINESIS = new KinesisLocal();

    static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension MINI_CLUSTER = JobHarness.miniCluster(METRICS.addToConfiguration(new Configuration()));

    static final long HOUR = 3_600_000;
    static final long T = SampleGenerator.START;

    @TempDir
    Path workDir;

    @Test
    void alertsReachTheLogOnTheCompletingTransactionAndUnconfirmedOnesAreCounted() throws Exception {
        List<Transaction> arrival = new ArrayList<>();
        Map<String, String> holdAfter = new LinkedHashMap<>();
        // In order: each rule fires on the transaction that completes its pattern.
        arrival.add(txn("e1", "eager-r1", "150.00", "GB", 0));
        arrival.add(txn("e2", "eager-r1", "150.00", "GB", 10_000));
        arrival.add(txn("e3", "eager-r1", "150.00", "GB", 20_000));
        holdAfter.put("e3", "R1:eager-r1:" + T);
        arrival.add(txn("h1", "eager-r2", "10.00", "GB", 25_000));
        arrival.add(txn("h2", "eager-r2", "10.00", "FR", 85_000));
        holdAfter.put("h2", "R2:eager-r2:" + (T + 25_000));
        for (int i = 0; i < 5; i++) {
            arrival.add(txn("s" + i, "eager-r3", "10.00", "GB", 90_000 + i * 1_000L));
        }
        arrival.add(txn("s5", "eager-r3", "100.01", "GB", 96_000));
        holdAfter.put("s5", "R3:eager-r3:" + (T + 96_000));

        // Out of order, within the allowed lateness: the late-comer completes the pattern on arrival.
        long t1 = T + HOUR;
        arrival.add(txn("a", "ooo-r1", "150.00", "GB", HOUR));
        arrival.add(txn("b", "ooo-r1", "150.00", "GB", HOUR + 10_000));
        arrival.add(txn("f", "ooo-filler", "1.00", "GB", HOUR + 20_000));
        arrival.add(txn("c", "ooo-r1", "150.00", "GB", HOUR + 5_000));     // a, c, b
        holdAfter.put("c", "R1:ooo-r1:" + t1);
        arrival.add(txn("q", "ooo-r2", "10.00", "FR", HOUR + 60_000));
        arrival.add(txn("p", "ooo-r2", "10.00", "GB", HOUR + 40_000));     // p precedes q
        holdAfter.put("p", "R2:ooo-r2:" + (t1 + 40_000));

        // An out-of-order transaction inside an already fired pattern: the speculative alert stays on the
        // log, the final evaluation raises another one, and the first is counted as not confirmed.
        long t2 = T + 2 * HOUR;
        arrival.add(txn("u1", "unconf-r2", "10.00", "GB", 2 * HOUR));
        arrival.add(txn("u2", "unconf-r2", "10.00", "FR", 2 * HOUR + 60_000));
        holdAfter.put("u2", "R2:unconf-r2:" + t2);
        arrival.add(txn("ux", "unconf-r2", "10.00", "GB", 2 * HOUR + 40_000)); // u1, ux, u2: ux -> u2 hops
        arrival.add(txn("v1", "unconf-r1", "150.00", "GB", 2 * HOUR + 100_000));
        arrival.add(txn("v2", "unconf-r1", "150.00", "GB", 2 * HOUR + 110_000));
        arrival.add(txn("v3", "unconf-r1", "150.00", "GB", 2 * HOUR + 120_000));
        holdAfter.put("v3", "R1:unconf-r1:" + (t2 + 100_000));
        arrival.add(txn("vx", "unconf-r1", "150.00", "GB", 2 * HOUR + 95_000)); // vx, v1, v2 is the burst
        arrival.add(txn("z", "last", "1.00", "GB", 3 * HOUR));

        String alertsArn = KINESIS.createStream("eager-alerts", 1);
        Path lake = workDir.resolve("lake");
        HoldUntilOnLog.reset(() -> KINESIS.readAll("eager-alerts"), holdAfter);
        JobExecutionResult result = JobHarness.run(job(arrival, lake, alertsArn), HoldUntilOnLog::splice, 500);

        assertThat(HoldUntilOnLog.TIMED_OUT).as("alerts that did not reach the log while the input was held")
                .isEmpty();
        assertThat(HoldUntilOnLog.LATENCY_MS.keySet()).containsExactlyInAnyOrderElementsOf(holdAfter.values());
        System.out.printf("from passing the completing transaction to detection (ms): %s; to readable on the "
                        + "alerts stream (ms): %s%n", new TreeMap<>(HoldUntilOnLog.DETECTION_MS),
                new TreeMap<>(HoldUntilOnLog.LATENCY_MS));

        Set<String> view = alertIds(LakeReader.rows(lake, "alerts"));
        assertThat(view).as("the view: the final evaluation, as the reference model")
                .isEqualTo(ReferenceModel.alertIds(arrival))
                .containsExactlyInAnyOrder("R1:eager-r1:" + T, "R2:eager-r2:" + (T + 25_000),
                        "R3:eager-r3:" + (T + 96_000), "R1:ooo-r1:" + t1, "R2:ooo-r2:" + (t1 + 40_000),
                        "R2:unconf-r2:" + (t2 + 40_000), "R1:unconf-r1:" + (t2 + 95_000));
        assertThat(LakeReader.rows(lake, "alerts")).hasSize(view.size());
        assertThat(LakeReader.rows(lake, "alerts")).filteredOn(a -> a.get("alert_id").equals("R1:ooo-r1:" + t1))
                .extracting(a -> a.get("txn_ids")).containsExactly(List.of("a", "c", "b"));

        Map<String, Long> onLog = countsById(KINESIS.readAll("eager-alerts"));
        TreeSet<String> unconfirmed = new TreeSet<>(List.of("R2:unconf-r2:" + t2, "R1:unconf-r1:" + (t2 + 100_000)));
        TreeSet<String> expectedOnLog = new TreeSet<>(view);
        expectedOnLog.addAll(unconfirmed);
        assertThat(onLog.keySet()).as("the log: every final alert, and the unconfirmed ones").isEqualTo(expectedOnLog);
        assertThat(onLog.values()).as("each id sent once (no failure in this run)").allMatch(n -> n == 1);
        assertThat(notConfirmed(result)).isEqualTo(unconfirmed.size());
    }

    @Test
    void acrossAFailureAndRestoreEveryAlertReachesTheLogAtLeastOnceAndTheViewExactlyOnce() throws Exception {
        Sample sample = SampleGenerator.generate(new SampleGenerator.Options(7, 200, 2, 0.03, 0.02, 0, 0.005));
        Path input = workDir.resolve("events.ndjson");
        sample.writeTo(input);
        Path profiles = workDir.resolve("profiles.csv");
        Files.write(profiles, SampleGenerator.profileCsv(200));
        String alertsArn = KINESIS.createStream("restored-alerts", 1);
        Path lake = workDir.resolve("restored");
        Map<String, Properties> groups = JobHarness.fileJob(input, lake, profiles);
        withAlertsStream(groups, alertsArn);

        FailureRecoveryTest.FailOnceAfterCheckpoint.reset(sample.lines().size() / 2);
        JobHarness.run(groups, records -> records
                .map(new FailureRecoveryTest.FailOnceAfterCheckpoint()).setParallelism(records.getParallelism())
                .uid("test-fail-once"), 100);

        assertThat(FailureRecoveryTest.FailOnceAfterCheckpoint.FAILED).as("the induced failure happened").isTrue();
        assertThat(FailureRecoveryTest.FailOnceAfterCheckpoint.SEEN.get()).as("the second attempt resumed from a "
                + "checkpoint").isLessThan(FailureRecoveryTest.FailOnceAfterCheckpoint.failAfter + sample.lines().size());
        List<Map<String, Object>> viewRows = LakeReader.rows(lake, "alerts");
        Set<String> view = alertIds(viewRows);
        assertThat(view).isEqualTo(sample.labelledAlertIds());
        assertThat(viewRows).as("the view exactly once").hasSize(view.size());

        Map<String, Long> onLog = countsById(KINESIS.readAll("restored-alerts"));
        assertThat(onLog.keySet()).as("every alert id on the log at least once").containsAll(view);
        long sent = onLog.values().stream().mapToLong(Long::longValue).sum();
        long speculativeOnly = onLog.keySet().stream().filter(id -> !view.contains(id)).count();
        assertThat(onLog.keySet()).as("nothing on the log but the run's alerts and speculative ones of its cards")
                .allMatch(id -> view.contains(id) || id.split(":")[1].startsWith("card-"));
        // alertsNotConfirmed is not compared here: metrics are not checkpointed, each attempt counts from 0.
        System.out.printf("restored run: %d alerts in the view, %d ids on the log (%d not in the view), "
                        + "%d records on the log (%d sent more than once)%n",
                view.size(), onLog.size(), speculativeOnly, sent, sent - onLog.size());
    }

    static Transaction txn(String txnId, String card, String amount, String country, long offsetMs) {
        return new Transaction(txnId, card, "cust-" + card, "m", new BigDecimal(amount), "EUR", country, "POS",
                T + offsetMs, 1);
    }

    private Map<String, Properties> job(List<Transaction> arrival, Path lake, String alertsArn) throws IOException {
        Path input = workDir.resolve("arrival.ndjson");
        Files.write(input, arrival.stream().map(TransactionJson::write).toList());
        Path profiles = workDir.resolve("profiles.csv");
        Files.write(profiles, List.of("card_id,segment,home_country,risk_tier"));
        Map<String, Properties> groups = JobHarness.fileJob(input, lake, profiles);
        withAlertsStream(groups, alertsArn);
        return groups;
    }

    private static void withAlertsStream(Map<String, Properties> groups, String alertsArn) {
        groups.put("Kinesis", JobHarness.properties("aws.region", KinesisLocal.REGION));
        groups.put("Alerts", JobHarness.properties("sink", "kinesis", "stream.arn", alertsArn));
    }

    /** The job's alertsNotConfirmed, summed over the rules operator's subtasks. */
    private static long notConfirmed(JobExecutionResult result) {
        Map<String, org.apache.flink.metrics.Metric> counters =
                METRICS.findMetrics(result.getJobID(), CardRules.NOT_CONFIRMED_METRIC);
        assertThat(counters).as("one counter per rules subtask").hasSize(JobHarness.PARALLELISM);
        return counters.values().stream().mapToLong(m -> ((Counter) m).getCount()).sum();
    }

    private static Set<String> alertIds(List<Map<String, Object>> rows) {
        return rows.stream().map(r -> (String) r.get("alert_id")).collect(Collectors.toCollection(TreeSet::new));
    }

    static Map<String, Long> countsById(List<String> records) {
        return records.stream().map(EagerAlertsTest::alertId)
                .collect(Collectors.groupingBy(Function.identity(), TreeMap::new, Collectors.counting()));
    }

    static String alertId(String record) {
        return HoldUntilOnLog.json(record).get("alertId").asText();
    }
}
