package dev.tributary.flink;

import dev.tributary.flink.config.ApplicationProperties;
import dev.tributary.flink.config.JobProperties;
import dev.tributary.flink.config.JobSettings;
import dev.tributary.flink.config.LaunchOptions;
import dev.tributary.flink.io.AlertSinks;
import dev.tributary.flink.io.EventSources;
import dev.tributary.flink.io.TransactionWatermarks;
import dev.tributary.flink.lake.LakeSink;
import dev.tributary.flink.model.ParsedRecord;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.processing.Deduplicator;
import dev.tributary.flink.processing.FinalWindowTrigger;
import dev.tributary.flink.processing.LateEventRouter;
import dev.tributary.flink.processing.ProfileEnricher;
import dev.tributary.flink.processing.RecordRouter;
import dev.tributary.flink.processing.SpendAggregate;
import dev.tributary.flink.processing.SpendWindowFunctions;
import dev.tributary.flink.processing.WatermarkLag;
import dev.tributary.flink.rules.CardRules;
import dev.tributary.flink.views.Rows.Alert;
import dev.tributary.flink.views.Rows.LateEvent;
import dev.tributary.flink.views.ViewDefinition;
import dev.tributary.flink.views.ViewRow;
import dev.tributary.flink.views.Views;
import java.time.Duration;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.datastream.WindowedStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.triggers.Trigger;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream processing job of the reference product: parse, deduplicate, route late events,
 * enrich, aggregate the spend views, detect R1-R3, and write every view to the lake.
 *
 * <pre>
 * source ─► route ─► dedupe(card) ─► late router ──┬─► enrich ─────────────────► enriched_transactions
 *   │ rejected                           │ late     ├─► windows (card, customer) ─► 4 spend views
 *   ▼                                    ▼          └─► watermark lag ─► keyBy card ─► R1-R3 ─┬─ final ─────► alerts view
 * dead_letter                       late_events ◄─── behind-watermark events ◄─────────────────┤
 *                                                                     on arrival / at final ─┴─► alerts log (stream/topic)
 * </pre>
 */
public final class TributaryStreamJob {
    private static final Logger LOG = LoggerFactory.getLogger(TributaryStreamJob.class);

    /**
     * How long the two network exchanges on the way to the rules (after the source, after the late router)
     * may hold a partly filled buffer; Flink's default is 100 ms. Its docs advise 5 or 10 ms to minimize
     * latency (not 0, which sends every record in its own buffer).
     */
    public static final Duration ALERT_PATH_BUFFER_TIMEOUT = Duration.ofMillis(10);

    /**
     * The dedupe operator's uid (before the version suffix). It was {@code dedupe} while the state was a flag
     * keyed by txnId; keyed by card its state is a map of txnIds, which an old snapshot cannot fill.
     */
    public static final String DEDUPE_UID = "dedupe-by-card";

    private TributaryStreamJob() {}

    public static void main(String[] args) throws Exception {
        LaunchOptions options = LaunchOptions.parse(args);
        JobProperties properties = new JobProperties(ApplicationProperties.load(options));
        // On Managed Flink the service's own configuration must stand as it is, so only a local run passes one.
        StreamExecutionEnvironment env = options.isLocal()
                ? StreamExecutionEnvironment.getExecutionEnvironment(localConfiguration(options))
                : StreamExecutionEnvironment.getExecutionEnvironment();
        JobSettings settings = build(env, properties);
        env.execute(settings.lake().versioned("tributary-stream"));
    }

    /**
     * Managed Flink configures checkpoints and restores snapshots itself; a local run gets the same from
     * its launch options: a checkpoint interval, and with a checkpoint directory, checkpoints kept across
     * runs and a restore from the newest one.
     */
    static Configuration localConfiguration(LaunchOptions options) {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, options.checkpointInterval());
        options.checkpointDir().ifPresent(dir -> {
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.toUri().toString());
            conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                    ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        });
        options.latestCheckpoint().ifPresent(checkpoint -> {
            LOG.info("Restoring from checkpoint {}", checkpoint);
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, checkpoint.toUri().toString());
        });
        return conf;
    }

    /** Reads the settings (the job's only access to its properties) and builds the whole graph. */
    public static JobSettings build(StreamExecutionEnvironment env, JobProperties properties) {
        JobSettings settings = JobSettings.read(properties);
        attach(settings, readEvents(env, settings));
        return settings;
    }

    /** The source, with per-split watermarks assigned where the records are read. */
    public static DataStream<ParsedRecord> readEvents(StreamExecutionEnvironment env, JobSettings settings) {
        // Given explicitly: KinesisStreamsSource, unlike KafkaSource, does not report its produced type.
        DataStreamSource<ParsedRecord> events = env.fromSource(EventSources.create(settings),
                TransactionWatermarks.strategy(settings.eventTime()), "events", TypeInformation.of(ParsedRecord.class));
        if (settings.source().type() == JobSettings.SourceType.FILE) {
            // One reader takes the files in order, so event-time progress, and with it the set of late
            // events, is the same on every run over the same archive.
            events.setParallelism(1);
        }
        return events.uid(settings.lake().versioned("source"));
    }

    /**
     * Everything after the source. Returns the rules operator: its main output is the alerts view, its
     * side output {@link CardRules#ALERTS_LOG} what goes to the alerts log (tests tap it).
     */
    public static SingleOutputStreamOperator<Alert> attach(JobSettings settings, DataStream<ParsedRecord> records) {
        JobSettings.Lake lake = settings.lake();
        Duration lateness = settings.eventTime().allowedLateness();

        // Same parallelism as the source, so it chains to it and watermarks reach the late router
        // over one path: which events are late then depends on the input alone.
        SingleOutputStreamOperator<Transaction> accepted = records
                .process(new RecordRouter()).setParallelism(records.getParallelism())
                .setBufferTimeout(ALERT_PATH_BUFFER_TIMEOUT.toMillis())
                .uid(lake.versioned("route")).name("route rejected records");
        write(accepted.getSideOutput(RecordRouter.DEAD_LETTER), Views.DEAD_LETTER, lake);

        // Keyed by card, so each card's transactions keep their log order (one partition or shard per card)
        // over one path up to the rules: dedupe, late router and watermark lag chain, and the rules' keyBy
        // by the same key sends a card from one subtask to one subtask over one channel. Keyed by txnId, a
        // card's transactions crossed different subtasks and could reach the rules out of order, making
        // speculative alerts that the final evaluation does not confirm.
        SingleOutputStreamOperator<Transaction> onTime = accepted
                .keyBy(txn -> txn.cardId)
                .process(new Deduplicator(settings.dedupeTtl())).uid(lake.versioned(DEDUPE_UID))
                .name("dedupe by txnId, per card")
                .process(new LateEventRouter(lateness)).uid(lake.versioned("late-router")).name("route late events");

        write(onTime.map(new ProfileEnricher(settings.profilesPath())).uid(lake.versioned("enrich"))
                .name("enrich with card profile"), Views.ENRICHED_TRANSACTIONS, lake);

        write(spend(onTime.keyBy(txn -> txn.cardId), TumblingEventTimeWindows.of(Duration.ofMinutes(1)), lateness)
                        .aggregate(new SpendAggregate(), new SpendWindowFunctions.CardMinute())
                        .uid(lake.versioned("spend-per-card-minute")).name("spend per card per minute"),
                Views.SPEND_PER_CARD_MINUTE, lake);
        write(spend(onTime.keyBy(txn -> txn.customerId), TumblingEventTimeWindows.of(Duration.ofHours(1)), lateness)
                        .aggregate(new SpendAggregate(), new SpendWindowFunctions.CustomerHour())
                        .uid(lake.versioned("spend-per-customer-hour")).name("spend per customer per hour > 1000"),
                Views.SPEND_PER_CUSTOMER_HOUR, lake);
        write(spend(onTime.keyBy(txn -> txn.cardId),
                        SlidingEventTimeWindows.of(Duration.ofMinutes(10), Duration.ofMinutes(1)), lateness)
                        .aggregate(new SpendAggregate(), new SpendWindowFunctions.Velocity())
                        .uid(lake.versioned("card-velocity")).name("card velocity 10 min / 1 min"),
                Views.CARD_VELOCITY, lake);
        write(spend(onTime.keyBy(txn -> txn.customerId), EventTimeSessionWindows.withGap(Duration.ofMinutes(30)),
                        lateness)
                        .aggregate(new SpendAggregate(), new SpendWindowFunctions.Session())
                        .uid(lake.versioned("customer-sessions")).name("customer sessions 30 min gap"),
                Views.CUSTOMER_SESSIONS, lake);

        OutputTag<LateEvent> lateForRules = new OutputTag<>("late-for-rules") {};
        SingleOutputStreamOperator<Alert> alerts = onTime
                .transform("lag watermark for rules", TypeInformation.of(Transaction.class),
                        new WatermarkLag<Transaction>(lateness))
                .setBufferTimeout(ALERT_PATH_BUFFER_TIMEOUT.toMillis())
                .uid(lake.versioned("rules-watermark-lag"))
                .keyBy(txn -> txn.cardId)
                .process(new CardRules(lateForRules, settings.rules()))
                .uid(lake.versioned("rules")).name("R1-R3 eager rules");
        // The view: final alerts only, exactly once. The log: each alert as soon as it is detected, at least once.
        write(alerts, Views.ALERTS, lake);
        AlertSinks.create(settings).ifPresent(sink -> alerts.getSideOutput(CardRules.ALERTS_LOG).sinkTo(sink)
                .uid(lake.versioned("alerts-out")).name("alerts to " + settings.alerts().type()));

        write(onTime.getSideOutput(LateEventRouter.LATE).union(alerts.getSideOutput(lateForRules)),
                Views.LATE_EVENTS, lake);
        return alerts;
    }

    /** A spend window that emits one final row per window, after the allowed lateness. */
    private static <W extends TimeWindow> WindowedStream<Transaction, String, W> spend(
            KeyedStream<Transaction, String> keyed, WindowAssigner<Object, W> windows, Duration lateness) {
        return keyed.window(windows).allowedLateness(lateness).trigger(finalWindowTrigger(lateness));
    }

    @SuppressWarnings("unchecked")
    private static <W extends TimeWindow> Trigger<Object, W> finalWindowTrigger(Duration lateness) {
        // FinalWindowTrigger works on any TimeWindow; Java cannot express that for a generic W.
        return (Trigger<Object, W>) (Trigger<Object, ?>) new FinalWindowTrigger(lateness);
    }

    private static <T extends ViewRow> void write(DataStream<T> rows, ViewDefinition<T> view, JobSettings.Lake lake) {
        rows.sinkTo(LakeSink.forView(view, lake.root(), lake.version()))
                .uid(lake.versioned("lake-" + view.name())).name("lake " + view.name());
    }
}
