package dev.tributary.flink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tributary.flink.io.TransactionJson;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.testing.JobHarness;
import dev.tributary.flink.testing.KinesisLocal;
import dev.tributary.flink.testing.LakeReader;
import dev.tributary.flink.testing.ReferenceModel;
import dev.tributary.flink.testing.ReferenceModel.SpendRow;
import dev.tributary.flink.testing.SampleGenerator;
import dev.tributary.flink.testing.SampleGenerator.Sample;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.kinesis.model.Shard;

/**
 * The job on Kinesis, end to end through the real KinesisStreamsSource and KinesisStreamsSink against
 * kinesis-local (the sandbox's Kinesis): the views and alerts equal the reference model across a
 * failure and restore from a checkpoint, a replay starts at its timestamp, and the enhanced fan-out
 * reader reads the same stream. Kinesis is unbounded, so each run ends with one trailer event per
 * shard, two hours of event time after the sample, whose watermark closes every window of the
 * sample (as new traffic does in production), and the run is cancelled once every view is committed.
 */
class KinesisJobTest {
    @RegisterExtension
    @Order(1)
    static final KinesisLocal KINESIS = new KinesisLocal();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension MINI_CLUSTER = JobHarness.miniCluster();

    private static final Pattern CARD_ID = Pattern.compile("\"cardId\"\\s*:\\s*\"([^\"]+)\"");
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(150);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path workDir;

    @Test
    void viewsAndAlertsEqualTheReferenceModelExactlyOnceAcrossARestore() throws Exception {
        // No events beyond the allowed lateness: which of those are late depends on how far each shard's
        // reader is ahead of the other, which is not what this test is about (RulesEdgeCasesTest is).
        Sample sample = SampleGenerator.generate(new SampleGenerator.Options(11, 80, 2, 0.03, 0.02, 0, 0.005));
        String source = KINESIS.createStream("transactions", 2);
        String alerts = KINESIS.createStream("alerts", 1);
        // Written before the job starts: the first run reads from the trim horizon.
        List<String> trailers = putWithTrailers("transactions", sample);
        Path profiles = workDir.resolve("profiles.csv");
        Files.write(profiles, SampleGenerator.profileCsv(80));
        Path lake = workDir.resolve("lake");

        List<Transaction> expected = sample.onTimeEvents();
        int expectedSessions = ReferenceModel.sessions(expected, 1_800_000).size();
        // Two checkpoints of both instances of the failing map, taken while records flow.
        FailureRecoveryTest.FailOnceAfterCheckpoint.reset(sample.lines().size() / 2, 2 * JobHarness.PARALLELISM);
        runUntil(kinesisJob(source, lake, profiles, Map.of(), Map.of("sink", "kinesis", "stream.arn", alerts)),
                records -> records.map(new FailureRecoveryTest.FailOnceAfterCheckpoint())
                        .setParallelism(records.getParallelism()).uid("test-fail-once"),
                () -> LakeReader.rows(lake, "enriched_transactions").size() == expected.size() + trailers.size()
                        && LakeReader.rows(lake, "customer_sessions").size() >= expectedSessions
                        // The sink sends a partial batch after 50 ms in its buffer (maxTimeInBufferMS).
                        && streamedAlertIds("alerts").size() >= sample.labelledAlertIds().size());

        assertThat(FailureRecoveryTest.FailOnceAfterCheckpoint.FAILED).as("the induced failure happened").isTrue();
        assertThat(FailureRecoveryTest.FailOnceAfterCheckpoint.SEEN.get())
                .as("records read over both attempts: the second resumed from checkpointed sequence numbers")
                .isLessThan(FailureRecoveryTest.FailOnceAfterCheckpoint.failAfter + sample.lines().size() + 2);

        assertThat(LakeReader.rows(lake, "enriched_transactions")).extracting(r -> r.get("txn_id"))
                .containsExactlyInAnyOrderElementsOf(concat(expected.stream().map(t -> t.txnId).toList(), trailers));
        assertThat(alertIds(LakeReader.rows(lake, "alerts"))).isEqualTo(sample.labelledAlertIds());
        assertThat(LakeReader.rows(lake, "alerts")).hasSize(sample.labelledAlertIds().size());
        assertThat(spendRows(lake, "spend_per_card_minute", "card_id", "window_start", null))
                .containsExactlyInAnyOrderElementsOf(withoutEnd(ReferenceModel.tumbling(expected, true, 60_000)));
        assertThat(spendRows(lake, "spend_per_customer_hour", "customer_id", "window_start", null))
                .containsExactlyInAnyOrderElementsOf(withoutEnd(ReferenceModel.tumbling(expected, false, 3_600_000))
                        .stream().filter(row -> row.totalCents() > 100_000).toList());
        assertThat(spendRows(lake, "card_velocity", "card_id", "window_start", "window_end"))
                .containsExactlyInAnyOrderElementsOf(ReferenceModel.sliding(expected, 600_000, 60_000));
        assertThat(spendRows(lake, "customer_sessions", "customer_id", "session_start", "session_end"))
                .containsExactlyInAnyOrderElementsOf(ReferenceModel.sessions(expected, 1_800_000));
        assertThat(LakeReader.rows(lake, "dead_letter")).hasSize(sample.malformedCount());
        assertThat(LakeReader.rows(lake, "late_events")).isEmpty();

        // The Kinesis sink is at least once (Kinesis has no transactions): a restore may put an alert
        // twice, and consumers de-duplicate by alertId, which is deterministic.
        assertThat(streamedAlertIds("alerts")).isEqualTo(sample.labelledAlertIds());
    }

    @Test
    void aReplayStartsAtItsTimestampAndAnEnhancedFanOutReaderReadsTheSameStream() throws Exception {
        Sample sample = SampleGenerator.generate(new SampleGenerator.Options(12, 40, 1, 0, 0, 0, 0));
        String source = KINESIS.createStream("replayed", 2);
        List<String> lines = sample.lines();
        List<String> before = lines.subList(0, lines.size() / 2);
        List<String> after = lines.subList(lines.size() / 2, lines.size());
        KINESIS.put("replayed", before, KinesisJobTest::partitionKey, line -> null);
        // Arrival timestamps are kinesis-local's clock in milliseconds; leave a clear gap around the start.
        Thread.sleep(1_500);
        Instant start = Instant.now();
        Thread.sleep(1_500);
        List<String> trailers = putWithTrailers("replayed", after);
        Path profiles = workDir.resolve("profiles.csv");
        Files.write(profiles, SampleGenerator.profileCsv(40));

        List<String> expected = concat(after.stream().map(KinesisJobTest::txnId).toList(), trailers);
        Path replayLake = workDir.resolve("replay");
        runUntil(kinesisJob(source, replayLake, profiles, Map.of("start.timestamp", start.toString()), Map.of()),
                UnaryOperator.identity(),
                () -> LakeReader.rows(replayLake, "enriched_transactions").size() >= expected.size());
        assertThat(LakeReader.rows(replayLake, "enriched_transactions")).extracting(r -> r.get("txn_id"))
                .as("a replay from %s reads what arrived after it, and nothing before", start)
                .containsExactlyInAnyOrderElementsOf(expected);

        // The EFO reader, as prod configures it: registers its consumer and subscribes to every shard.
        List<String> all = concat(lines.stream().map(KinesisJobTest::txnId).toList(), trailers);
        Path efoLake = workDir.resolve("efo");
        Map<String, Properties> efo = kinesisJob(source, efoLake, profiles, Map.of(), Map.of());
        efo.get("Kinesis").setProperty("efo.consumer.name", "tributary-stream-v1");
        java.util.concurrent.atomic.AtomicBoolean registered = new java.util.concurrent.atomic.AtomicBoolean();
        runUntil(efo, UnaryOperator.identity(), () -> {
            registered.compareAndSet(false, KINESIS.client().listStreamConsumers(b -> b.streamARN(source)).consumers()
                    .stream().anyMatch(c -> c.consumerName().equals("tributary-stream-v1")));
            return registered.get() && LakeReader.rows(efoLake, "enriched_transactions").size() >= all.size();
        });
        assertThat(LakeReader.rows(efoLake, "enriched_transactions")).extracting(r -> r.get("txn_id"))
                .as("the EFO reader from the trim horizon reads every record once")
                .containsExactlyInAnyOrderElementsOf(all);
    }

    /** The property groups of a Kinesis-sourced run, as the stacks and the sandbox give them. */
    private static Map<String, Properties> kinesisJob(String streamArn, Path lake, Path profiles,
                                                      Map<String, String> source, Map<String, String> alerts) {
        Map<String, Properties> groups = new LinkedHashMap<>();
        groups.put("Job", JobHarness.properties("lake.root", lake.toUri().toString(),
                "profiles.path", profiles.toUri().toString()));
        Properties sourceGroup = JobHarness.properties("type", "kinesis");
        sourceGroup.putAll(source);
        groups.put("Source", sourceGroup);
        groups.put("Kinesis", JobHarness.properties("aws.region", KinesisLocal.REGION, "stream.arn", streamArn));
        Properties alertsGroup = new Properties();
        alertsGroup.putAll(alerts);
        groups.put("Alerts", alertsGroup);
        groups.put("Rules", JobHarness.ruleProperties(JobHarness.PRODUCT_RULES));
        return groups;
    }

    /** Runs the job until {@code done} holds (polled), then cancels it; fails after RUN_TIMEOUT. */
    private static void runUntil(Map<String, Properties> groups,
                                 UnaryOperator<org.apache.flink.streaming.api.datastream.DataStream<
                                         dev.tributary.flink.model.ParsedRecord>> between,
                                 BooleanSupplier done) throws Exception {
        JobClient job = JobHarness.start(groups, between, 300);
        try {
            Instant deadline = Instant.now().plus(RUN_TIMEOUT);
            while (!done.getAsBoolean()) {
                assertThat(job.getJobStatus().get().isGloballyTerminalState()).as("the job is still running").isFalse();
                assertThat(Instant.now()).as("the job finished its input within %s", RUN_TIMEOUT).isBefore(deadline);
                Thread.sleep(250);
            }
            // One more checkpoint: anything a late commit would add must show up in the assertions.
            Thread.sleep(1_000);
        } finally {
            job.cancel().get();
        }
    }

    /** Puts a sample's lines, then one trailer per shard; returns the trailers' txnIds. */
    private static List<String> putWithTrailers(String stream, Sample sample) throws InterruptedException {
        return putWithTrailers(stream, sample.lines());
    }

    private static List<String> putWithTrailers(String stream, List<String> lines) throws InterruptedException {
        KINESIS.put(stream, lines, KinesisJobTest::partitionKey, line -> null);
        long last = lines.stream().filter(line -> line.contains("\"eventTime\"")).mapToLong(KinesisJobTest::eventTime)
                .max().orElseThrow();
        List<String> trailers = new ArrayList<>();
        List<Shard> shards = KINESIS.shards(stream);
        for (int i = 0; i < shards.size(); i++) {
            Transaction trailer = new Transaction("trailer-" + i, "card-trailer-" + i, "cust-trailer-" + i, "m",
                    new BigDecimal("1.00"), "EUR", "GB", "POS", last + 2 * 3_600_000L, 1);
            String hashKey = shards.get(i).hashKeyRange().startingHashKey();
            KINESIS.put(stream, List.of(TransactionJson.write(trailer)), line -> "trailer", line -> hashKey);
            trailers.add(trailer.txnId);
        }
        return trailers;
    }

    /** The producer's partition key: the card, so one card's events stay in order on one shard. */
    private static String partitionKey(String line) {
        Matcher card = CARD_ID.matcher(line);
        return card.find() ? card.group(1) : "unparsed";
    }

    private static long eventTime(String line) {
        return TransactionJson.parse(line).isValid() ? TransactionJson.parse(line).transaction.eventTime : 0;
    }

    private static String txnId(String line) {
        return TransactionJson.parse(line).transaction.txnId;
    }

    /** The distinct alertIds on the alerts stream. */
    private static Set<String> streamedAlertIds(String stream) {
        Set<String> ids = new TreeSet<>();
        for (String record : KINESIS.readAll(stream)) {
            try {
                ids.add(JSON.readTree(record).get("alertId").asText());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return ids;
    }

    private static Set<String> alertIds(List<Map<String, Object>> rows) {
        return rows.stream().map(r -> (String) r.get("alert_id")).collect(Collectors.toCollection(TreeSet::new));
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static List<SpendRow> spendRows(Path lake, String view, String keyColumn, String startColumn,
                                            String endColumn) {
        return LakeReader.rows(lake, view).stream().map(r -> new SpendRow((String) r.get(keyColumn),
                (Long) r.get(startColumn), endColumn == null ? 0 : (Long) r.get(endColumn), (Long) r.get("txn_count"),
                ((BigDecimal) r.get("total_amount")).movePointRight(2).longValueExact())).toList();
    }

    private static List<SpendRow> withoutEnd(List<SpendRow> rows) {
        return rows.stream().map(r -> new SpendRow(r.key(), r.start(), 0, r.count(), r.totalCents())).toList();
    }
}
