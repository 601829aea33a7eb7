package dev.tributary.flink.io;

import dev.tributary.flink.model.ParsedRecord;
import java.io.IOException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.core.fs.FSDataInputStream;

/** Reads NDJSON files (one transaction per line) for the file source, parsing each line like the log sources do. */
public class TransactionLineFormat extends SimpleStreamFormat<ParsedRecord> {
    private final TextLineInputFormat lines = new TextLineInputFormat();

    @Override
    public StreamFormat.Reader<ParsedRecord> createReader(Configuration config, FSDataInputStream stream)
            throws IOException {
        StreamFormat.Reader<String> lineReader = lines.createReader(config, stream);
        return new StreamFormat.Reader<>() {
            @Override
            public ParsedRecord read() throws IOException {
                String line;
                do {
                    line = lineReader.read();
                } while (line != null && line.isBlank());
                return line == null ? null : TransactionJson.parse(line);
            }

            @Override
            public void close() throws IOException {
                lineReader.close();
            }
        };
    }

    @Override
    public TypeInformation<ParsedRecord> getProducedType() {
        return TypeInformation.of(ParsedRecord.class);
    }
}
