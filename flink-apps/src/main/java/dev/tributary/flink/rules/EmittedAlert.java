package dev.tributary.flink.rules;

import dev.tributary.flink.views.Rows.Alert;

/**
 * An alert already sent to the alerts log, kept (keyed state of {@link CardRules}) until the final
 * evaluation has decided it ({@link CardRuleState#hasDecided}, at the latest at {@code decidedAt}): so
 * no id is sent twice, the view row carries the time it was first detected, and one the final
 * evaluation never raised is counted. A Flink POJO.
 */
public class EmittedAlert {
    public long detectedAt;
    public long decidedAt;
    public boolean confirmed;
    /** The alert's transactions as first sent, for the log line of an unconfirmed alert. */
    public String txnIds;

    public EmittedAlert() {}

    public EmittedAlert(Alert alert, boolean confirmed, long decidedAt) {
        this.detectedAt = alert.detectedAt();
        this.decidedAt = decidedAt;
        this.confirmed = confirmed;
        this.txnIds = String.join(",", alert.txnIds());
    }
}
