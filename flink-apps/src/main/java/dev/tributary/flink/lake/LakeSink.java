package dev.tributary.flink.lake;

import dev.tributary.flink.views.ViewDefinition;
import dev.tributary.flink.views.ViewRow;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.parquet.ParquetWriterFactory;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.OutputFile;

/**
 * The exactly-once Parquet sink of one view: {@code <lakeRoot>/views/<name>/v=<n>/dt=.../hr=.../part-*.parquet}.
 * Part files roll and are committed on checkpoints only, so a restore never leaves a half-written
 * or duplicated file visible; in-progress files are hidden (dot-prefixed) until committed.
 */
public final class LakeSink {
    private LakeSink() {}

    public static String viewRoot(String lakeRoot, String viewName) {
        return stripTrailingSlash(lakeRoot) + "/views/" + viewName;
    }

    public static <T extends ViewRow> FileSink<T> forView(ViewDefinition<T> view, String lakeRoot, int version) {
        return FileSink.forBulkFormat(new Path(viewRoot(lakeRoot, view.name())), writerFactory(view))
                .withBucketAssigner(new ViewPartitioner<>(version))
                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix("part").withPartSuffix(".parquet")
                        .build())
                .build();
    }

    static <T extends ViewRow> ParquetWriterFactory<T> writerFactory(ViewDefinition<T> view) {
        return new ParquetWriterFactory<>(out -> new ViewWriterBuilder<>(out, view)
                .withCompressionCodec(CompressionCodecName.SNAPPY)
                .build());
    }

    private static String stripTrailingSlash(String path) {
        return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    private static final class ViewWriterBuilder<T extends ViewRow>
            extends ParquetWriter.Builder<T, ViewWriterBuilder<T>> {
        private final ViewDefinition<T> view;

        ViewWriterBuilder(OutputFile out, ViewDefinition<T> view) {
            super(out);
            this.view = view;
        }

        @Override
        protected ViewWriterBuilder<T> self() {
            return this;
        }

        @Override
        protected WriteSupport<T> getWriteSupport(Configuration conf) {
            return new ViewWriteSupport<>(view);
        }
    }
}
