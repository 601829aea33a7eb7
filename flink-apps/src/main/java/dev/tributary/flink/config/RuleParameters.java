package dev.tributary.flink.config;

import java.io.Serializable;

/**
 * The parameters of fraud rules R1-R3: the product definition's {@code rules}
 * (products/card-fraud/product.json), passed to the job as the {@code Rules} property group
 * (lib/stream-job-properties.ts). Every key is required: the job has no copy of the product's facts.
 *
 * @param largeAboveCents R1: amounts over this many cents count as large
 * @param burstWindowMs   R1: the third large transaction less than this after the first
 * @param hopWindowMs     R2: a change of country less than this after the previous transaction
 * @param spikeMinHistory R3: the card's earlier transactions needed before a spike counts
 * @param spikeFactor     R3: a spike is over this many times the card's mean
 */
public record RuleParameters(long largeAboveCents, long burstWindowMs, long hopWindowMs, long spikeMinHistory,
                             long spikeFactor) implements Serializable {
    public static final String GROUP = "Rules";
    private static final long MAX_CENTS = 99_999_999;
    private static final long MAX_MS = 86_400_000;

    static RuleParameters read(JobProperties p) {
        return new RuleParameters(
                p.requiredLongInRange(GROUP, "r1.large-above.cents", 1, MAX_CENTS),
                p.requiredLongInRange(GROUP, "r1.within.ms", 1, MAX_MS),
                p.requiredLongInRange(GROUP, "r2.within.ms", 1, MAX_MS),
                p.requiredLongInRange(GROUP, "r3.min-history", 1, 1_000),
                p.requiredLongInRange(GROUP, "r3.factor", 2, 1_000));
    }
}
