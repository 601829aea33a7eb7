package dev.tributary.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tributary.flink.io.TransactionJson;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.testing.HoldUntilOnLog;
import dev.tributary.flink.testing.JobHarness;
import dev.tributary.flink.testing.KafkaBroker;
import dev.tributary.flink.testing.LakeReader;
import dev.tributary.flink.testing.ReferenceModel;
import dev.tributary.flink.testing.SampleGenerator;
import dev.tributary.flink.testing.SampleGenerator.Sample;
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
import java.util.stream.Collectors;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alerts log on a real Kafka broker (the sandbox's, Kafka 4.1), written by the job's at-least-once
 * KafkaSink: alerts are readable by a read_committed consumer while the job's input is held right after
 * the completing transaction (a transactional sink would show them only at a checkpoint's commit, which
 * cannot happen while the input is held); records are keyed by cardId; across a failure and restore
 * every alert id is on the topic at least once and the view has each exactly once.
 */
class KafkaAlertsTest {
    @RegisterExtension
    @Order(1)
    static final KafkaBroker KAFKA = new KafkaBroker();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension MINI_CLUSTER = JobHarness.miniCluster();

    static final long T = SampleGenerator.START;

    @TempDir
    Path workDir;

    @Test
    void alertsAreOnTheTopicBeforeTheWatermarkPassesKeyedByCard() throws Exception {
        List<Transaction> arrival = new ArrayList<>();
        Map<String, String> holdAfter = new LinkedHashMap<>();
        arrival.add(EagerAlertsTest.txn("k1", "kafka-r1", "150.00", "GB", 0));
        arrival.add(EagerAlertsTest.txn("k2", "kafka-r1", "150.00", "GB", 10_000));
        arrival.add(EagerAlertsTest.txn("k3", "kafka-r1", "150.00", "GB", 20_000));
        holdAfter.put("k3", "R1:kafka-r1:" + T);
        arrival.add(EagerAlertsTest.txn("q", "kafka-r2", "10.00", "FR", 60_000));
        arrival.add(EagerAlertsTest.txn("p", "kafka-r2", "10.00", "GB", 40_000));   // out of order: p precedes q
        holdAfter.put("p", "R2:kafka-r2:" + (T + 40_000));
        arrival.add(EagerAlertsTest.txn("z", "last", "1.00", "GB", 3_600_000));
        Path input = workDir.resolve("arrival.ndjson");
        Files.write(input, arrival.stream().map(TransactionJson::write).toList());
        Path lake = workDir.resolve("lake");
        KAFKA.createTopic("eager-alerts", 2);

        HoldUntilOnLog.reset(() -> values("eager-alerts"), holdAfter);
        JobHarness.run(job(input, lake, "eager-alerts"), HoldUntilOnLog::splice, 500);

        assertThat(HoldUntilOnLog.TIMED_OUT).as("alerts not on the topic while the input was held").isEmpty();
        Set<String> view = alertIds(LakeReader.rows(lake, "alerts"));
        assertThat(view).isEqualTo(ReferenceModel.alertIds(arrival)).containsExactlyInAnyOrderElementsOf(holdAfter.values());
        List<ConsumerRecord<String, String>> records = KAFKA.readAll("eager-alerts");
        Map<String, Long> appended = new TreeMap<>();
        records.forEach(r -> appended.put(HoldUntilOnLog.json(r.value()).get("alertId").asText(),
                r.timestamp() - HoldUntilOnLog.PASSED_AT_MILLIS.get(HoldUntilOnLog.json(r.value()).get("alertId").asText())));
        System.out.printf("Kafka: from passing the completing transaction to detection (ms): %s; to the broker's "
                        + "append (ms): %s; to readable by the test's consumer (ms): %s%n",
                new TreeMap<>(HoldUntilOnLog.DETECTION_MS), appended, new TreeMap<>(HoldUntilOnLog.LATENCY_MS));
        assertThat(records).extracting(ConsumerRecord::key)
                .containsExactlyInAnyOrderElementsOf(records.stream()
                        .map(r -> HoldUntilOnLog.json(r.value()).get("cardId").asText()).toList());
        assertThat(records).extracting(r -> HoldUntilOnLog.json(r.value()).get("alertId").asText())
                .as("each id once").containsExactlyInAnyOrderElementsOf(view);
    }

    @Test
    void acrossAFailureAndRestoreEveryAlertIsOnTheTopicAtLeastOnceAndInTheViewExactlyOnce() throws Exception {
        Sample sample = SampleGenerator.generate(new SampleGenerator.Options(9, 150, 2, 0.03, 0.02, 0, 0.005));
        Path input = workDir.resolve("events.ndjson");
        sample.writeTo(input);
        Path lake = workDir.resolve("restored");
        KAFKA.createTopic("restored-alerts", 2);

        FailureRecoveryTest.FailOnceAfterCheckpoint.reset(sample.lines().size() / 2);
        JobHarness.run(job(input, lake, "restored-alerts"), records -> records
                .map(new FailureRecoveryTest.FailOnceAfterCheckpoint()).setParallelism(records.getParallelism())
                .uid("test-fail-once"), 100);

        assertThat(FailureRecoveryTest.FailOnceAfterCheckpoint.FAILED).as("the induced failure happened").isTrue();
        List<Map<String, Object>> viewRows = LakeReader.rows(lake, "alerts");
        Set<String> view = alertIds(viewRows);
        assertThat(view).isEqualTo(sample.labelledAlertIds());
        assertThat(viewRows).as("the view exactly once").hasSize(view.size());
        Map<String, Long> onTopic = EagerAlertsTest.countsById(values("restored-alerts"));
        assertThat(onTopic.keySet()).as("every alert id on the topic at least once").containsAll(view);
        long sent = onTopic.values().stream().mapToLong(Long::longValue).sum();
        System.out.printf("Kafka restored run: %d alerts in the view, %d ids on the topic, %d records "
                + "(%d sent more than once)%n", view.size(), onTopic.size(), sent, sent - onTopic.size());
    }

    private Map<String, Properties> job(Path input, Path lake, String topic) throws Exception {
        Path profiles = workDir.resolve("profiles.csv");
        Files.write(profiles, SampleGenerator.profileCsv(150));
        Map<String, Properties> groups = JobHarness.fileJob(input, lake, profiles);
        groups.put("Kafka", JobHarness.properties("bootstrap.servers", KAFKA.bootstrapServers()));
        groups.put("Alerts", JobHarness.properties("sink", "kafka", "topic", topic));
        return groups;
    }

    private static List<String> values(String topic) {
        return KAFKA.readAll(topic).stream().map(ConsumerRecord::value).toList();
    }

    private static Set<String> alertIds(List<Map<String, Object>> rows) {
        return rows.stream().map(r -> (String) r.get("alert_id")).collect(Collectors.toCollection(TreeSet::new));
    }
}
