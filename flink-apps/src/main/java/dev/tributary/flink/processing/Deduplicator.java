package dev.tributary.flink.processing;

import dev.tributary.flink.model.Transaction;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by {@code cardId}: passes the first delivery of a transaction (by {@code txnId}, within its
 * card) and drops the rest.
 *
 * <p>Keyed by card, not by txnId, so that all of a card's transactions take one path from the source
 * to the rules (one subtask here, one network channel on to the rules' subtask): they reach the rules
 * in the order the event log holds them, which is the order the speculative evaluation needs to be
 * exact. Keyed by txnId, a card's transactions went through different subtasks and could overtake each
 * other on the way. A redelivery is the same record, so it has the same cardId as the first delivery.
 *
 * <p>State: one map entry {@code txnId -> true} per transaction seen, per card. Each entry expires on
 * its own after the TTL from its write (state TTL applies to map entries one by one; expired entries
 * are never returned), which bounds state as the former per-txnId flag did: a duplicate arriving later
 * than that would pass, so the TTL must exceed the longest redelivery delay of the event log.
 */
public class Deduplicator extends KeyedProcessFunction<String, Transaction, Transaction> {
    private final Duration ttl;
    private transient MapState<String, Boolean> seen;

    public Deduplicator(Duration ttl) {
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext openContext) {
        MapStateDescriptor<String, Boolean> descriptor =
                new MapStateDescriptor<>("seen-txn-ids", Types.STRING, Types.BOOLEAN);
        descriptor.enableTimeToLive(StateTtlConfig.newBuilder(ttl)
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .build());
        seen = getRuntimeContext().getMapState(descriptor);
    }

    @Override
    public void processElement(Transaction txn, Context ctx, Collector<Transaction> out) throws Exception {
        if (!seen.contains(txn.txnId)) {
            seen.put(txn.txnId, Boolean.TRUE);
            out.collect(txn);
        }
    }
}
