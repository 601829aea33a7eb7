package dev.tributary.flink.views;

import java.io.Serializable;
import java.util.List;

/** A lake view: the folder name under {@code views/} and its columns, as declared in schemas/views.json. */
public record ViewDefinition<T extends ViewRow>(String name, List<Column> columns, Class<T> rowType)
        implements Serializable {
    public ViewDefinition {
        columns = List.copyOf(columns);
    }
}
