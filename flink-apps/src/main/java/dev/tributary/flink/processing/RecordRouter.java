package dev.tributary.flink.processing;

import dev.tributary.flink.model.ParsedRecord;
import dev.tributary.flink.model.Transaction;
import dev.tributary.flink.views.Rows.DeadLetter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/** Valid transactions go on; rejected records go to {@link #DEAD_LETTER} with their reason, never failing the job. */
public class RecordRouter extends ProcessFunction<ParsedRecord, Transaction> {
    public static final OutputTag<DeadLetter> DEAD_LETTER = new OutputTag<>("dead-letter") {};

    @Override
    public void processElement(ParsedRecord record, Context ctx, Collector<Transaction> out) {
        if (record.isValid()) {
            out.collect(record.transaction);
        } else {
            ctx.output(DEAD_LETTER, new DeadLetter(record.raw, record.rejectionReason,
                    ctx.timerService().currentProcessingTime()));
        }
    }
}
