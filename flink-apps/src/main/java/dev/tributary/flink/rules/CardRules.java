package dev.tributary.flink.rules;

import dev.tributary.flink.config.RuleParameters;
import dev.tributary.flink.model.SpendTotals;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.processing.LateEventRouter;
import dev.tributary.flink.views.Rows.Alert;
import dev.tributary.flink.views.Rows.LateEvent;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * R1, R2 and R3 of one card, eagerly. It sits behind the watermark lag, so its event-time timers fire
 * when the lagged watermark (watermark - allowed lateness) passes a transaction.
 * <ul>
 *   <li><b>Final evaluation.</b> Transactions wait in keyed state, bucketed by event time, until the
 *       lagged watermark passes them; then {@link CardRuleState} advances over them in (eventTime,
 *       txnId) order. Its alerts are the main output, the lake's {@code alerts} view: the same as the
 *       reference model, the batch layer and a replay.</li>
 *   <li><b>Speculative evaluation.</b> On each arriving transaction, a copy of the final state is
 *       advanced over every pending transaction in event-time order, and each alert found whose id
 *       was not sent yet goes at once to {@link #ALERTS_LOG}. An alert thus fires on the transaction
 *       that completes its pattern, also when that one arrived out of order.</li>
 *   <li><b>Finalization.</b> A final alert not sent yet is sent to the log then. Once the final
 *       evaluation has decided a sent alert that it did not raise (an out-of-order transaction landed
 *       inside an already fired pattern), that alert is counted in the metric
 *       {@value #NOT_CONFIRMED_METRIC} and logged (WARN, with its id). It is decided as soon as the final
 *       state has moved past its window start ({@link CardRuleState#hasDecided}; for R2 once the final
 *       evaluation has taken a transaction after the pair's first), at the latest when the lagged
 *       watermark passes {@link CardRuleState#decidedAt}. It is not withdrawn.</li>
 * </ul>
 * A transaction at or behind this operator's watermark goes to {@code late}, as the late router's
 * construction ensures never happens.
 */
public class CardRules extends KeyedProcessFunction<String, Transaction, Alert> {
    private static final Logger LOG = LoggerFactory.getLogger(CardRules.class);
    public static final OutputTag<Alert> ALERTS_LOG = new OutputTag<>("alerts-log") {};
    public static final String NOT_CONFIRMED_METRIC = "alertsNotConfirmed";

    private final OutputTag<LateEvent> late;
    private final RuleParameters rules;
    private transient MapState<Long, List<Transaction>> pendingByEventTime;
    private transient ValueState<List<Transaction>> burst;
    private transient ValueState<Transaction> previous;
    private transient ValueState<SpendTotals> history;
    private transient MapState<String, EmittedAlert> emitted;
    private transient Counter notConfirmed;

    public CardRules(OutputTag<LateEvent> late, RuleParameters rules) {
        this.late = late;
        this.rules = rules;
    }

    @Override
    public void open(OpenContext openContext) {
        TypeInformation<List<Transaction>> transactions = Types.LIST(TypeInformation.of(Transaction.class));
        pendingByEventTime = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("pending", Types.LONG, transactions));
        burst = getRuntimeContext().getState(new ValueStateDescriptor<>("burst", transactions));
        previous = getRuntimeContext().getState(new ValueStateDescriptor<>("previous", Transaction.class));
        history = getRuntimeContext().getState(new ValueStateDescriptor<>("history", SpendTotals.class));
        emitted = getRuntimeContext().getMapState(new MapStateDescriptor<>("emitted", Types.STRING,
                TypeInformation.of(EmittedAlert.class)));
        notConfirmed = getRuntimeContext().getMetricGroup().counter(NOT_CONFIRMED_METRIC);
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
        speculate(ctx);
    }

    /** The final state advanced over every pending transaction: alerts not sent yet go to the log now. */
    private void speculate(Context ctx) throws Exception {
        List<Transaction> pending = new ArrayList<>();
        for (List<Transaction> bucket : pendingByEventTime.values()) {
            pending.addAll(bucket);
        }
        for (Alert alert : finalState().advanceInOrder(pending, ctx.timerService().currentProcessingTime())) {
            if (!emitted.contains(alert.alertId())) {
                send(alert, false, ctx);
            }
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Alert> out) throws Exception {
        List<Transaction> due = pendingByEventTime.get(timestamp);
        CardRuleState state = null;
        if (due != null) {
            pendingByEventTime.remove(timestamp);
            state = finalState();
            List<Alert> found = state.advanceInOrder(due, ctx.timerService().currentProcessingTime());
            burst.update(state.burst());
            previous.update(state.previous());
            history.update(state.history());
            for (Alert alert : found) {
                out.collect(confirm(alert, ctx));
            }
        }
        decide(timestamp, state);
    }

    /** A final alert: sent to the log now if speculation did not, and as the view row with its first detection time. */
    private Alert confirm(Alert alert, Context ctx) throws Exception {
        EmittedAlert sent = emitted.get(alert.alertId());
        if (sent == null) {
            send(alert, true, ctx);
            return alert;
        }
        sent.confirmed = true;
        emitted.put(alert.alertId(), sent);
        return new Alert(alert.alertId(), alert.rule(), alert.cardId(), alert.customerId(), alert.windowStart(),
                alert.txnIds(), alert.detectedBy(), sent.detectedAt);
    }

    private void send(Alert alert, boolean confirmed, Context ctx) throws Exception {
        EmittedAlert sent = new EmittedAlert(alert, confirmed, CardRuleState.decidedAt(alert, rules));
        emitted.put(alert.alertId(), sent);
        ctx.output(ALERTS_LOG, alert);
        // At or behind the watermark (a final alert while the watermark jumps), it fires in the same advance.
        ctx.timerService().registerEventTimeTimer(sent.decidedAt);
    }

    /**
     * Forgets the sent alerts the final evaluation has decided, now that it has taken every transaction up to
     * {@code eventTime} ({@code state}: the final state then, or null to read it), counting and logging the
     * unconfirmed. An alert is decided as soon as the final state has moved past its window start
     * ({@link CardRuleState#hasDecided}), at the latest at {@link CardRuleState#decidedAt} (a timer).
     */
    private void decide(long eventTime, CardRuleState state) throws Exception {
        if (emitted.isEmpty()) {
            return;
        }
        CardRuleState decider = state == null ? finalState() : state;
        Iterator<Map.Entry<String, EmittedAlert>> entries = emitted.iterator();
        while (entries.hasNext()) {
            Map.Entry<String, EmittedAlert> entry = entries.next();
            EmittedAlert sent = entry.getValue();
            if (sent.decidedAt <= eventTime || decider.hasDecided(entry.getKey(), eventTime)) {
                if (!sent.confirmed) {
                    notConfirmed.inc();
                    LOG.warn("Alert {} (transactions {}) was sent to the alerts log on arrival but the final "
                            + "evaluation in event-time order did not confirm it (decided at event time {}); it "
                            + "stays on the log", entry.getKey(), sent.txnIds, eventTime);
                }
                entries.remove();
            }
        }
    }

    private CardRuleState finalState() throws Exception {
        return new CardRuleState(rules, burst.value(), previous.value(), history.value());
    }
}
