package dev.tributary.flink.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;

/**
 * kinesis-local (the npm build of kinesis-mock, the sandbox's Kinesis; see sandbox/engines/kinesis.ts)
 * as a JUnit extension: started with node from the repository's node_modules on free ports, stopped
 * after the class. The job under test reaches it only through the AWS SDK's standard settings, the
 * {@code aws.endpointUrlKinesis} system property and the credential chain's system properties, which
 * this extension sets and clears: the job's own code has no test or local branch.
 */
public final class KinesisLocal implements BeforeAllCallback, AfterAllCallback {
    public static final String REGION = "us-east-1";
    public static final String ACCOUNT = "000000000000";
    private static final Path MAIN = Path.of("..", "node_modules", "kinesis-local", "main.js").toAbsolutePath().normalize();

    private Process process;
    private Path logFile;
    private int port;
    private int tlsPort;
    private KinesisClient client;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (!Files.exists(MAIN)) {
            throw new IllegalStateException("kinesis-local is not installed at " + MAIN + ": run 'npm install' in the repository root first");
        }
        port = freePort();
        tlsPort = freePort();
        logFile = Files.createTempFile("kinesis-local-", ".log");
        ProcessBuilder builder = new ProcessBuilder("node", MAIN.toString())
                .directory(MAIN.getParent().toFile())
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile());
        Map<String, String> env = builder.environment();
        env.put("KINESIS_MOCK_PLAIN_PORT", String.valueOf(port));
        env.put("KINESIS_MOCK_TLS_PORT", String.valueOf(tlsPort));
        env.put("KINESIS_MOCK_CERT_PATH", MAIN.getParent().resolve("server.json").toString());
        env.put("AWS_REGION", REGION);
        env.put("AWS_ACCOUNT_ID", ACCOUNT);
        env.put("SHOULD_PERSIST_DATA", "false");
        env.put("CREATE_STREAM_DURATION", "10ms");
        env.put("REGISTER_STREAM_CONSUMER_DURATION", "10ms");
        env.put("DEREGISTER_STREAM_CONSUMER_DURATION", "10ms");
        env.put("LOG_LEVEL", "WARN");
        process = builder.start();
        awaitPort(port, Duration.ofSeconds(60));
        System.setProperty("aws.endpointUrlKinesis", endpoint().toString());
        System.setProperty("aws.accessKeyId", "test");
        System.setProperty("aws.secretAccessKey", "test-secret");
        client = KinesisClient.builder()
                .endpointOverride(endpoint())
                .region(Region.of(REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test-secret")))
                .httpClient(ApacheHttpClient.create())
                .build();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        System.clearProperty("aws.endpointUrlKinesis");
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        if (client != null) {
            client.close();
        }
        if (process != null) {
            process.destroy();
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        if (logFile != null) {
            Files.deleteIfExists(logFile);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public int tlsPort() {
        return tlsPort;
    }

    public KinesisClient client() {
        return client;
    }

    public static String streamArn(String name) {
        return "arn:aws:kinesis:" + REGION + ":" + ACCOUNT + ":stream/" + name;
    }

    /** Creates a provisioned stream and waits until it is ACTIVE; returns its ARN. */
    public String createStream(String name, int shards) throws InterruptedException {
        client.createStream(b -> b.streamName(name).shardCount(shards));
        Instant deadline = Instant.now().plusSeconds(30);
        while (client.describeStreamSummary(b -> b.streamName(name)).streamDescriptionSummary().streamStatus()
                != StreamStatus.ACTIVE) {
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("stream " + name + " did not become ACTIVE");
            }
            Thread.sleep(50);
        }
        return streamArn(name);
    }

    /** The stream's shards, in order. */
    public List<Shard> shards(String name) {
        return client.listShards(b -> b.streamName(name)).shards();
    }

    /**
     * Puts the lines in order, each under the partition key {@code keyOf(line)}, or on an explicit shard
     * (a hash key in its range) when {@code explicitHashKey} returns one; retries entries Kinesis rejects.
     */
    public void put(String stream, List<String> lines, java.util.function.Function<String, String> keyOf,
                    java.util.function.Function<String, String> explicitHashKey) throws InterruptedException {
        for (int from = 0; from < lines.size(); from += 500) {
            List<PutRecordsRequestEntry> batch = new ArrayList<>();
            for (String line : lines.subList(from, Math.min(lines.size(), from + 500))) {
                PutRecordsRequestEntry.Builder entry = PutRecordsRequestEntry.builder()
                        .data(SdkBytes.fromString(line, StandardCharsets.UTF_8))
                        .partitionKey(keyOf.apply(line));
                String hashKey = explicitHashKey.apply(line);
                if (hashKey != null) {
                    entry.explicitHashKey(hashKey);
                }
                batch.add(entry.build());
            }
            // Entries are retried one batch at a time, in order, so a shard keeps the lines' order.
            for (int attempt = 0; !batch.isEmpty(); attempt++) {
                List<PutRecordsRequestEntry> pending = batch;
                PutRecordsResponse response = client.putRecords(b -> b.streamName(stream).records(pending));
                List<PutRecordsRequestEntry> failed = new ArrayList<>();
                for (int i = 0; i < pending.size(); i++) {
                    if (response.records().get(i).errorCode() != null) {
                        failed.add(pending.get(i));
                    }
                }
                if (!failed.isEmpty() && attempt > 20) {
                    throw new IllegalStateException(failed.size() + " records rejected by kinesis-local");
                }
                if (!failed.isEmpty()) {
                    Thread.sleep(100);
                }
                batch = failed;
            }
        }
    }

    /** Every record's data on the stream, shard by shard, read from the trim horizon. */
    public List<String> readAll(String stream) {
        List<String> out = new ArrayList<>();
        for (Shard shard : shards(stream)) {
            String iterator = client.getShardIterator(b -> b.streamName(stream).shardId(shard.shardId())
                    .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
            while (iterator != null) {
                String current = iterator;
                GetRecordsResponse page = client.getRecords(b -> b.shardIterator(current));
                page.records().forEach(r -> out.add(r.data().asUtf8String()));
                if (page.records().isEmpty() && page.millisBehindLatest() == 0) {
                    break;
                }
                iterator = page.nextShardIterator();
            }
        }
        return out;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private void awaitPort(int port, Duration timeout) throws Exception {
        Instant deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("kinesis-local exited: " + Files.readString(logFile));
            }
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new UncheckedIOException(new IOException("kinesis-local did not open port " + port + " within " + timeout));
    }
}
