package dev.tributary.flink.rules;

import dev.tributary.flink.model.SpendTotals;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.processing.LateEventRouter;
import dev.tributary.flink.views.Rows.Alert;
import dev.tributary.flink.views.Rows.LateEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * R2 and R3, which both walk one card's transactions in event-time order. Transactions wait in
 * keyed state, bucketed by event time, until the watermark passes them (an event-time timer), and
 * are then evaluated in (eventTime, txnId) order.
 * <ul>
 *   <li>R2: a transaction in another country than its predecessor, less than 5 minutes after it;
 *       window start: the predecessor's event time.</li>
 *   <li>R3: a transaction over 10x the mean of the card's earlier transactions, once there are at
 *       least 5 of them; window start: its own event time. Compared exactly in cents:
 *       {@code amount * count > 10 * sum}.</li>
 * </ul>
 */
public class CardSequenceRules extends KeyedProcessFunction<String, Transaction, Alert> {
    public static final String COUNTRY_HOP = "R2";
    public static final String SPIKE = "R3";
    static final long COUNTRY_HOP_WINDOW_MS = 300_000;
    static final long SPIKE_MIN_HISTORY = 5;
    static final long SPIKE_FACTOR = 10;

    private final OutputTag<LateEvent> late;
    private transient MapState<Long, List<Transaction>> pendingByEventTime;
    private transient ValueState<Transaction> previous;
    private transient ValueState<SpendTotals> history;

    public CardSequenceRules(OutputTag<LateEvent> late) {
        this.late = late;
    }

    @Override
    public void open(OpenContext openContext) {
        pendingByEventTime = getRuntimeContext().getMapState(new MapStateDescriptor<>("pending", Types.LONG,
                Types.LIST(TypeInformation.of(Transaction.class))));
        previous = getRuntimeContext().getState(new ValueStateDescriptor<>("previous", Transaction.class));
        history = getRuntimeContext().getState(new ValueStateDescriptor<>("history", SpendTotals.class));
    }

    @Override
    public void processElement(Transaction txn, Context ctx, Collector<Alert> out) throws Exception {
        long watermark = ctx.timerService().currentWatermark();
        if (txn.eventTime <= watermark) {
            // Its turn in event-time order has passed; evaluating it now would break that order.
            ctx.output(late, LateEventRouter.lateEvent(txn, watermark));
            return;
        }
        List<Transaction> bucket = pendingByEventTime.get(txn.eventTime);
        if (bucket == null) {
            bucket = new ArrayList<>();
            ctx.timerService().registerEventTimeTimer(txn.eventTime);
        }
        bucket.add(txn);
        pendingByEventTime.put(txn.eventTime, bucket);
    }

    @Override
    public void onTimer(long eventTime, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        List<Transaction> due = new ArrayList<>(pendingByEventTime.get(eventTime));
        pendingByEventTime.remove(eventTime);
        due.sort(Comparator.comparing(txn -> txn.txnId));
        long detectedAt = ctx.timerService().currentProcessingTime();
        for (Transaction txn : due) {
            evaluate(txn, detectedAt, out);
        }
    }

    private void evaluate(Transaction txn, long detectedAt, Collector<Alert> out) throws Exception {
        Transaction predecessor = previous.value();
        if (predecessor != null && !predecessor.country.equals(txn.country)
                && txn.eventTime - predecessor.eventTime < COUNTRY_HOP_WINDOW_MS) {
            out.collect(Alert.detected(COUNTRY_HOP, txn, predecessor.eventTime,
                    List.of(predecessor.txnId, txn.txnId), detectedAt));
        }
        SpendTotals earlier = history.value();
        if (earlier == null) {
            earlier = new SpendTotals();
        }
        if (earlier.txnCount >= SPIKE_MIN_HISTORY
                && Math.multiplyExact(txn.amountCents(), earlier.txnCount)
                        > Math.multiplyExact(SPIKE_FACTOR, earlier.totalCents)) {
            out.collect(Alert.detected(SPIKE, txn, txn.eventTime, List.of(txn.txnId), detectedAt));
        }
        previous.update(txn);
        history.update(new SpendTotals(earlier.txnCount + 1, earlier.totalCents + txn.amountCents()));
    }
}
