package dev.tributary.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tributary.flink.model.ParsedRecord;
import dev.tributary.flink.testing.JobHarness;
import dev.tributary.flink.testing.LakeReader;
import dev.tributary.flink.testing.SampleGenerator;
import dev.tributary.flink.testing.SampleGenerator.Sample;
import dev.tributary.flink.views.ViewDefinition;
import dev.tributary.flink.views.Views;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once end to end: a run that fails mid-stream, after a completed checkpoint, and restores
 * from it commits exactly the same rows to every view as a run that never failed.
 */
class FailureRecoveryTest {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = JobHarness.miniCluster();

    /** Columns stamped with processing time, the only ones allowed to differ between runs. */
    static final List<String> PROCESSING_TIME_COLUMNS = List.of("detected_at", "received_at");

    @TempDir
    Path workDir;

    @Test
    void aRestoredRunCommitsExactlyTheRowsOfAnUninterruptedRun() throws Exception {
        // No beyond-lateness events: right after a restore the watermark restarts from the replayed
        // records, so lateness near the restore point is not part of what this test compares.
        Sample sample = SampleGenerator.generate(
                new SampleGenerator.Options(7, 200, 2, 0.03, 0.02, 0, 0.005));
        Path input = workDir.resolve("events.ndjson");
        sample.writeTo(input);
        Path profiles = workDir.resolve("profiles.csv");
        Files.write(profiles, SampleGenerator.profileCsv(200));

        Path cleanLake = workDir.resolve("clean");
        JobHarness.run(JobHarness.fileJob(input, cleanLake, profiles));

        FailOnceAfterCheckpoint.reset(sample.lines().size() / 2);
        Path restoredLake = workDir.resolve("restored");
        JobHarness.run(JobHarness.fileJob(input, restoredLake, profiles),
                records -> slowedWithOneFailure(records), 100);

        assertThat(FailOnceAfterCheckpoint.FAILED).as("the induced failure happened").isTrue();
        assertThat(FailOnceAfterCheckpoint.SEEN.get()).as("records read over both attempts: the second one "
                + "resumed from a checkpoint, not from the start").isLessThan(FailOnceAfterCheckpoint.failAfter
                + sample.lines().size());
        List<ViewDefinition<?>> views = new ArrayList<>(Views.SERVING_VIEWS);
        views.add(Views.DEAD_LETTER);
        for (ViewDefinition<?> view : views) {
            List<Map<String, Object>> clean = withoutProcessingTime(LakeReader.rows(cleanLake, view.name()));
            List<Map<String, Object>> restored = withoutProcessingTime(LakeReader.rows(restoredLake, view.name()));
            if (!view.name().equals("late_events")) {
                assertThat(clean).as("rows of %s", view.name()).isNotEmpty();
            }
            assertThat(restored).as("rows of %s after a restore", view.name())
                    .containsExactlyInAnyOrderElementsOf(clean);
        }
    }

    private static DataStream<ParsedRecord> slowedWithOneFailure(DataStream<ParsedRecord> records) {
        return records.map(new FailOnceAfterCheckpoint()).setParallelism(records.getParallelism())
                .uid("test-fail-once");
    }

    private static List<Map<String, Object>> withoutProcessingTime(List<Map<String, Object>> rows) {
        rows.forEach(row -> PROCESSING_TIME_COLUMNS.forEach(row::remove));
        return rows;
    }

    /**
     * Passes records through slowly enough for checkpoints to complete mid-stream, and throws once,
     * after half the input has passed and a few checkpoints have completed (the first one may be
     * taken before the source has its split, i.e. at offset 0).
     */
    static class FailOnceAfterCheckpoint implements MapFunction<ParsedRecord, ParsedRecord>, CheckpointListener {
        static final AtomicBoolean FAILED = new AtomicBoolean();
        static final AtomicInteger CHECKPOINTS_DONE = new AtomicInteger();
        static final AtomicInteger SEEN = new AtomicInteger();
        static volatile int failAfter;
        /** Checkpoint notifications to wait for: one per checkpoint and parallel instance of this map. */
        static volatile int checkpointsBeforeFailure;

        static void reset(int records) {
            reset(records, 2);
        }

        static void reset(int records, int checkpointNotifications) {
            FAILED.set(false);
            CHECKPOINTS_DONE.set(0);
            SEEN.set(0);
            failAfter = records;
            checkpointsBeforeFailure = checkpointNotifications;
        }

        @Override
        public ParsedRecord map(ParsedRecord record) throws Exception {
            int seen = SEEN.incrementAndGet();
            if (seen >= failAfter && !FAILED.get()) {
                if (CHECKPOINTS_DONE.get() >= checkpointsBeforeFailure && FAILED.compareAndSet(false, true)) {
                    throw new IllegalStateException("induced failure after " + seen + " records");
                }
                // Past the failure point but too few checkpoints yet (a slow or busy machine): hold the
                // stream back, one record at a time so checkpoint barriers still pass, rather than let
                // the input run out before the failure is induced.
                Thread.sleep(10);
            } else if (seen % 2 == 0) {
                Thread.sleep(1);
            }
            return record;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            // Only checkpoints taken while records flow: one taken before the source had its splits restores to
            // the start, which proves nothing about resuming.
            if (SEEN.get() > 0) {
                CHECKPOINTS_DONE.incrementAndGet();
            }
        }
    }
}
