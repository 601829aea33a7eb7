package dev.tributary.flink.rules;

import dev.tributary.flink.config.RuleParameters;
import dev.tributary.flink.model.SpendTotals;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.views.Rows.Alert;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;

/**
 * What R1, R2 and R3 remember of one card after a prefix of its transactions in event-time order,
 * and the one step that advances it over the next transaction. Plain Java, no Flink: {@link CardRules}
 * advances it both for the final evaluation (kept in keyed state) and for the speculative one (a copy
 * advanced over the pending transactions), so both apply exactly the same rules.
 * The thresholds and windows are the product definition's ({@link RuleParameters}); the defaults of
 * products/card-fraud/product.json are written below.
 * <ul>
 *   <li>R1: the card's transactions over 100, scanned from the start; {@code burst} holds the (at most
 *       two) large transactions from the scan position on. When a third arrives: if it is less than
 *       60 s after the first, the three are an alert (window start: the first's event time) and the
 *       scan continues after them; otherwise the scan moves one on.</li>
 *   <li>R2: a transaction in another country than its predecessor, less than 5 minutes after it;
 *       window start: the predecessor's event time.</li>
 *   <li>R3: a transaction over 10x the mean of the card's earlier transactions, once there are at
 *       least 5 of them; window start: its own event time. Compared exactly in cents:
 *       {@code amount * count > 10 * sum}.</li>
 * </ul>
 */
public final class CardRuleState {
    public static final String BURST = "R1";
    public static final String COUNTRY_HOP = "R2";
    public static final String SPIKE = "R3";

    /** The card's event-time order: by event time, ties by txnId. */
    public static final Comparator<Transaction> EVENT_TIME_ORDER =
            Comparator.<Transaction>comparingLong(txn -> txn.eventTime).thenComparing(txn -> txn.txnId);

    private final RuleParameters rules;
    private final List<Transaction> burst;
    private Transaction previous;
    private long txnCount;
    private long totalCents;

    /** The state as stored: any argument may be null (a card not seen yet). The lists are copied. */
    public CardRuleState(RuleParameters rules, List<Transaction> burst, Transaction previous, SpendTotals history) {
        this.rules = rules;
        this.burst = burst == null ? new ArrayList<>() : new ArrayList<>(burst);
        this.previous = previous;
        this.txnCount = history == null ? 0 : history.txnCount;
        this.totalCents = history == null ? 0 : history.totalCents;
    }

    public CardRuleState copy() {
        return new CardRuleState(rules, burst, previous, history());
    }

    public List<Transaction> burst() {
        return List.copyOf(burst);
    }

    public Transaction previous() {
        return previous;
    }

    public SpendTotals history() {
        return new SpendTotals(txnCount, totalCents);
    }

    /**
     * Advances over {@code txn}, the card's next transaction in event-time order, and hands every
     * alert it completes to {@code alerts}, stamped {@code detectedAt}.
     */
    public void advance(Transaction txn, long detectedAt, Consumer<Alert> alerts) {
        if (txn.amountCents() > rules.largeAboveCents()) {
            burst.add(txn);
            if (burst.size() == 3) {
                Transaction first = burst.get(0);
                if (txn.eventTime - first.eventTime < rules.burstWindowMs()) {
                    alerts.accept(Alert.detected(BURST, first, first.eventTime,
                            burst.stream().map(t -> t.txnId).toList(), detectedAt));
                    burst.clear();
                } else {
                    burst.remove(0);
                }
            }
        }
        if (previous != null && !previous.country.equals(txn.country)
                && txn.eventTime - previous.eventTime < rules.hopWindowMs()) {
            alerts.accept(Alert.detected(COUNTRY_HOP, txn, previous.eventTime,
                    List.of(previous.txnId, txn.txnId), detectedAt));
        }
        if (txnCount >= rules.spikeMinHistory()
                && Math.multiplyExact(txn.amountCents(), txnCount) > Math.multiplyExact(rules.spikeFactor(), totalCents)) {
            alerts.accept(Alert.detected(SPIKE, txn, txn.eventTime, List.of(txn.txnId), detectedAt));
        }
        previous = txn;
        txnCount++;
        totalCents = Math.addExact(totalCents, txn.amountCents());
    }

    /** Advances over {@code txns} in event-time order; returns the alerts found, in order. */
    public List<Alert> advanceInOrder(Collection<Transaction> txns, long detectedAt) {
        List<Transaction> ordered = new ArrayList<>(txns);
        ordered.sort(EVENT_TIME_ORDER);
        List<Alert> found = new ArrayList<>();
        for (Transaction txn : ordered) {
            advance(txn, detectedAt, found::add);
        }
        return found;
    }

    /**
     * Whether the final evaluation, in this state after every transaction of the card up to event time
     * {@code through}, can no longer raise the alert {@code alertId}: usually well before
     * {@link #decidedAt}, as soon as the state has moved past the alert's window start.
     * <ul>
     *   <li>R2 (window start: the predecessor's event time): once {@code previous} is later than the
     *       window start, every later transaction's predecessor is too.</li>
     *   <li>R1 (window start: the burst's first event time): once the scan has moved past the window
     *       start (no large transaction kept, or the first one kept is later), it never comes back.</li>
     *   <li>R3 (window start: its own event time): once {@code through} has reached it.</li>
     * </ul>
     */
    public boolean hasDecided(String alertId, long through) {
        String rule = ruleOf(alertId);
        long windowStart = windowStartOf(alertId);
        if (through < windowStart) {
            return false;
        }
        return switch (rule) {
            case BURST -> burst.isEmpty() || burst.get(0).eventTime > windowStart;
            case COUNTRY_HOP -> previous != null && previous.eventTime > windowStart;
            case SPIKE -> true;
            default -> throw new IllegalArgumentException("unknown rule " + rule);
        };
    }

    /** The rule of an alert id ({@code rule:cardId:windowStart}). */
    static String ruleOf(String alertId) {
        return alertId.substring(0, alertId.indexOf(':'));
    }

    /** The window start of an alert id ({@code rule:cardId:windowStart}). */
    static long windowStartOf(String alertId) {
        return Long.parseLong(alertId.substring(alertId.lastIndexOf(':') + 1));
    }

    /**
     * The last event time at which the final evaluation could still raise an alert with this id:
     * every transaction of an alert lies within its rule's window after {@code windowStart}, so once
     * the final evaluation has passed this time, an id it has not raised it never will.
     */
    public static long decidedAt(Alert alert, RuleParameters rules) {
        return switch (alert.rule()) {
            case BURST -> alert.windowStart() + rules.burstWindowMs() - 1;
            case COUNTRY_HOP -> alert.windowStart() + rules.hopWindowMs() - 1;
            case SPIKE -> alert.windowStart();
            default -> throw new IllegalArgumentException("unknown rule " + alert.rule());
        };
    }
}
