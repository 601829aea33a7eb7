package dev.tributary.flink.processing;

import java.time.Duration;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Forwards records unchanged (at once: the rules' speculative evaluation sees each on arrival) and
 * watermarks held back by the allowed lateness. The fraud rules sit behind it: with the lag an event
 * the {@link LateEventRouter} accepted ({@code eventTime + lateness > watermark}) is ahead of the
 * rules' watermark, so their final evaluation sees it in event-time order like the windows do.
 */
public class WatermarkLag<T> extends AbstractStreamOperator<T> implements OneInputStreamOperator<T, T> {
    private final long lagMs;

    public WatermarkLag(Duration lag) {
        this.lagMs = lag.toMillis();
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        long time = mark.getTimestamp();
        // End of input (Long.MAX_VALUE) must still flush everything; the initial minimum must not underflow.
        boolean passThrough = time == Long.MAX_VALUE || time <= Long.MIN_VALUE + lagMs;
        super.processWatermark(passThrough ? mark : new Watermark(time - lagMs));
    }
}
