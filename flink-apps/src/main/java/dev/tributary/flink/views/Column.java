package dev.tributary.flink.views;

import java.io.Serializable;

/** One column of a view: its name in the lake and its Glue type. */
public record Column(String name, ColumnType type) implements Serializable {
    public static Column of(String name, ColumnType type) {
        return new Column(name, type);
    }
}
