package dev.tributary.flink.lake;

import dev.tributary.flink.views.Column;
import dev.tributary.flink.views.ViewDefinition;
import dev.tributary.flink.views.ViewRow;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;

/** Writes {@link ViewRow}s straight to Parquet's record consumer, column by column, per {@link ParquetSchemas}. */
class ViewWriteSupport<T extends ViewRow> extends WriteSupport<T> {
    private final ViewDefinition<T> view;
    private final MessageType schema;
    private RecordConsumer consumer;

    ViewWriteSupport(ViewDefinition<T> view) {
        this.view = view;
        this.schema = ParquetSchemas.of(view);
    }

    @Override
    public WriteContext init(Configuration configuration) {
        return new WriteContext(schema, Map.of());
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
        this.consumer = recordConsumer;
    }

    @Override
    public void write(T row) {
        Object[] values = row.columnValues();
        List<Column> columns = view.columns();
        consumer.startMessage();
        for (int i = 0; i < columns.size(); i++) {
            if (values[i] != null) {
                Column column = columns.get(i);
                consumer.startField(column.name(), i);
                writeValue(column, values[i]);
                consumer.endField(column.name(), i);
            }
        }
        consumer.endMessage();
    }

    private void writeValue(Column column, Object value) {
        switch (column.type()) {
            case STRING -> consumer.addBinary(Binary.fromString((String) value));
            case BIGINT, DECIMAL_12_2, DECIMAL_18_2 -> consumer.addLong((Long) value);
            case ARRAY_OF_STRING -> writeStringList((List<?>) value);
        }
    }

    private void writeStringList(List<?> elements) {
        consumer.startGroup();
        if (!elements.isEmpty()) {
            consumer.startField(ParquetSchemas.LIST_GROUP, 0);
            for (Object element : elements) {
                consumer.startGroup();
                consumer.startField(ParquetSchemas.LIST_ELEMENT, 0);
                consumer.addBinary(Binary.fromString((String) element));
                consumer.endField(ParquetSchemas.LIST_ELEMENT, 0);
                consumer.endGroup();
            }
            consumer.endField(ParquetSchemas.LIST_GROUP, 0);
        }
        consumer.endGroup();
    }
}
