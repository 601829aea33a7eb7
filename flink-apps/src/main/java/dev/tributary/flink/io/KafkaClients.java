package dev.tributary.flink.io;

import dev.tributary.flink.config.JobSettings.KafkaAuth;
import dev.tributary.flink.config.JobSettings.KafkaCluster;
import java.util.Properties;

/** Client properties shared by the Kafka source and sink: IAM authentication to MSK when configured. */
final class KafkaClients {
    private KafkaClients() {}

    static Properties securityProperties(KafkaCluster cluster) {
        Properties properties = new Properties();
        if (cluster.auth() == KafkaAuth.IAM) {
            properties.setProperty("security.protocol", "SASL_SSL");
            properties.setProperty("sasl.mechanism", "AWS_MSK_IAM");
            properties.setProperty("sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required;");
            properties.setProperty("sasl.client.callback.handler.class",
                    "software.amazon.msk.auth.iam.IAMClientCallbackHandler");
        }
        return properties;
    }
}
