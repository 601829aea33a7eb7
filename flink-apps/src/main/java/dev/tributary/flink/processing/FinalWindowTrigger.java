package dev.tributary.flink.processing;

import java.time.Duration;
import org.apache.flink.streaming.api.windowing.triggers.Trigger;
import org.apache.flink.streaming.api.windowing.triggers.TriggerResult;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;

/**
 * Fires a window once, when the watermark passes its end plus the allowed lateness, i.e. when no
 * more input can reach it. The lake is append-only, so each window yields exactly one final row
 * rather than an early row followed by corrections. Use with the same {@code allowedLateness} on
 * the window, which keeps the window's state until then.
 */
public class FinalWindowTrigger extends Trigger<Object, TimeWindow> {
    private final long allowedLatenessMs;

    public FinalWindowTrigger(Duration allowedLateness) {
        this.allowedLatenessMs = allowedLateness.toMillis();
    }

    private long finalTime(TimeWindow window) {
        return window.maxTimestamp() + allowedLatenessMs;
    }

    @Override
    public TriggerResult onElement(Object element, long timestamp, TimeWindow window, TriggerContext ctx) {
        ctx.registerEventTimeTimer(finalTime(window));
        return TriggerResult.CONTINUE;
    }

    @Override
    public TriggerResult onEventTime(long time, TimeWindow window, TriggerContext ctx) {
        return time == finalTime(window) ? TriggerResult.FIRE_AND_PURGE : TriggerResult.CONTINUE;
    }

    @Override
    public TriggerResult onProcessingTime(long time, TimeWindow window, TriggerContext ctx) {
        return TriggerResult.CONTINUE;
    }

    @Override
    public boolean canMerge() {
        return true;
    }

    @Override
    public void onMerge(TimeWindow window, OnMergeContext ctx) {
        ctx.registerEventTimeTimer(finalTime(window));
    }

    @Override
    public void clear(TimeWindow window, TriggerContext ctx) {
        ctx.deleteEventTimeTimer(finalTime(window));
    }
}
