package dev.tributary.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tributary.flink.config.InvalidPropertyException;
import dev.tributary.flink.config.JobProperties;
import dev.tributary.flink.config.JobSettings;
import dev.tributary.flink.config.RuleParameters;
import dev.tributary.flink.io.TransactionJson;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.testing.JobHarness;
import dev.tributary.flink.testing.LakeReader;
import dev.tributary.flink.testing.SampleGenerator;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job's rules follow the product definition's parameters (products/card-fraud/product.json), which
 * reach it as the {@code Rules} property group: the same events, run once with the definition's rules
 * and once with a changed copy, raise different alerts. The job holds no default of its own. The events
 * sit on either side of the definition's values as written today (R1 over 100.00, R2 within 5 min, R3 over
 * 10x): a change to those in product.json shows here as a changed outcome.
 */
class ProductRulesContractTest {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = JobHarness.miniCluster();

    static final long T = SampleGenerator.START;
    /** R1 over 150.00 instead of 100.00, R2 within 2 min instead of 5, R3 over 5x instead of 10x. */
    static final RuleParameters CHANGED = new RuleParameters(15_000, JobHarness.PRODUCT_RULES.burstWindowMs(),
            120_000, JobHarness.PRODUCT_RULES.spikeMinHistory(), 5);

    @TempDir
    static Path workDir;
    static Path input;
    static Path profiles;

    static Transaction txn(String txnId, String card, String amount, String country, long offsetMs) {
        return new Transaction(txnId, card, "cust-" + card, "m", new BigDecimal(amount), "EUR", country, "POS",
                T + offsetMs, 1);
    }

    @BeforeAll
    static void writeInput() throws Exception {
        List<Transaction> events = new ArrayList<>();
        events.add(txn("a1", "burst", "120.00", "GB", 0));         // three over 100.00 in 30 s, none over 150.00
        events.add(txn("a2", "burst", "120.00", "GB", 15_000));
        events.add(txn("a3", "burst", "120.00", "GB", 30_000));
        events.add(txn("b1", "hop", "10.00", "GB", 0));            // another country 4 min later
        events.add(txn("b2", "hop", "10.00", "FR", 240_000));
        for (int i = 0; i < 5; i++) {                               // five of 10.00, then 60.00: 6x the mean
            events.add(txn("c" + i, "spike", "10.00", "GB", i * 400_000L));
        }
        events.add(txn("c5", "spike", "60.00", "GB", 2_000_000));
        events.sort(java.util.Comparator.comparingLong(t -> t.eventTime));
        input = workDir.resolve("events.ndjson");
        Files.write(input, events.stream().map(TransactionJson::write).toList());
        profiles = workDir.resolve("profiles.csv");
        Files.write(profiles, List.of("card_id,segment,home_country,risk_tier"));
    }

    static List<Object> alertIdsWith(RuleParameters rules, String run) throws Exception {
        Path lake = workDir.resolve(run);
        Map<String, Properties> groups = JobHarness.fileJob(input, lake, profiles);
        groups.put(RuleParameters.GROUP, JobHarness.ruleProperties(rules));
        JobHarness.run(groups);
        return LakeReader.rows(lake, "alerts").stream().map(a -> a.get("alert_id")).toList();
    }

    @Test
    void theDefinitionsRulesAndAChangedCopyRaiseDifferentAlerts() throws Exception {
        assertThat(alertIdsWith(JobHarness.PRODUCT_RULES, "definition"))
                .containsExactlyInAnyOrder("R1:burst:" + T, "R2:hop:" + T);
        assertThat(alertIdsWith(CHANGED, "changed"))
                .containsExactlyInAnyOrder("R3:spike:" + (T + 2_000_000));
    }

    @Test
    void everyRuleKeyIsRequiredAndValidated() {
        Map<String, Properties> missing = JobHarness.fileJob(input, workDir, profiles);
        missing.get(RuleParameters.GROUP).remove("r2.within.ms");
        assertThatThrownBy(() -> JobSettings.read(new JobProperties(missing))).isInstanceOf(InvalidPropertyException.class)
                .hasMessageContaining("Property group 'Rules', key 'r2.within.ms' is required but missing");

        Map<String, Properties> bad = JobHarness.fileJob(input, workDir, profiles);
        bad.get(RuleParameters.GROUP).setProperty("r1.large-above.cents", "100.00");
        assertThatThrownBy(() -> JobSettings.read(new JobProperties(bad)))
                .hasMessage("Property group 'Rules', key 'r1.large-above.cents' has value '100.00' which is not "
                        + "allowed; expected an integer from 1 to 99999999");
    }
}
