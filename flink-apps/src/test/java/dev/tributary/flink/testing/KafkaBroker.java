package dev.tributary.flink.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The sandbox's Kafka broker (Apache Kafka 4.1, KRaft, broker and controller in one JVM, from the
 * Maven Central jars of sandbox/engines/maven/pom.xml's {@code kafka} profile, resolved offline
 * from the local Maven repository) as a JUnit extension: formatted and started in a temporary folder
 * on free ports, stopped and removed after the class.
 */
public final class KafkaBroker implements BeforeAllCallback, AfterAllCallback {
    private static final Path ENGINES_POM =
            Path.of("..", "sandbox", "engines", "maven", "pom.xml").toAbsolutePath().normalize();

    private Path home;
    private Process process;
    private int port;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        home = Files.createTempDirectory("kafka-broker-");
        Path classpathFile = home.resolve("classpath.txt");
        run(List.of("mvn", "-o", "-q", "-f", ENGINES_POM.toString(), "-Pkafka", "dependency:build-classpath",
                "-Dmdep.outputFile=" + classpathFile), Duration.ofMinutes(2));
        String classpath = Files.readString(classpathFile).trim();
        port = freePort();
        int controllerPort = freePort();
        Path config = home.resolve("server.properties");
        Files.writeString(config, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "log.dirs=" + home.resolve("data"),
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false") + "\n");
        List<String> java = List.of("java", "-Xms256m", "-Xmx256m", "-cp", classpath);
        String clusterId = Uuid.randomUuid().toString();
        List<String> format = new ArrayList<>(java);
        format.addAll(List.of("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", config.toString()));
        run(format, Duration.ofMinutes(1));
        List<String> server = new ArrayList<>(java);
        server.addAll(List.of("kafka.Kafka", config.toString()));
        process = new ProcessBuilder(server).redirectErrorStream(true)
                .redirectOutput(home.resolve("broker.log").toFile()).start();
        awaitPort(port, Duration.ofSeconds(90));
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
        if (home != null) {
            try (Stream<Path> files = Files.walk(home)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** A topic whose record timestamps are the broker's append times (LogAppendTime). */
    public void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1)
                    .configs(Map.of("message.timestamp.type", "LogAppendTime")))).all().get(30, TimeUnit.SECONDS);
        }
    }

    /** Every record on the topic from the beginning, as a read_committed consumer sees them. */
    public List<ConsumerRecord<String, String>> readAll(String topic) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Instant deadline = Instant.now().plusSeconds(30);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))
                    && Instant.now().isBefore(deadline)) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
        }
        return records;
    }

    private void run(List<String> command, Duration timeout) throws Exception {
        Path log = Files.createTempFile(home, "command-", ".log");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!child.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) || child.exitValue() != 0) {
            child.destroyForcibly();
            throw new IllegalStateException("'" + String.join(" ", command.subList(0, Math.min(4, command.size())))
                    + " ...' failed: " + Files.readString(log, StandardCharsets.UTF_8));
        }
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
                throw new IllegalStateException("the Kafka broker exited: " + Files.readString(home.resolve("broker.log")));
            }
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("the Kafka broker did not listen on " + port + " within " + timeout);
    }
}
