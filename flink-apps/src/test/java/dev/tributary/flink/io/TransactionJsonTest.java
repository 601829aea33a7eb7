package dev.tributary.flink.io;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tributary.flink.model.ParsedRecord;
import dev.tributary.flink.model.Transaction;
import java.math.BigDecimal;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Parsing enforces schemas/transaction.schema.json and never throws. */
class TransactionJsonTest {
    static final String VALID = "{\"txnId\":\"t-1\",\"cardId\":\"card-000001\",\"customerId\":\"cust-000001\","
            + "\"merchantId\":\"Shop 42\",\"amount\":100.1,\"currency\":\"EUR\",\"country\":\"FR\","
            + "\"channel\":\"ECOM\",\"eventTime\":1763683200000,\"schemaVersion\":1}";

    @Test
    void aValidTransactionIsReadWithItsExactAmount() {
        ParsedRecord record = TransactionJson.parse(VALID);

        assertThat(record.isValid()).isTrue();
        Transaction txn = record.transaction;
        assertThat(txn.amount).isEqualTo(new BigDecimal("100.10"));
        assertThat(txn.amountCents()).isEqualTo(10_010);
        assertThat(txn.eventTime).isEqualTo(1763683200000L);
        assertThat(TransactionJson.parse(TransactionJson.write(txn)).transaction).isEqualTo(txn);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "bad JSON           | {\"txnId\": | invalid JSON",
            "not an object      | [1,2]                                 | not a JSON object",
            "missing field      | \"amount\":100.1,  ->                  | missing required field 'amount'",
            "unknown field      | \"schemaVersion\":1 -> \"schemaVersion\":1,\"pin\":\"1234\" | unknown field 'pin'",
            "zero amount        | 100.1 -> 0                            | 'amount' must be > 0",
            "three decimals     | 100.1 -> 100.101                      | at most two decimals",
            "too large          | 100.1 -> 1000000.01                   | 'amount' must be > 0 and <= 1000000",
            "amount as string   | 100.1 -> \"100.10\"                   | 'amount' must be a number",
            "unknown channel    | ECOM -> FAX                           | 'channel' must be one of",
            "lower-case country | \"FR\" -> \"fr\"                      | 'country' must be an ISO 3166-1 alpha-2",
            "no such country    | \"FR\" -> \"ZZ\"                      | 'country' must be an ISO 3166-1 alpha-2",
            "no such currency   | \"EUR\" -> \"ZZZ\"                    | 'currency' must be an ISO 4217",
            "id alphabet        | t-1 -> t 1                            | 'txnId' must match",
            "event time range   | 1763683200000 -> 946684799999         | 'eventTime' must be within",
            "event time decimal | 1763683200000 -> 1763683200000.5      | 'eventTime' must be an integer",
            "schema version     | \"schemaVersion\":1 -> \"schemaVersion\":2 | 'schemaVersion' must be 1",
    })
    void aRecordBreakingTheSchemaIsRejectedWithTheReason(String name, String edit, String reason) {
        String raw = edit.contains("->") ? apply(edit) : edit;

        ParsedRecord record = TransactionJson.parse(raw);

        assertThat(record.isValid()).isFalse();
        assertThat(record.raw).isEqualTo(raw);
        assertThat(record.rejectionReason).contains(reason);
    }

    /** "a -> b" replaces a by b in the valid record. */
    private static String apply(String edit) {
        String[] parts = edit.split("->", 2);
        String edited = VALID.replace(parts[0].trim(), parts[1].trim());
        assertThat(edited).as("edit %s applies", edit).isNotEqualTo(VALID);
        return edited;
    }
}
