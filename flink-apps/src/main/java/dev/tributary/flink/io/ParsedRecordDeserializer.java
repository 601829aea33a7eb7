package dev.tributary.flink.io;

import dev.tributary.flink.model.ParsedRecord;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/** Turns a Kafka or Kinesis record's bytes into a {@link ParsedRecord}; malformed records are kept, not thrown. */
public class ParsedRecordDeserializer implements DeserializationSchema<ParsedRecord> {
    @Override
    public ParsedRecord deserialize(byte[] message) {
        return TransactionJson.parse(new String(message, StandardCharsets.UTF_8));
    }

    @Override
    public boolean isEndOfStream(ParsedRecord nextElement) {
        return false;
    }

    @Override
    public TypeInformation<ParsedRecord> getProducedType() {
        return TypeInformation.of(ParsedRecord.class);
    }
}
