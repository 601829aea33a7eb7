package dev.tributary.flink.processing;

import dev.tributary.flink.model.Transaction;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by {@code txnId}: passes the first delivery of a transaction and drops the rest. The
 * "seen" flag expires after the TTL, which bounds state; a duplicate arriving later than that
 * would pass, so the TTL must exceed the longest redelivery delay of the event log.
 */
public class Deduplicator extends KeyedProcessFunction<String, Transaction, Transaction> {
    private final Duration ttl;
    private transient ValueState<Boolean> seen;

    public Deduplicator(Duration ttl) {
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext openContext) {
        ValueStateDescriptor<Boolean> descriptor = new ValueStateDescriptor<>("seen", Boolean.class);
        descriptor.enableTimeToLive(StateTtlConfig.newBuilder(ttl)
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .build());
        seen = getRuntimeContext().getState(descriptor);
    }

    @Override
    public void processElement(Transaction txn, Context ctx, Collector<Transaction> out) throws Exception {
        if (seen.value() == null) {
            seen.update(Boolean.TRUE);
            out.collect(txn);
        }
    }
}
