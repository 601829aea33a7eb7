package dev.tributary.flink.lake;

import dev.tributary.flink.views.Column;
import dev.tributary.flink.views.ViewDefinition;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;

/**
 * The Parquet schema of a view, from its Glue column types: string as UTF-8 binary, bigint as
 * int64, decimal(p<=18,s) as int64 DECIMAL(p,s), array&lt;string&gt; as a standard three-level LIST.
 * Every column is optional, which is how Glue/Athena and DuckDB read nullable columns.
 */
public final class ParquetSchemas {
    static final String LIST_GROUP = "list";
    static final String LIST_ELEMENT = "element";

    private ParquetSchemas() {}

    public static MessageType of(ViewDefinition<?> view) {
        List<Type> fields = new ArrayList<>();
        for (Column column : view.columns()) {
            fields.add(field(column));
        }
        return new MessageType(view.name(), fields);
    }

    private static Type field(Column column) {
        return switch (column.type()) {
            case STRING -> Types.optional(PrimitiveTypeName.BINARY)
                    .as(LogicalTypeAnnotation.stringType()).named(column.name());
            case BIGINT -> Types.optional(PrimitiveTypeName.INT64).named(column.name());
            case DECIMAL_12_2, DECIMAL_18_2 -> Types.optional(PrimitiveTypeName.INT64)
                    .as(LogicalTypeAnnotation.decimalType(column.type().scale(), column.type().precision()))
                    .named(column.name());
            case ARRAY_OF_STRING -> Types.optionalGroup().as(LogicalTypeAnnotation.listType())
                    .addField(Types.repeatedGroup()
                            .addField(Types.optional(PrimitiveTypeName.BINARY)
                                    .as(LogicalTypeAnnotation.stringType()).named(LIST_ELEMENT))
                            .named(LIST_GROUP))
                    .named(column.name());
        };
    }
}
