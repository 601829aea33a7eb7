package dev.tributary.flink.model;

/**
 * What a source hands to the job for every input record: either a valid transaction or the raw
 * record with the reason it was rejected. Parsing never throws, so a poison record cannot fail the job.
 */
public class ParsedRecord {
    /** Set when the record is a valid transaction. */
    public Transaction transaction;
    /** Set, with {@link #rejectionReason}, when the record is malformed. */
    public String raw;
    public String rejectionReason;

    public ParsedRecord() {}

    public static ParsedRecord valid(Transaction transaction) {
        ParsedRecord record = new ParsedRecord();
        record.transaction = transaction;
        return record;
    }

    public static ParsedRecord rejected(String raw, String reason) {
        ParsedRecord record = new ParsedRecord();
        record.raw = raw;
        record.rejectionReason = reason;
        return record;
    }

    public boolean isValid() {
        return transaction != null;
    }
}
