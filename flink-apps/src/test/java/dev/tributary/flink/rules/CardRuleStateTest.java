package dev.tributary.flink.rules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.testing.JobHarness;
import dev.tributary.flink.views.Rows.Alert;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link CardRuleState#hasDecided} is sound: an alert id it calls decided is never raised by the rest
 * of the final evaluation; and it decides before {@link CardRuleState#decidedAt} in the common case.
 */
class CardRuleStateTest {
    static final String[] RULES = {CardRuleState.BURST, CardRuleState.COUNTRY_HOP, CardRuleState.SPIKE};

    @Test
    void anAlertCalledDecidedIsNeverRaisedLater() {
        Random random = new Random(7);
        long earlyDecisions = 0;
        for (int run = 0; run < 300; run++) {
            List<Transaction> txns = randomCard(random, 60);
            txns.sort(CardRuleState.EVENT_TIME_ORDER);
            CardRuleState state = new CardRuleState(JobHarness.PRODUCT_RULES, null, null, null);
            Set<Long> times = new HashSet<>();
            for (int i = 0; i < txns.size(); i++) {
                state.advance(txns.get(i), 0, alert -> {});
                times.add(txns.get(i).eventTime);
                long through = txns.get(i).eventTime;
                if (i + 1 < txns.size() && txns.get(i + 1).eventTime == through) {
                    continue; // the final evaluation takes a whole event time at once
                }
                Set<String> raisedLater = new HashSet<>();
                CardRuleState rest = state.copy();
                for (Transaction later : txns.subList(i + 1, txns.size())) {
                    rest.advance(later, 0, alert -> raisedLater.add(alert.alertId()));
                }
                for (long windowStart : times) {
                    for (String rule : RULES) {
                        String id = rule + ":card:x:" + windowStart;
                        if (state.hasDecided(id, through)) {
                            assertThat(raisedLater).as("decided at %d, raised later", through).doesNotContain(id);
                            if (through < CardRuleState.decidedAt(new Alert(id, rule, "card:x", "c", windowStart,
                                    List.of(), Alert.DETECTED_BY_STREAM, 0), JobHarness.PRODUCT_RULES)) {
                                earlyDecisions++;
                            }
                        }
                    }
                }
            }
        }
        assertThat(earlyDecisions).as("decisions before decidedAt").isPositive();
    }

    @Test
    void aBrokenCountryHopIsDecidedWhenTheFinalEvaluationPassesTheBreakingTransaction() {
        CardRuleState state = new CardRuleState(JobHarness.PRODUCT_RULES, null, null, null);
        state.advance(txn("u1", 0, "GB", "10.00"), 0, alert -> {});
        assertThat(state.hasDecided("R2:card:x:0", 0)).isFalse();
        state.advance(txn("ux", 40_000, "GB", "10.00"), 0, alert -> {});
        assertThat(state.hasDecided("R2:card:x:0", 40_000)).as("long before 0 + 5 min").isTrue();
        assertThat(state.hasDecided("R2:card:x:40000", 40_000)).isFalse();
    }

    private static List<Transaction> randomCard(Random random, int count) {
        List<Transaction> txns = new ArrayList<>();
        long time = 0;
        for (int i = 0; i < count; i++) {
            time += random.nextInt(4) == 0 ? 0 : random.nextInt(40_000);
            double kind = random.nextDouble();
            String amount = kind < 0.05 ? "2500.00" : kind < 0.5 ? "150.00" : "20.00";
            txns.add(txn("t" + i, time, random.nextInt(3) == 0 ? "FR" : "GB", amount));
        }
        return txns;
    }

    private static Transaction txn(String txnId, long eventTime, String country, String amount) {
        return new Transaction(txnId, "card:x", "c", "m", new BigDecimal(amount), "EUR", country, "POS", eventTime, 1);
    }
}
