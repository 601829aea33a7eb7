package dev.tributary.flink.testing;

import dev.tributary.flink.io.TransactionJson;
import dev.tributary.flink.model.Transaction;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * A deterministic (per seed) sample of the reference product: background card traffic that can
 * trigger no rule, plus labelled fraud, out-of-order, late-within-lateness, late-beyond-lateness,
 * duplicate and malformed records. Background cards transact every ~8 minutes (so no country hop
 * can fall within 5 minutes), in one country, for 20-80 (so no transaction reaches 10x an average,
 * nor 100). Injected per card, by card index modulo 10:
 * 0: R1 burst of three 101-190 transactions within 30 s; 1: R2 hop abroad 2 minutes after event 3;
 * 2: R3 spike of 5000 at event 6.
 */
public final class SampleGenerator {
    public static final long START = Instant.parse("2026-11-21T00:00:00Z").toEpochMilli();
    static final long CADENCE_MS = 8 * 60_000;
    static final long JITTER_MS = 20_000;
    /** Ordinary disorder: below the job's 5 s out-of-orderness bound, so never late. */
    static final long MAX_DISORDER_MS = 4_000;
    /** Behind the watermark but within the 30 s allowed lateness: folded into views and rules. */
    static final long WITHIN_LATENESS_DELAY_MS = 15_000;
    /** Far beyond the allowed lateness: must land in late_events. */
    static final long BEYOND_LATENESS_DELAY_MS = 20 * 60_000;
    static final String[] COUNTRIES = {"GB", "FR", "DE", "ES", "IT", "NL", "IE", "PT"};
    static final String[] CHANNELS = {"POS", "ECOM", "ATM", "CONTACTLESS"};

    public record Options(long seed, int cards, int hours, double duplicateRate, double withinLatenessRate,
                          int beyondLatenessCount, double malformedRate) {
        public static Options sample(long seed) {
            return new Options(seed, 300, 3, 0.02, 0.02, 12, 0.005);
        }
    }

    /** The generator's output and its ground truth. */
    public record Sample(List<String> lines, List<Transaction> uniqueEvents, Set<String> lateTxnIds,
                         Set<String> labelledAlertIds, int malformedCount, int duplicateCount) {
        /** The valid, de-duplicated events that are not late: what views and rules must be computed on. */
        public List<Transaction> onTimeEvents() {
            return uniqueEvents.stream().filter(txn -> !lateTxnIds.contains(txn.txnId)).toList();
        }

        public void writeTo(Path file) {
            try {
                Files.write(file, lines);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private record Arrival(long at, int tieBreak, String line) {}

    private SampleGenerator() {}

    public static String cardId(int card) {
        return String.format("card-%06d", card);
    }

    public static String customerId(int card) {
        return String.format("cust-%06d", card / 2);
    }

    public static String homeCountry(int card) {
        return COUNTRIES[card % COUNTRIES.length];
    }

    public static Sample generate(Options options) {
        Random random = new Random(options.seed());
        List<Transaction> events = new ArrayList<>();
        Set<String> labels = new TreeSet<>();
        long end = START + options.hours() * 3_600_000L;
        int txnSeq = 0;
        for (int card = 0; card < options.cards(); card++) {
            long offset = (long) (random.nextDouble() * CADENCE_MS);
            List<Transaction> cardEvents = new ArrayList<>();
            for (long k = 0; ; k++) {
                long t = START + offset + k * CADENCE_MS + (long) ((random.nextDouble() * 2 - 1) * JITTER_MS);
                if (t >= end) break;
                cardEvents.add(txn(String.format("t-%08d", txnSeq++), card, cents(2_000 + random.nextInt(6_000)),
                        homeCountry(card), t, random));
            }
            int kind = card % 10;
            if (kind == 0 && cardEvents.size() > 4) {
                long first = cardEvents.get(3).eventTime + 60_000;
                for (int i = 0; i < 3; i++) {
                    cardEvents.add(txn(String.format("t-%08d", txnSeq++), card,
                            cents(10_100 + random.nextInt(9_000)), homeCountry(card), first + i * 15_000L, random));
                }
                labels.add("R1:" + cardId(card) + ":" + first);
            } else if (kind == 1 && cardEvents.size() > 4) {
                Transaction predecessor = cardEvents.get(3);
                String abroad = COUNTRIES[(card + 3) % COUNTRIES.length];
                cardEvents.add(txn(String.format("t-%08d", txnSeq++), card, cents(2_000 + random.nextInt(6_000)),
                        abroad, predecessor.eventTime + 120_000, random));
                labels.add("R2:" + cardId(card) + ":" + predecessor.eventTime);
            } else if (kind == 2 && cardEvents.size() > 7) {
                Transaction spike = cardEvents.get(6);
                spike.amount = new BigDecimal("5000.00");
                labels.add("R3:" + cardId(card) + ":" + spike.eventTime);
            }
            events.addAll(cardEvents);
        }

        Set<String> late = chooseLate(events, options, end, random);
        List<Arrival> arrivals = new ArrayList<>();
        int tie = 0;
        int duplicates = 0;
        for (Transaction txn : events) {
            String line = TransactionJson.write(txn);
            long delay = late.contains(txn.txnId) ? BEYOND_LATENESS_DELAY_MS
                    : random.nextDouble() < options.withinLatenessRate() ? WITHIN_LATENESS_DELAY_MS
                    : (long) (random.nextDouble() * MAX_DISORDER_MS);
            arrivals.add(new Arrival(txn.eventTime + delay, tie++, line));
            if (!late.contains(txn.txnId) && random.nextDouble() < options.duplicateRate()) {
                arrivals.add(new Arrival(txn.eventTime + delay + (long) (random.nextDouble() * 60_000), tie++, line));
                duplicates++;
            }
        }
        int malformed = 0;
        int malformedTarget = (int) Math.round(events.size() * options.malformedRate());
        for (int i = 0; i < malformedTarget; i++) {
            long at = START + (long) (random.nextDouble() * (end - START));
            arrivals.add(new Arrival(at, tie++, malformedLine(i, at)));
            malformed++;
        }
        arrivals.sort(Comparator.comparingLong(Arrival::at).thenComparingInt(Arrival::tieBreak));
        List<String> lines = arrivals.stream().map(Arrival::line).toList();
        return new Sample(lines, events, late, labels, malformed, duplicates);
    }

    /** Late events come from cards with no injected fraud, early enough for the stream to move 20 minutes past them. */
    private static Set<String> chooseLate(List<Transaction> events, Options options, long end, Random random) {
        List<Transaction> candidates = events.stream()
                .filter(txn -> Integer.parseInt(txn.cardId.substring(5)) % 10 >= 3)
                .filter(txn -> txn.eventTime < end - 2 * BEYOND_LATENESS_DELAY_MS && txn.eventTime > START + 60_000)
                .toList();
        Set<String> late = new HashSet<>();
        while (late.size() < Math.min(options.beyondLatenessCount(), candidates.size())) {
            late.add(candidates.get(random.nextInt(candidates.size())).txnId);
        }
        return late;
    }

    private static String malformedLine(int i, long at) {
        return switch (i % 5) {
            case 0 -> "{\"txnId\": \"broken-" + i + "\", \"amount\": ";
            case 1 -> "{\"txnId\":\"m-" + i + "\",\"cardId\":\"card-000001\",\"customerId\":\"cust-000000\","
                    + "\"merchantId\":\"m\",\"amount\":0.001,\"currency\":\"EUR\",\"country\":\"FR\","
                    + "\"channel\":\"POS\",\"eventTime\":" + at + ",\"schemaVersion\":1}";
            case 2 -> "{\"txnId\":\"m-" + i + "\",\"cardId\":\"card-000001\",\"customerId\":\"cust-000000\","
                    + "\"merchantId\":\"m\",\"amount\":10,\"currency\":\"EUR\",\"country\":\"FR\","
                    + "\"channel\":\"FAX\",\"eventTime\":" + at + ",\"schemaVersion\":1}";
            case 3 -> "[1, 2, 3]";
            default -> "{\"txnId\":\"m-" + i + "\",\"cardId\":\"card-000001\",\"eventTime\":" + at + "}";
        };
    }

    private static BigDecimal cents(long cents) {
        return BigDecimal.valueOf(cents, 2);
    }

    private static Transaction txn(String txnId, int card, BigDecimal amount, String country, long eventTime,
                                   Random random) {
        return new Transaction(txnId, cardId(card), customerId(card), "merchant-" + random.nextInt(500), amount,
                "EUR", country, CHANNELS[random.nextInt(CHANNELS.length)], eventTime, 1);
    }

    /** The card profile table as CSV; every third card is missing, to exercise unmatched enrichment. */
    public static List<String> profileCsv(int cards) {
        List<String> lines = new ArrayList<>();
        lines.add("card_id,segment,home_country,risk_tier");
        String[] segments = {"retail", "premium", "business"};
        String[] tiers = {"low", "medium", "high"};
        for (int card = 0; card < cards; card++) {
            if (card % 3 != 2) {
                lines.add(cardId(card) + "," + segments[card % 3] + "," + homeCountry(card) + "," + tiers[card % 3]);
            }
        }
        return lines;
    }
}
