package dev.tributary.flink.views;

import dev.tributary.flink.model.Transaction;
import java.util.List;

/** The row types of the lake views. Amounts are exact cents; times are UTC epoch milliseconds. */
public final class Rows {
    private Rows() {}

    public record CardMinuteSpend(String cardId, long windowStart, long txnCount, long totalCents) implements ViewRow {
        public Object[] columnValues() {
            return new Object[] {cardId, windowStart, txnCount, totalCents};
        }

        public long partitionTime() {
            return windowStart;
        }
    }

    public record CustomerHourSpend(String customerId, long windowStart, long txnCount, long totalCents)
            implements ViewRow {
        public Object[] columnValues() {
            return new Object[] {customerId, windowStart, txnCount, totalCents};
        }

        public long partitionTime() {
            return windowStart;
        }
    }

    public record CardVelocity(String cardId, long windowStart, long windowEnd, long txnCount, long totalCents)
            implements ViewRow {
        public Object[] columnValues() {
            return new Object[] {cardId, windowStart, windowEnd, txnCount, totalCents};
        }

        public long partitionTime() {
            return windowStart;
        }
    }

    /** A session: {@code sessionEnd} is Flink's session window end, the last event time plus the gap. */
    public record CustomerSession(String customerId, long sessionStart, long sessionEnd, long txnCount,
                                  long totalCents) implements ViewRow {
        public Object[] columnValues() {
            return new Object[] {customerId, sessionStart, sessionEnd, txnCount, totalCents};
        }

        public long partitionTime() {
            return sessionStart;
        }
    }

    /** A transaction with its card's profile; the profile columns are null for a card the table lacks. */
    public record EnrichedTransaction(String txnId, String cardId, String customerId, String merchantId,
                                      long amountCents, String currency, String country, String channel,
                                      long eventTime, String segment, String homeCountry, String riskTier)
            implements ViewRow {
        public Object[] columnValues() {
            return new Object[] {txnId, cardId, customerId, merchantId, amountCents, currency, country, channel,
                    eventTime, segment, homeCountry, riskTier};
        }

        public long partitionTime() {
            return eventTime;
        }
    }

    /** The alert record of docs/reference-product.md; {@code alertId} is {@code <rule>:<cardId>:<windowStart>}. */
    public record Alert(String alertId, String rule, String cardId, String customerId, long windowStart,
                        List<String> txnIds, String detectedBy, long detectedAt) implements ViewRow {
        public static final String DETECTED_BY_STREAM = "stream";

        public static Alert detected(String rule, Transaction subject, long windowStart, List<String> txnIds,
                                     long detectedAt) {
            return new Alert(rule + ":" + subject.cardId + ":" + windowStart, rule, subject.cardId,
                    subject.customerId, windowStart, List.copyOf(txnIds), DETECTED_BY_STREAM, detectedAt);
        }

        public Object[] columnValues() {
            return new Object[] {alertId, rule, cardId, customerId, windowStart, txnIds, detectedBy, detectedAt};
        }

        public long partitionTime() {
            return windowStart;
        }
    }

    /** An event that came later than the allowed lateness, with the watermark it missed. */
    public record LateEvent(String txnId, String cardId, String customerId, long amountCents, String country,
                            long eventTime, long watermark, String raw) implements ViewRow {
        public Object[] columnValues() {
            return new Object[] {txnId, cardId, customerId, amountCents, country, eventTime, watermark, raw};
        }

        public long partitionTime() {
            return eventTime;
        }
    }

    /** A record the job could not accept, kept with the reason; partitioned by when it was received. */
    public record DeadLetter(String raw, String reason, long receivedAt) implements ViewRow {
        public Object[] columnValues() {
            return new Object[] {raw, reason, receivedAt};
        }

        public long partitionTime() {
            return receivedAt;
        }
    }
}
