package dev.tributary.flink.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/** Reads what the job committed to a local lake: only finished part files, never hidden in-progress ones. */
public final class LakeReader {
    private LakeReader() {}

    /** Committed Parquet files of a view, e.g. {@code views/alerts/v=1/dt=.../hr=.../part-*.parquet}. */
    public static List<Path> committedFiles(Path lakeRoot, String view) {
        Path root = lakeRoot.resolve("views").resolve(view);
        if (!Files.exists(root)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().startsWith("."))
                    .filter(f -> f.getFileName().toString().endsWith(".parquet"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static MessageType schema(Path file) {
        try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file))) {
            return reader.getFooter().getFileMetaData().getSchema();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every committed row of a view, as column name to value (String, Long, BigDecimal or List of String). */
    public static List<Map<String, Object>> rows(Path lakeRoot, String view) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Path file : committedFiles(lakeRoot, view)) {
            try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file))) {
                MessageType schema = reader.getFooter().getFileMetaData().getSchema();
                PageReadStore pages;
                while ((pages = reader.readNextRowGroup()) != null) {
                    RecordReader<Group> records = new ColumnIOFactory().getColumnIO(schema)
                            .getRecordReader(pages, new GroupRecordConverter(schema));
                    for (long i = 0; i < pages.getRowCount(); i++) {
                        rows.add(toMap(records.read(), schema));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return rows;
    }

    private static Map<String, Object> toMap(Group group, GroupType schema) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (Type field : schema.getFields()) {
            String name = field.getName();
            row.put(name, group.getFieldRepetitionCount(name) == 0 ? null : value(group, field));
        }
        return row;
    }

    private static Object value(Group group, Type field) {
        String name = field.getName();
        LogicalTypeAnnotation logical = field.getLogicalTypeAnnotation();
        if (!field.isPrimitive()) {
            Group list = group.getGroup(name, 0);
            List<String> elements = new ArrayList<>();
            for (int i = 0; i < list.getFieldRepetitionCount("list"); i++) {
                elements.add(list.getGroup("list", i).getString("element", 0));
            }
            return elements;
        }
        if (logical instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation) {
            return group.getString(name, 0);
        }
        if (logical instanceof LogicalTypeAnnotation.DecimalLogicalTypeAnnotation decimal) {
            return BigDecimal.valueOf(group.getLong(name, 0), decimal.getScale());
        }
        return group.getLong(name, 0);
    }
}
