package dev.tributary.flink.io;

import dev.tributary.flink.config.JobSettings.EventTime;
import dev.tributary.flink.model.ParsedRecord;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * Bounded out-of-orderness watermarks driven by the data alone: the watermark ({@code max event
 * time - bound - 1}) is emitted whenever it has advanced by {@link #EMIT_STEP_MS}, never on a
 * wall-clock tick. Which events count as late then depends only on the input order, so a replay of
 * the same log reproduces the same late_events. Idle splits (shards, partitions) stop holding the
 * watermark back after the idleness timeout. Rejected records carry no event time and are ignored.
 */
public final class TransactionWatermarks implements WatermarkGenerator<ParsedRecord> {
    static final long EMIT_STEP_MS = 1_000;

    private final long maxOutOfOrdernessMs;
    private long maxEventTime = Long.MIN_VALUE;
    private long lastEmitted = Long.MIN_VALUE;

    TransactionWatermarks(long maxOutOfOrdernessMs) {
        this.maxOutOfOrdernessMs = maxOutOfOrdernessMs;
    }

    public static WatermarkStrategy<ParsedRecord> strategy(EventTime eventTime) {
        long bound = eventTime.maxOutOfOrderness().toMillis();
        return WatermarkStrategy.<ParsedRecord>forGenerator(ctx -> new TransactionWatermarks(bound))
                .withTimestampAssigner((record, previous) ->
                        record.isValid() ? record.transaction.eventTime : Long.MIN_VALUE)
                .withIdleness(eventTime.idleness());
    }

    @Override
    public void onEvent(ParsedRecord record, long eventTimestamp, WatermarkOutput output) {
        if (!record.isValid()) {
            return;
        }
        maxEventTime = Math.max(maxEventTime, eventTimestamp);
        long watermark = maxEventTime - maxOutOfOrdernessMs - 1;
        if (lastEmitted == Long.MIN_VALUE || watermark - lastEmitted >= EMIT_STEP_MS) {
            output.emitWatermark(new Watermark(watermark));
            lastEmitted = watermark;
        }
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
        // Deliberately nothing: see the class comment.
    }
}
