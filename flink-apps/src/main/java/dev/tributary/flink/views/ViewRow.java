package dev.tributary.flink.views;

/** A row of a lake view, as the Parquet writer sees it. */
public interface ViewRow {
    /**
     * The values in the order of the view's columns: {@code String}, {@code Long} (bigint, and the
     * unscaled cents of a decimal), or {@code List<String>}; {@code null} for an absent value.
     */
    Object[] columnValues();

    /** Epoch milliseconds that choose the row's {@code dt=}/{@code hr=} partition (the window start). */
    long partitionTime();
}
