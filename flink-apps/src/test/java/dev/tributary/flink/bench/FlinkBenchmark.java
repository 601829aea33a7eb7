package dev.tributary.flink.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tributary.flink.TributaryStreamJob;
import dev.tributary.flink.config.JobProperties;
import dev.tributary.flink.config.JobSettings;
import dev.tributary.flink.lake.LakeSink;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.processing.RecordRouter;
import dev.tributary.flink.testing.JobHarness;
import dev.tributary.flink.testing.SampleGenerator;
import dev.tributary.flink.testing.SampleGenerator.Sample;
import dev.tributary.flink.views.Rows.EnrichedTransaction;
import dev.tributary.flink.views.Views;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Events per second of the full job and of a pass-through job (source and parse, then one Parquet
 * view) over the same generated input, on a local MiniCluster. Run by bench/flink/run.sh.
 * Arguments: {@code <events> <result.json>}.
 */
public final class FlinkBenchmark {
    static final int PARALLELISM = 2;
    static final long CHECKPOINT_MS = 10_000;

    public static void main(String[] args) throws Exception {
        int targetEvents = Integer.parseInt(args[0]);
        Path result = Path.of(args[1]);
        Path work = Files.createTempDirectory("tributary-flink-bench");
        try {
            // ~60 transactions per card over 8 hours at the generator's 8-minute cadence.
            int cards = Math.max(10, targetEvents / 60);
            Sample sample = SampleGenerator.generate(new SampleGenerator.Options(1, cards, 8, 0.01, 0.01, 50, 0.001));
            Path input = work.resolve("events.ndjson");
            sample.writeTo(input);
            Path profiles = work.resolve("profiles.csv");
            Files.write(profiles, SampleGenerator.profileCsv(cards));
            int events = sample.lines().size();
            System.out.printf("input: %d records (%d cards)%n", events, cards);

            // Warm the JVM on the pass-through job once, so neither measured run pays for class loading alone.
            run(JobHarness.fileJob(input, work.resolve("warmup"), profiles), FlinkBenchmark::passThrough);
            double passSeconds = run(JobHarness.fileJob(input, work.resolve("pass"), profiles),
                    FlinkBenchmark::passThrough);
            double fullSeconds = run(JobHarness.fileJob(input, work.resolve("full"), profiles),
                    FlinkBenchmark::fullJob);

            double passEps = events / passSeconds;
            double fullEps = events / fullSeconds;
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode json = mapper.createObjectNode();
            json.put("date", Instant.now().toString());
            json.put("machineCores", Runtime.getRuntime().availableProcessors());
            json.put("java", System.getProperty("java.version"));
            json.put("flink", EnvironmentInformation.getVersion());
            json.put("parallelism", PARALLELISM);
            json.put("events", events);
            json.put("fullJobSeconds", round(fullSeconds));
            json.put("fullJobEventsPerSecond", Math.round(fullEps));
            json.put("passThroughSeconds", round(passSeconds));
            json.put("passThroughEventsPerSecond", Math.round(passEps));
            json.put("fullToPassThroughRatio", round(fullEps / passEps));
            json.put("note", "Wall time of env.execute() on a local MiniCluster, job start-up included; "
                    + "file source (one reader), Parquet sinks on local disk, checkpoints every 10 s.");
            Files.createDirectories(result.getParent());
            mapper.writeValue(result.toFile(), json);
            System.out.printf("pass-through: %.0f events/s (%.2f s)%n", passEps, passSeconds);
            System.out.printf("full job:     %.0f events/s (%.2f s)%n", fullEps, fullSeconds);
            System.out.printf("ratio full / pass-through: %.2f%n", fullEps / passEps);
            System.out.println("written " + result);
        } finally {
            try (Stream<Path> files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
        System.exit(0);
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }

    private static double run(java.util.Map<String, java.util.Properties> groups,
                              Consumer<StreamExecutionEnvironmentAndSettings> job) throws Exception {
        Configuration config = new Configuration();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(PARALLELISM, config);
        env.enableCheckpointing(CHECKPOINT_MS);
        JobSettings settings = JobSettings.read(new JobProperties(groups));
        job.accept(new StreamExecutionEnvironmentAndSettings(env, settings));
        long start = System.nanoTime();
        env.execute("bench");
        return (System.nanoTime() - start) / 1e9;
    }

    record StreamExecutionEnvironmentAndSettings(StreamExecutionEnvironment env, JobSettings settings) {}

    /** The whole job, as main() builds it. */
    static void fullJob(StreamExecutionEnvironmentAndSettings run) {
        TributaryStreamJob.attach(run.settings(), TributaryStreamJob.readEvents(run.env(), run.settings()));
    }

    /** The same source and parsing, then straight into one Parquet view. */
    static void passThrough(StreamExecutionEnvironmentAndSettings run) {
        JobSettings settings = run.settings();
        TributaryStreamJob.readEvents(run.env(), settings)
                .process(new RecordRouter())
                .map(FlinkBenchmark::unenriched)
                .sinkTo(LakeSink.forView(Views.ENRICHED_TRANSACTIONS, settings.lake().root(), 1));
    }

    static EnrichedTransaction unenriched(Transaction t) {
        return new EnrichedTransaction(t.txnId, t.cardId, t.customerId, t.merchantId, t.amountCents(), t.currency,
                t.country, t.channel, t.eventTime, null, null, null);
    }
}
