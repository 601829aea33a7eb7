package dev.tributary.flink.processing;

import dev.tributary.flink.model.SpendTotals;
import dev.tributary.flink.model.Transaction;
import org.apache.flink.api.common.functions.AggregateFunction;

/** Counts a window's transactions and sums their amounts exactly, in cents. */
public class SpendAggregate implements AggregateFunction<Transaction, SpendTotals, SpendTotals> {
    @Override
    public SpendTotals createAccumulator() {
        return new SpendTotals();
    }

    @Override
    public SpendTotals add(Transaction txn, SpendTotals totals) {
        totals.txnCount++;
        totals.totalCents = Math.addExact(totals.totalCents, txn.amountCents());
        return totals;
    }

    @Override
    public SpendTotals getResult(SpendTotals totals) {
        return totals;
    }

    @Override
    public SpendTotals merge(SpendTotals a, SpendTotals b) {
        return new SpendTotals(a.txnCount + b.txnCount, Math.addExact(a.totalCents, b.totalCents));
    }
}
