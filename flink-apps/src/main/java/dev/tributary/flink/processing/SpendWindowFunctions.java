package dev.tributary.flink.processing;

import dev.tributary.flink.model.SpendTotals;
import dev.tributary.flink.views.Rows.CardMinuteSpend;
import dev.tributary.flink.views.Rows.CardVelocity;
import dev.tributary.flink.views.Rows.CustomerHourSpend;
import dev.tributary.flink.views.Rows.CustomerSession;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/** Turn a window's {@link SpendTotals} into the row of its view. */
public final class SpendWindowFunctions {
    private SpendWindowFunctions() {}

    /** Customers whose hour is kept: total strictly over 1000.00, i.e. over 100000 cents. */
    public static final long CUSTOMER_HOUR_MIN_EXCLUSIVE_CENTS = 100_000;

    public static class CardMinute extends ProcessWindowFunction<SpendTotals, CardMinuteSpend, String, TimeWindow> {
        @Override
        public void process(String cardId, Context ctx, Iterable<SpendTotals> totals, Collector<CardMinuteSpend> out) {
            SpendTotals t = totals.iterator().next();
            out.collect(new CardMinuteSpend(cardId, ctx.window().getStart(), t.txnCount, t.totalCents));
        }
    }

    public static class CustomerHour
            extends ProcessWindowFunction<SpendTotals, CustomerHourSpend, String, TimeWindow> {
        @Override
        public void process(String customerId, Context ctx, Iterable<SpendTotals> totals,
                            Collector<CustomerHourSpend> out) {
            SpendTotals t = totals.iterator().next();
            if (t.totalCents > CUSTOMER_HOUR_MIN_EXCLUSIVE_CENTS) {
                out.collect(new CustomerHourSpend(customerId, ctx.window().getStart(), t.txnCount, t.totalCents));
            }
        }
    }

    public static class Velocity extends ProcessWindowFunction<SpendTotals, CardVelocity, String, TimeWindow> {
        @Override
        public void process(String cardId, Context ctx, Iterable<SpendTotals> totals, Collector<CardVelocity> out) {
            SpendTotals t = totals.iterator().next();
            out.collect(new CardVelocity(cardId, ctx.window().getStart(), ctx.window().getEnd(), t.txnCount,
                    t.totalCents));
        }
    }

    public static class Session extends ProcessWindowFunction<SpendTotals, CustomerSession, String, TimeWindow> {
        @Override
        public void process(String customerId, Context ctx, Iterable<SpendTotals> totals,
                            Collector<CustomerSession> out) {
            SpendTotals t = totals.iterator().next();
            out.collect(new CustomerSession(customerId, ctx.window().getStart(), ctx.window().getEnd(), t.txnCount,
                    t.totalCents));
        }
    }
}
