package dev.tributary.flink.views;

/**
 * The Glue (Hive) column types the views use, spelled as in schemas/views.json. Decimals are
 * carried as their unscaled value (cents) in a {@code long}, so no amount ever passes through a double.
 */
public enum ColumnType {
    STRING("string", 0, 0),
    BIGINT("bigint", 0, 0),
    DECIMAL_12_2("decimal(12,2)", 12, 2),
    DECIMAL_18_2("decimal(18,2)", 18, 2),
    ARRAY_OF_STRING("array<string>", 0, 0);

    private final String glueName;
    private final int precision;
    private final int scale;

    ColumnType(String glueName, int precision, int scale) {
        this.glueName = glueName;
        this.precision = precision;
        this.scale = scale;
    }

    public String glueName() {
        return glueName;
    }

    public boolean isDecimal() {
        return precision > 0;
    }

    public int precision() {
        return precision;
    }

    public int scale() {
        return scale;
    }
}
