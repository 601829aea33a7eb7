package dev.tributary.flink.config;

/** A property group id and a key within it, as in Managed Flink's runtime properties. */
public record PropertyKey(String group, String key) implements Comparable<PropertyKey> {
    @Override
    public int compareTo(PropertyKey other) {
        int byGroup = group.compareTo(other.group);
        return byGroup != 0 ? byGroup : key.compareTo(other.key);
    }

    @Override
    public String toString() {
        return group + "/" + key;
    }
}
