import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, logLevel } from 'kafkajs';
import { type TopicEvent, onEvent as onEventFor } from './topic';

/** An admin client on the cluster's IAM bootstrap brokers: TLS, and SASL OAUTHBEARER carrying the signed IAM token, as MSK takes it. */
async function iamAdmin(bootstrapBrokers: string, region: string) {
  const kafka = new Kafka({
    clientId: 'tributary-msk-topic',
    brokers: bootstrapBrokers.split(','),
    ssl: true,
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region })).token }) },
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
    retry: { retries: 5 },
    logLevel: logLevel.WARN,
  });
  const admin = kafka.admin();
  await admin.connect();
  return admin;
}

export const onEvent = (event: TopicEvent) => onEventFor(iamAdmin, event);
