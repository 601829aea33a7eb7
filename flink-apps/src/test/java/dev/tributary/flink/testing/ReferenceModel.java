package dev.tributary.flink.testing;

import dev.tributary.flink.model.Transaction;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * A deliberately plain, batch implementation of docs/reference-product.md, written from the spec
 * and not from the job: the oracle the job's output is compared with. Input: the valid,
 * de-duplicated, on-time events, in any order.
 */
public final class ReferenceModel {
    private ReferenceModel() {}

    /** Key of a spend row: key, window start and (for sliding and session windows) end. */
    public record SpendRow(String key, long start, long end, long count, long totalCents) {}

    private static final Comparator<Transaction> EVENT_TIME_ORDER =
            Comparator.<Transaction>comparingLong(t -> t.eventTime).thenComparing(t -> t.txnId);

    private static Map<String, List<Transaction>> byCardInEventTimeOrder(List<Transaction> events) {
        Map<String, List<Transaction>> byCard = new TreeMap<>();
        for (Transaction t : events) {
            byCard.computeIfAbsent(t.cardId, k -> new ArrayList<>()).add(t);
        }
        byCard.values().forEach(list -> list.sort(EVENT_TIME_ORDER));
        return byCard;
    }

    /** Alert ids of R1, R2 and R3, exactly as the spec's scans define them. */
    public static TreeSet<String> alertIds(List<Transaction> events) {
        TreeSet<String> ids = new TreeSet<>();
        for (List<Transaction> card : byCardInEventTimeOrder(events).values()) {
            List<Transaction> large = card.stream().filter(t -> t.amountCents() > 10_000).toList();
            int i = 0;
            while (i + 2 < large.size()) {
                if (large.get(i + 2).eventTime - large.get(i).eventTime < 60_000) {
                    ids.add("R1:" + large.get(i).cardId + ":" + large.get(i).eventTime);
                    i += 3;
                } else {
                    i += 1;
                }
            }
            for (int k = 1; k < card.size(); k++) {
                Transaction p = card.get(k - 1);
                Transaction e = card.get(k);
                if (!e.country.equals(p.country) && e.eventTime - p.eventTime < 300_000) {
                    ids.add("R2:" + e.cardId + ":" + p.eventTime);
                }
            }
            long sum = 0;
            for (int k = 0; k < card.size(); k++) {
                Transaction e = card.get(k);
                BigDecimal average = BigDecimal.valueOf(sum, 2).divide(BigDecimal.valueOf(Math.max(k, 1)),
                        MathContext.DECIMAL128);
                if (k >= 5 && e.amount.compareTo(BigDecimal.TEN.multiply(average)) > 0) {
                    ids.add("R3:" + e.cardId + ":" + e.eventTime);
                }
                sum += e.amountCents();
            }
        }
        return ids;
    }

    public static List<SpendRow> tumbling(List<Transaction> events, boolean byCard, long sizeMs) {
        Map<List<Object>, long[]> totals = new TreeMap<>(Comparator.comparing(Object::toString));
        for (Transaction t : events) {
            long start = t.eventTime - t.eventTime % sizeMs;
            add(totals, List.of(byCard ? t.cardId : t.customerId, start, start + sizeMs), t);
        }
        return rows(totals);
    }

    public static List<SpendRow> sliding(List<Transaction> events, long sizeMs, long slideMs) {
        Map<List<Object>, long[]> totals = new TreeMap<>(Comparator.comparing(Object::toString));
        for (Transaction t : events) {
            long lastStart = t.eventTime - t.eventTime % slideMs;
            for (long start = lastStart; start > t.eventTime - sizeMs; start -= slideMs) {
                add(totals, List.of(t.cardId, start, start + sizeMs), t);
            }
        }
        return rows(totals);
    }

    /** Sessions per customer: a gap of more than {@code gapMs} after the last event ends one; end = last + gap. */
    public static List<SpendRow> sessions(List<Transaction> events, long gapMs) {
        Map<String, List<Transaction>> byCustomer = events.stream()
                .collect(Collectors.groupingBy(t -> t.customerId, TreeMap::new, Collectors.toList()));
        List<SpendRow> rows = new ArrayList<>();
        for (Map.Entry<String, List<Transaction>> entry : byCustomer.entrySet()) {
            List<Transaction> sorted = new ArrayList<>(entry.getValue());
            sorted.sort(EVENT_TIME_ORDER);
            long start = sorted.get(0).eventTime;
            long last = start;
            long count = 0;
            long cents = 0;
            for (Transaction t : sorted) {
                if (t.eventTime > last + gapMs) {
                    rows.add(new SpendRow(entry.getKey(), start, last + gapMs, count, cents));
                    start = t.eventTime;
                    count = 0;
                    cents = 0;
                }
                last = t.eventTime;
                count++;
                cents += t.amountCents();
            }
            rows.add(new SpendRow(entry.getKey(), start, last + gapMs, count, cents));
        }
        return rows;
    }

    private static void add(Map<List<Object>, long[]> totals, List<Object> key, Transaction t) {
        long[] total = totals.computeIfAbsent(key, k -> new long[2]);
        total[0]++;
        total[1] += t.amountCents();
    }

    private static List<SpendRow> rows(Map<List<Object>, long[]> totals) {
        List<SpendRow> rows = new ArrayList<>();
        totals.forEach((key, total) -> rows.add(
                new SpendRow((String) key.get(0), (Long) key.get(1), (Long) key.get(2), total[0], total[1])));
        return rows;
    }
}
