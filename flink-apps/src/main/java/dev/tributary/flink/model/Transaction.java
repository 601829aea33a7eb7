package dev.tributary.flink.model;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * The {@code Transaction} event, field for field as in schemas/transaction.schema.json
 * (a test keeps the two in step). A Flink POJO: public fields and a no-arg constructor,
 * so Flink serializes it without Kryo.
 */
public class Transaction {
    public String txnId;
    public String cardId;
    public String customerId;
    public String merchantId;
    /** Major units with at most two decimals, as the schema states; never summed as a double. */
    public BigDecimal amount;
    public String currency;
    public String country;
    public String channel;
    /** Event time, UTC epoch milliseconds. */
    public long eventTime;
    public int schemaVersion;

    public Transaction() {}

    public Transaction(String txnId, String cardId, String customerId, String merchantId, BigDecimal amount,
                       String currency, String country, String channel, long eventTime, int schemaVersion) {
        this.txnId = txnId;
        this.cardId = cardId;
        this.customerId = customerId;
        this.merchantId = merchantId;
        this.amount = amount;
        this.currency = currency;
        this.country = country;
        this.channel = channel;
        this.eventTime = eventTime;
        this.schemaVersion = schemaVersion;
    }

    /** The amount in minor units (cents): the exact unit every aggregate and rule computes in. */
    public long amountCents() {
        return amount.movePointRight(2).longValueExact();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof Transaction t)) return false;
        return eventTime == t.eventTime && schemaVersion == t.schemaVersion && Objects.equals(txnId, t.txnId)
                && Objects.equals(cardId, t.cardId) && Objects.equals(customerId, t.customerId)
                && Objects.equals(merchantId, t.merchantId) && amount != null && t.amount != null
                && amount.compareTo(t.amount) == 0 && Objects.equals(currency, t.currency)
                && Objects.equals(country, t.country) && Objects.equals(channel, t.channel);
    }

    @Override
    public int hashCode() {
        return Objects.hash(txnId, eventTime);
    }

    @Override
    public String toString() {
        return "Transaction{" + txnId + ", card=" + cardId + ", amount=" + amount + ", country=" + country
                + ", eventTime=" + eventTime + '}';
    }
}
