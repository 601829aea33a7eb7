package dev.tributary.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tributary.flink.io.TransactionJson;
import dev.tributary.flink.model.ParsedRecord;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.rules.CardRules;
import dev.tributary.flink.testing.JobHarness;
import dev.tributary.flink.testing.LakeReader;
import dev.tributary.flink.testing.ReferenceModel;
import dev.tributary.flink.testing.SampleGenerator;
import dev.tributary.flink.views.Rows.Alert;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The speculative alerts at parallelism 4, against the final ones. When each card's transactions arrive
 * in event-time order (as on the event log, which is keyed by card), the job must keep that order up to
 * the rules, so every alert sent to the alerts log on arrival is one the final evaluation confirms. When
 * a card's transaction really does arrive out of order and breaks an already fired pattern, the
 * speculative alert is counted and logged as not confirmed as soon as the final evaluation has passed
 * the transaction that breaks it, and the final alert reaches the log exactly once.
 */
class CardOrderTest {
    static final int PARALLELISM = 4;
    static final long T = SampleGenerator.START;

    static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            JobHarness.miniCluster(METRICS.addToConfiguration(new Configuration()), PARALLELISM);

    /** What the rules send to the alerts log (their side output), across subtasks. */
    static final Queue<Alert> LOG = new ConcurrentLinkedQueue<>();
    /** The messages CardRules logs. */
    static final Queue<String> RULES_LOG_LINES = new ConcurrentLinkedQueue<>();
    private static final AbstractAppender CAPTURE = new AbstractAppender("card-rules-capture", null, null, true,
            Property.EMPTY_ARRAY) {
        @Override
        public void append(LogEvent event) {
            RULES_LOG_LINES.add(event.getLevel() + " " + event.getMessage().getFormattedMessage());
        }
    };

    @TempDir
    Path workDir;

    @BeforeAll
    static void captureRulesLog() {
        CAPTURE.start();
        ((org.apache.logging.log4j.core.Logger) LogManager.getLogger(CardRules.class)).addAppender(CAPTURE);
    }

    @AfterAll
    static void releaseRulesLog() {
        ((org.apache.logging.log4j.core.Logger) LogManager.getLogger(CardRules.class)).removeAppender(CAPTURE);
        CAPTURE.stop();
    }

    @BeforeEach
    void clear() {
        LOG.clear();
        RULES_LOG_LINES.clear();
        HoldUntilLogged.reset(null, null);
    }

    @Test
    void inOrderPerCardEverySpeculativeAlertIsConfirmedAtParallelism4() throws Exception {
        List<Transaction> arrival = interleavedInOrderPerCard(new Random(42), 512, 16, 30);
        JobExecutionResult result = run(arrival, workDir.resolve("lake"));

        Set<String> view = alertIds(LakeReader.rows(workDir.resolve("lake"), "alerts"));
        Map<String, Long> onLog = countsById();
        Set<String> notInView = new TreeSet<>(onLog.keySet());
        notInView.removeAll(view);
        long notConfirmed = notConfirmed(result);
        System.out.printf("parallelism %d, %d transactions: %d alerts in the view (R1 %d, R2 %d, R3 %d), %d ids on "
                        + "the log, %d of them not in the view (R1 %d, R2 %d, R3 %d), alertsNotConfirmed %d%n",
                PARALLELISM, arrival.size(), view.size(), byRule(view, "R1"), byRule(view, "R2"), byRule(view, "R3"),
                onLog.size(), notInView.size(), byRule(notInView, "R1"), byRule(notInView, "R2"),
                byRule(notInView, "R3"), notConfirmed);

        assertThat(view).as("the view: the reference model").isEqualTo(ReferenceModel.alertIds(arrival));
        assertThat(byRule(view, "R1")).isPositive();
        assertThat(byRule(view, "R2")).isPositive();
        assertThat(byRule(view, "R3")).isPositive();
        assertThat(onLog.keySet()).as("speculative alert ids on the log = final alert ids").isEqualTo(view);
        assertThat(onLog.values()).as("each id sent once (no failure in this run)").allMatch(n -> n == 1);
        assertThat(notConfirmed).as(CardRules.NOT_CONFIRMED_METRIC).isZero();
        assertThat(RULES_LOG_LINES).as("nothing logged as not confirmed").isEmpty();
    }

    @Test
    void anOutOfOrderTransactionThatBreaksAFiredPairIsCountedWhenTheFinalEvaluationPassesIt() throws Exception {
        List<Transaction> arrival = new ArrayList<>();
        arrival.add(txn("u1", "hop", "10.00", "GB", 0));
        arrival.add(txn("u2", "hop", "10.00", "FR", 60_000));     // speculative R2, window 0 s
        arrival.add(txn("ux", "hop", "10.00", "GB", 40_000));     // late but allowed: ux -> u2 is the final pair
        arrival.add(txn("m", "other", "1.00", "GB", 100_000));    // watermark 95 s, rules' (lagged) 65 s
        arrival.add(txn("n", "other", "1.00", "GB", 101_000));    // held until the WARN line is out
        arrival.add(txn("z", "last", "1.00", "GB", 3 * 3_600_000L));
        String unconfirmed = "R2:hop:" + T;
        String confirmed = "R2:hop:" + (T + 40_000);
        HoldUntilLogged.reset("n", unconfirmed);

        JobExecutionResult result = run(arrival, workDir.resolve("lake"));

        assertThat(HoldUntilLogged.seenWhileHeld).as("the unconfirmed alert was logged while the input was held "
                + "at 101 s, i.e. when the rules' watermark passed the breaking transaction (40 s), not only once "
                + "it passed the pair's window start + 5 min").isTrue();
        assertThat(RULES_LOG_LINES).as("one WARN line, naming the alert id")
                .singleElement().asString().startsWith("WARN").contains(unconfirmed).contains("u1,u2");
        assertThat(notConfirmed(result)).as(CardRules.NOT_CONFIRMED_METRIC).isEqualTo(1);
        assertThat(alertIds(LakeReader.rows(workDir.resolve("lake"), "alerts")))
                .isEqualTo(ReferenceModel.alertIds(arrival)).containsExactly(confirmed);
        assertThat(countsById()).as("the speculative alert stays on the log; the final one is sent exactly once")
                .isEqualTo(Map.of(unconfirmed, 1L, confirmed, 1L));
    }

    /**
     * {@code cards} cards in groups of {@code groupSize}: the cards of a group transact every 10 s for
     * {@code perCard} transactions, shuffled within each round, so a card's transactions are in event-time
     * order while those of the group's cards interleave closely; groups follow each other in event time.
     * Countries change at random (R2), a third of the amounts are over 100 (R1), some are spikes (R3).
     */
    static List<Transaction> interleavedInOrderPerCard(Random random, int cards, int groupSize, int perCard) {
        String[] countries = {"GB", "FR", "DE"};
        List<Transaction> arrival = new ArrayList<>();
        long groupSpan = perCard * 10_000L + 60_000;
        for (int g = 0; g * groupSize < cards; g++) {
            List<Integer> group = new ArrayList<>();
            for (int c = g * groupSize; c < Math.min(cards, (g + 1) * groupSize); c++) {
                group.add(c);
            }
            String[] country = new String[cards];
            for (int r = 0; r < perCard; r++) {
                Collections.shuffle(group, random);
                for (int c : group) {
                    if (country[c] == null || random.nextDouble() < 0.3) {
                        country[c] = countries[random.nextInt(countries.length)];
                    }
                    double kind = random.nextDouble();
                    String amount = kind < 0.05 ? "2500.00" : kind < 0.4 ? (101 + random.nextInt(200)) + ".00"
                            : (1 + random.nextInt(60)) + "." + (10 + random.nextInt(90));
                    long offset = g * groupSpan + r * 10_000L + random.nextInt(5_000);
                    arrival.add(txn("t" + c + "-" + r, String.format("card-%04d", c), amount, country[c], offset));
                }
            }
        }
        return arrival;
    }

    private JobExecutionResult run(List<Transaction> arrival, Path lake) throws Exception {
        Path input = workDir.resolve("arrival.ndjson");
        Files.write(input, arrival.stream().map(TransactionJson::write).toList());
        Path profiles = workDir.resolve("profiles.csv");
        Files.write(profiles, List.of("card_id,segment,home_country,risk_tier"));
        return JobHarness.run(JobHarness.fileJob(input, lake, profiles), PARALLELISM, HoldUntilLogged::splice,
                rules -> rules.getSideOutput(CardRules.ALERTS_LOG).sinkTo(new CollectLog()).name("collect log"));
    }

    static Transaction txn(String txnId, String card, String amount, String country, long offsetMs) {
        return new Transaction(txnId, card, "cust-" + card, "m", new BigDecimal(amount), "EUR", country, "POS",
                T + offsetMs, 1);
    }

    private static long byRule(Set<String> ids, String rule) {
        return ids.stream().filter(id -> id.startsWith(rule + ":")).count();
    }

    private static Map<String, Long> countsById() {
        return LOG.stream().collect(Collectors.groupingBy(Alert::alertId, TreeMap::new, Collectors.counting()));
    }

    private static Set<String> alertIds(List<Map<String, Object>> rows) {
        return rows.stream().map(r -> (String) r.get("alert_id")).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The job's alertsNotConfirmed, summed over the rules operator's subtasks. */
    private static long notConfirmed(JobExecutionResult result) {
        Map<String, org.apache.flink.metrics.Metric> counters =
                METRICS.findMetrics(result.getJobID(), CardRules.NOT_CONFIRMED_METRIC);
        assertThat(counters).as("one counter per rules subtask").hasSize(PARALLELISM);
        return counters.values().stream().mapToLong(m -> ((Counter) m).getCount()).sum();
    }

    /** Collects what the rules send to the alerts log. */
    static final class CollectLog implements Sink<Alert> {
        @Override
        public SinkWriter<Alert> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(Alert alert, Context context) {
                    LOG.add(alert);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }

    /**
     * Spliced after the (single) file reader: holds the input at transaction {@code holdAt} (the watermark
     * of the transactions before it is out) until CardRules has logged a line naming {@code alertId}, at most
     * {@link #PATIENCE_MS}.
     */
    static final class HoldUntilLogged implements MapFunction<ParsedRecord, ParsedRecord> {
        static final long PATIENCE_MS = 15_000;
        static volatile String holdAt;
        static volatile String alertId;
        static volatile boolean seenWhileHeld;

        static void reset(String holdAtTxn, String awaitedAlertId) {
            holdAt = holdAtTxn;
            alertId = awaitedAlertId;
            seenWhileHeld = false;
        }

        static org.apache.flink.streaming.api.datastream.DataStream<ParsedRecord> splice(
                org.apache.flink.streaming.api.datastream.DataStream<ParsedRecord> records) {
            return records.map(new HoldUntilLogged()).setParallelism(records.getParallelism()).uid("test-hold");
        }

        @Override
        public ParsedRecord map(ParsedRecord record) throws Exception {
            if (holdAt != null && record.isValid() && record.transaction.txnId.equals(holdAt)) {
                long deadline = System.nanoTime() + PATIENCE_MS * 1_000_000;
                while (System.nanoTime() < deadline && !seenWhileHeld) {
                    seenWhileHeld = RULES_LOG_LINES.stream().anyMatch(line -> line.contains(alertId));
                    Thread.sleep(10);
                }
            }
            return record;
        }
    }
}
