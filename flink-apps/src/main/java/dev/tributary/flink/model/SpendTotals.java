package dev.tributary.flink.model;

/** Running count and exact sum (cents) of a window's transactions: the accumulator of every spend view. */
public class SpendTotals {
    public long txnCount;
    public long totalCents;

    public SpendTotals() {}

    public SpendTotals(long txnCount, long totalCents) {
        this.txnCount = txnCount;
        this.totalCents = totalCents;
    }
}
