package dev.tributary.flink.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tributary.flink.TributaryStreamJob;
import dev.tributary.flink.config.JobProperties;
import dev.tributary.flink.config.JobSettings;
import dev.tributary.flink.config.RuleParameters;
import dev.tributary.flink.model.ParsedRecord;
import dev.tributary.flink.views.Rows.Alert;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;

/** Runs the job on the test MiniCluster with a file source and a local lake. */
public final class JobHarness {
    public static final int PARALLELISM = 2;

    private JobHarness() {}

    public static MiniClusterExtension miniCluster() {
        return miniCluster(new Configuration());
    }

    /** The test MiniCluster with extra cluster configuration (e.g. a metric reporter). */
    public static MiniClusterExtension miniCluster(Configuration configuration) {
        return miniCluster(configuration, PARALLELISM);
    }

    /** The test MiniCluster with {@code slots} slots, for a job of that parallelism. */
    public static MiniClusterExtension miniCluster(Configuration configuration, int slots) {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setConfiguration(configuration)
                .setNumberTaskManagers(1)
                .setNumberSlotsPerTaskManager(slots)
                .build());
    }

    /** The property groups of a file-sourced run, as a local properties file would give them. */
    public static Map<String, Properties> fileJob(Path input, Path lakeRoot, Path profiles) {
        Map<String, Properties> groups = new LinkedHashMap<>();
        groups.put(JobSettings.JOB, properties(
                "lake.root", lakeRoot.toUri().toString(),
                "profiles.path", profiles.toUri().toString()));
        groups.put(JobSettings.SOURCE, properties("type", "file", "file.path", input.toUri().toString()));
        groups.put(RuleParameters.GROUP, ruleProperties(PRODUCT_RULES));
        return groups;
    }

    /** products/card-fraud/product.json, the product definition the job is tested with (cwd: flink-apps). */
    public static final Path PRODUCT_DEFINITION = Path.of("..", "products", "card-fraud", "product.json");

    /** The definition's rules, read as lib/stream-job-properties.ts reads them for the deployed job. */
    public static final RuleParameters PRODUCT_RULES = productRules();

    private static RuleParameters productRules() {
        try {
            JsonNode rules = new ObjectMapper().readTree(PRODUCT_DEFINITION.toFile()).get("rules");
            return new RuleParameters(rules.at("/R1/largeAboveCents").asLong(), rules.at("/R1/withinMs").asLong(),
                    rules.at("/R2/withinMs").asLong(), rules.at("/R3/minHistory").asLong(),
                    rules.at("/R3/factor").asLong());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code Rules} property group of some rule parameters. */
    public static Properties ruleProperties(RuleParameters rules) {
        return properties(
                "r1.large-above.cents", String.valueOf(rules.largeAboveCents()),
                "r1.within.ms", String.valueOf(rules.burstWindowMs()),
                "r2.within.ms", String.valueOf(rules.hopWindowMs()),
                "r3.min-history", String.valueOf(rules.spikeMinHistory()),
                "r3.factor", String.valueOf(rules.spikeFactor()));
    }

    public static Properties properties(String... keysAndValues) {
        Properties properties = new Properties();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            properties.setProperty(keysAndValues[i], keysAndValues[i + 1]);
        }
        return properties;
    }

    /** Builds and runs the whole job to the end of its bounded input. */
    public static JobExecutionResult run(Map<String, Properties> groups) throws Exception {
        return run(groups, UnaryOperator.identity(), 500);
    }

    /**
     * Runs the job with {@code between} spliced in after the source (a test can inject a failure
     * there), checkpointing every {@code checkpointMillis} and restarting up to twice after a failure.
     */
    public static JobExecutionResult run(Map<String, Properties> groups,
                                         UnaryOperator<DataStream<ParsedRecord>> between, long checkpointMillis)
            throws Exception {
        StreamExecutionEnvironment env = environment(checkpointMillis);
        JobSettings settings = build(env, groups, between);
        return env.execute("test " + settings.lake().versioned("tributary-stream"));
    }

    /** Submits the job (an unbounded source: it runs until cancelled) and returns its client at once. */
    public static JobClient start(Map<String, Properties> groups, UnaryOperator<DataStream<ParsedRecord>> between,
                                  long checkpointMillis) throws Exception {
        StreamExecutionEnvironment env = environment(checkpointMillis);
        JobSettings settings = build(env, groups, between);
        return env.executeAsync("test " + settings.lake().versioned("tributary-stream"));
    }

    /**
     * Runs the job at {@code parallelism} (the MiniCluster needs as many slots) to the end of its bounded
     * input, with {@code between} spliced in after the source and {@code tap} given the rules operator (main output: the alerts view; side output
     * {@code CardRules.ALERTS_LOG}: the alerts log), e.g. to collect what the log receives.
     */
    public static JobExecutionResult run(Map<String, Properties> groups, int parallelism,
                                         UnaryOperator<DataStream<ParsedRecord>> between,
                                         Consumer<SingleOutputStreamOperator<Alert>> tap) throws Exception {
        StreamExecutionEnvironment env = environment(500);
        env.setParallelism(parallelism);
        JobSettings settings = JobSettings.read(new JobProperties(groups));
        tap.accept(TributaryStreamJob.attach(settings, between.apply(TributaryStreamJob.readEvents(env, settings))));
        return env.execute("test " + settings.lake().versioned("tributary-stream"));
    }

    private static JobSettings build(StreamExecutionEnvironment env, Map<String, Properties> groups,
                                     UnaryOperator<DataStream<ParsedRecord>> between) {
        JobSettings settings = JobSettings.read(new JobProperties(groups));
        TributaryStreamJob.attach(settings, between.apply(TributaryStreamJob.readEvents(env, settings)));
        return settings;
    }

    /** The environment every harness run uses (checkpoints every {@code checkpointMillis}, no generic types). */
    public static StreamExecutionEnvironment environment(long checkpointMillis) {
        Configuration config = new Configuration();
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, java.time.Duration.ofMillis(100));
        // The Kinesis source restores only by a whole-job failover (its enumerator refuses partial recovery).
        config.set(org.apache.flink.configuration.JobManagerOptions.EXECUTION_FAILOVER_STRATEGY, "full");
        // Every type on the wire and in state has a Flink serializer: a Kryo fallback (slow, and not evolvable)
        // fails the job at graph build instead of passing unnoticed.
        config.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
        env.setParallelism(PARALLELISM);
        env.enableCheckpointing(checkpointMillis);
        return env;
    }
}
