package dev.tributary.flink.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tributary.flink.model.ParsedRecord;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * Spliced in after the source (one reader: the file source): passes records on, but after each
 * transaction named in the holds it stops the input (the next record is held) until the named alert
 * is on the alerts log. With the input stopped there, no watermark beyond that transaction's can reach
 * the rules, so an alert seen then was raised before the watermark passed its transactions. Gives up
 * after {@link #PATIENCE_MS} and notes it. Static state: the MiniCluster runs in the test's JVM.
 */
public class HoldUntilOnLog implements MapFunction<ParsedRecord, ParsedRecord> {
    public static final long PATIENCE_MS = 20_000;
    /** From passing the completing transaction to the alert being readable on the log. */
    public static final Map<String, Long> LATENCY_MS = new ConcurrentHashMap<>();
    /** From passing the completing transaction to the rules detecting the alert (its detectedAt). */
    public static final Map<String, Long> DETECTION_MS = new ConcurrentHashMap<>();
    /** When (wall clock) the completing transaction of each awaited alert passed. */
    public static final Map<String, Long> PASSED_AT_MILLIS = new ConcurrentHashMap<>();
    public static final Set<String> TIMED_OUT = ConcurrentHashMap.newKeySet();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static volatile Map<String, String> holds;
    /** The alerts log's record values from its start (a Kinesis stream or a Kafka topic). */
    private static volatile Supplier<List<String>> log;
    private static volatile String awaited;
    private static volatile long passedAtNanos;
    private static volatile long passedAtMillis;

    /** Holds after each txnId (key) until its alertId (value) is on {@code alertsLog}. */
    public static void reset(Supplier<List<String>> alertsLog, Map<String, String> holdAfter) {
        LATENCY_MS.clear();
        DETECTION_MS.clear();
        PASSED_AT_MILLIS.clear();
        TIMED_OUT.clear();
        holds = Map.copyOf(holdAfter);
        log = alertsLog;
        awaited = null;
    }

    public static DataStream<ParsedRecord> splice(DataStream<ParsedRecord> records) {
        return records.map(new HoldUntilOnLog()).setParallelism(records.getParallelism()).uid("test-hold");
    }

    public static JsonNode json(String record) {
        try {
            return JSON.readTree(record);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public ParsedRecord map(ParsedRecord record) throws Exception {
        if (awaited != null) {
            long deadline = System.nanoTime() + PATIENCE_MS * 1_000_000;
            Optional<String> onLog;
            while ((onLog = log.get().stream().filter(r -> json(r).get("alertId").asText().equals(awaited))
                    .findFirst()).isEmpty()) {
                if (System.nanoTime() > deadline) {
                    TIMED_OUT.add(awaited);
                    break;
                }
                Thread.sleep(10);
            }
            if (onLog.isPresent()) {
                LATENCY_MS.put(awaited, (System.nanoTime() - passedAtNanos) / 1_000_000);
                DETECTION_MS.put(awaited, json(onLog.get()).get("detectedAt").asLong() - passedAtMillis);
            }
            awaited = null;
        }
        if (record.isValid() && holds.containsKey(record.transaction.txnId)) {
            awaited = holds.get(record.transaction.txnId);
            passedAtNanos = System.nanoTime();
            passedAtMillis = System.currentTimeMillis();
            PASSED_AT_MILLIS.put(awaited, passedAtMillis);
        }
        return record;
    }
}
