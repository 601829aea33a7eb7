package dev.tributary.flink.rules;

import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.views.Rows.Alert;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.cep.CEP;
import org.apache.flink.cep.EventComparator;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.SimpleCondition;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * R1: three transactions over 100 on one card within 60 seconds, as Flink CEP:
 * {@code times(3)} of large transactions (relaxed contiguity skips the small ones between them),
 * {@code within(60 s)} (strict: last - first < 60 s) and skip-past-last-event, so matches never
 * share a transaction. Alert window start: the first transaction's event time.
 */
public final class LargeTransactionBurstRule {
    public static final String RULE = "R1";
    static final String LARGE = "large";
    static final long LARGE_ABOVE_CENTS = 10_000;

    private LargeTransactionBurstRule() {}

    public static Pattern<Transaction, ?> pattern() {
        return Pattern.<Transaction>begin(LARGE, AfterMatchSkipStrategy.skipPastLastEvent())
                .where(SimpleCondition.of(txn -> txn.amountCents() > LARGE_ABOVE_CENTS))
                .times(3)
                .within(Duration.ofSeconds(60));
    }

    /** Alerts for a stream keyed by card; transactions behind the watermark go to {@code late}. */
    public static SingleOutputStreamOperator<Alert> detect(KeyedStream<Transaction, String> byCard,
                                                           OutputTag<Transaction> late) {
        return CEP.pattern(byCard, pattern(), new EventTimeOrder())
                .inEventTime()
                .sideOutputLateData(late)
                .process(new ToAlert());
    }

    /** CEP orders events by timestamp; this breaks ties by txnId, as the spec's event-time order does. */
    static class EventTimeOrder implements EventComparator<Transaction> {
        @Override
        public int compare(Transaction a, Transaction b) {
            return a.txnId.compareTo(b.txnId);
        }
    }

    static class ToAlert extends PatternProcessFunction<Transaction, Alert> {
        @Override
        public void processMatch(Map<String, List<Transaction>> match, Context ctx, Collector<Alert> out) {
            List<Transaction> burst = match.get(LARGE);
            Transaction first = burst.get(0);
            List<String> txnIds = burst.stream().map(txn -> txn.txnId).toList();
            out.collect(Alert.detected(RULE, first, first.eventTime, txnIds, ctx.currentProcessingTime()));
        }
    }
}
