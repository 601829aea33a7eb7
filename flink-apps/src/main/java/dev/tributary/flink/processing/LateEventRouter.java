package dev.tributary.flink.processing;

import dev.tributary.flink.io.TransactionJson;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.views.Rows.LateEvent;
import java.time.Duration;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The one place that decides lateness. An event is late when {@code eventTime + allowedLateness <=
 * watermark}: every window it belongs to has then closed for good (a window drops input once
 * {@code maxTimestamp + allowedLateness <= watermark}), so it goes to {@link #LATE} instead of to
 * any view or rule. Downstream operators see a watermark no later than this one, so nothing this
 * router passes is late for them.
 */
public class LateEventRouter extends ProcessFunction<Transaction, Transaction> {
    public static final OutputTag<LateEvent> LATE = new OutputTag<>("late-events") {};

    private final long allowedLatenessMs;

    public LateEventRouter(Duration allowedLateness) {
        this.allowedLatenessMs = allowedLateness.toMillis();
    }

    @Override
    public void processElement(Transaction txn, Context ctx, Collector<Transaction> out) {
        long watermark = ctx.timerService().currentWatermark();
        if (txn.eventTime + allowedLatenessMs <= watermark) {
            ctx.output(LATE, lateEvent(txn, watermark));
        } else {
            out.collect(txn);
        }
    }

    public static LateEvent lateEvent(Transaction txn, long watermark) {
        return new LateEvent(txn.txnId, txn.cardId, txn.customerId, txn.amountCents(), txn.country, txn.eventTime,
                watermark, TransactionJson.write(txn));
    }
}
