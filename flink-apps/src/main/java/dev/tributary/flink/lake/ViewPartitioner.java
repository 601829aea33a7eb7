package dev.tributary.flink.lake;

import dev.tributary.flink.views.ViewRow;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.streaming.api.functions.sink.filesystem.BucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.SimpleVersionedStringSerializer;

/** Puts each row under {@code v=<version>/dt=yyyy-MM-dd/hr=HH} of its partition time, in UTC. */
public class ViewPartitioner<T extends ViewRow> implements BucketAssigner<T, String> {
    private static final DateTimeFormatter PARTITION =
            DateTimeFormatter.ofPattern("'dt='yyyy-MM-dd'/hr='HH").withZone(ZoneOffset.UTC);

    private final int version;

    public ViewPartitioner(int version) {
        this.version = version;
    }

    public static String partitionOf(int version, long epochMillis) {
        return "v=" + version + "/" + PARTITION.format(Instant.ofEpochMilli(epochMillis));
    }

    @Override
    public String getBucketId(T row, Context context) {
        return partitionOf(version, row.partitionTime());
    }

    @Override
    public SimpleVersionedSerializer<String> getSerializer() {
        return SimpleVersionedStringSerializer.INSTANCE;
    }
}
