import dev.tributary.flink.config.ApplicationProperties;
import dev.tributary.flink.config.JobProperties;
import dev.tributary.flink.config.JobSettings;
import dev.tributary.flink.io.KinesisConnectors;
import dev.tributary.flink.io.ParsedRecordDeserializer;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Run by test/infra/contracts.test.ts as a single-file program (java KinesisSourceProbe.java <properties.json>)
 * on the shaded jar's classpath: reads property groups as the job does and prints, as one JSON object, the
 * configuration the jar's Kinesis code gives KinesisStreamsSource (after building that source, so the
 * connector's builder checks them too) and the stream it reads.
 */
public class KinesisSourceProbe {
    public static void main(String[] args) {
        JobSettings settings = JobSettings.read(new JobProperties(ApplicationProperties.fromLocalFile(Path.of(args[0]))));
        JobSettings.SourceSettings source = settings.source();
        KinesisConnectors.source(source.kinesis(), source.efoConsumerName(), source.startTimestamp(),
                new ParsedRecordDeserializer());
        Map<String, String> config = new TreeMap<>(
                KinesisConnectors.sourceConfig(source.kinesis(), source.efoConsumerName(), source.startTimestamp()).toMap());
        config.put("stream.arn", source.kinesis().streamArn());
        StringBuilder json = new StringBuilder("{");
        config.forEach((key, value) -> json.append(json.length() > 1 ? "," : "").append('"').append(key).append("\":\"")
                .append(value.replace("\\", "\\\\").replace("\"", "\\\"")).append('"'));
        System.out.println(json.append('}'));
    }
}
