import * as fs from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { kafkaAlertsLog } from '../../lambdas/speed-layer/alerts-log';
import { createSpeedLayerHandler } from '../../lambdas/speed-layer/handler';
import type { Alert } from '../../lambdas/speed-layer/rules';
import { Supervisor, kafkaBootstrap, startKafka } from '../../sandbox/engines';
import { KafkaLog } from '../../sandbox/log';
import type { SandboxSettings } from '../../sandbox/settings';
import { testSettings } from '../helpers/sandbox';
import { ALERTS_TOPIC, alertRecord, mskEvent, T0, txn, VALID_ENV } from './fixtures';

/**
 * The speed layer's Kafka alerts-log writer against a REAL Kafka 4.1 broker (KRaft, the sandbox's engine, as
 * test/lambdas/msk-topic.test.ts starts it), plaintext (`ALERTS_KAFKA_AUTH=none`, the sandbox's setting); on
 * MSK the same producer speaks TLS + SASL OAUTHBEARER with an IAM token. Records are read back with a consumer.
 */

let settings: SandboxSettings;
let supervisor: Supervisor;
let kafka: Kafka;
let admin: Admin;
const s3Mock = mockClient(S3Client);

beforeAll(async () => {
  settings = await testSettings('tributary-alerts-log-kafka');
  supervisor = new Supervisor(settings, { stopTimeoutMs: 10_000 });
  await startKafka(supervisor, settings);
  kafka = new Kafka({ clientId: 'alerts-log-test', brokers: [kafkaBootstrap(settings)], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  await createTopic(ALERTS_TOPIC, 3);
}, 180_000);

/** Created as the sandbox creates its topics: waiting for every partition's leader (kafkajs' own wait is flaky under load). */
async function createTopic(topic: string, partitions: number): Promise<void> {
  const log = new KafkaLog({ ...settings, streamName: topic, shards: partitions });
  try {
    await log.ensureCreated();
  } finally {
    await log.close();
  }
}

afterAll(async () => {
  await admin?.disconnect();
  await supervisor?.stopAll();
  fs.rmSync(settings.home, { recursive: true, force: true });
}, 60_000);

/** Every record on the topic: [partition, key, value] in partition then offset order. */
async function readTopic(topic: string, expected: number): Promise<Array<{ partition: number; key: string; value: Record<string, unknown> }>> {
  const consumer = kafka.consumer({ groupId: `reader-${Date.now()}-${Math.random()}` });
  const seen: Array<{ partition: number; offset: number; key: string; value: Record<string, unknown> }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      // Generous: a consumer group's first join on a loaded 2-core machine can take tens of seconds.
      const timer = setTimeout(() => reject(new Error(`read ${seen.length} of ${expected} records`)), 90_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.push({ partition, offset: Number(message.offset), key: message.key!.toString('utf8'), value: JSON.parse(message.value!.toString('utf8')) });
          if (seen.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen.sort((a, b) => a.partition - b.partition || a.offset - b.offset).map(({ partition, key, value }) => ({ partition, key, value }));
}

/** kafkajs logs each retried request (e.g. NOT_LEADER right after a topic is made); the assertions say what matters. */
const QUIET = { logLevel: logLevel.NOTHING };

const speedAlert = (overrides: Parameters<typeof alertRecord>[0]) => alertRecord(overrides) as Alert;

test('appends each alert keyed by its card, the alert JSON as value, with one producer connection across appends', async () => {
  const log = kafkaAlertsLog({ brokers: [kafkaBootstrap(settings)], topic: ALERTS_TOPIC, auth: 'none', kafka: QUIET });
  const first = [speedAlert({ cardId: 'card-a', windowStart: T0 }), speedAlert({ cardId: 'card-b', windowStart: T0 })];
  const second = [speedAlert({ cardId: 'card-a', windowStart: T0 + 60_000 }), speedAlert({ cardId: 'card-c', rule: 'R2', windowStart: T0 + 5 })];
  await log.append(first);
  await log.append(second);
  await log.append([]);
  expect(log.connects).toBe(1);
  await log.close();

  const records = await readTopic(ALERTS_TOPIC, 4);
  expect(records.map((r) => [r.key, r.value]).sort()).toEqual([...first, ...second].map((a) => [a.cardId, a]).sort());
  // One card's alerts on one partition, in the order written (the key picks the partition).
  const cardA = records.filter((r) => r.key === 'card-a');
  expect(new Set(cardA.map((r) => r.partition)).size).toBe(1);
  expect(cardA.map((r) => r.value.windowStart)).toEqual([T0, T0 + 60_000]);
}, 120_000);

test('rejects when the broker refuses the append, and connects afresh on the next one', async () => {
  const log = kafkaAlertsLog({
    brokers: [kafkaBootstrap(settings)],
    topic: 'no-such-topic',
    auth: 'none',
    kafka: { ...QUIET, retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 200 } },
  });
  // auto.create.topics.enable is false on the sandbox broker (as on MSK by default), so the topic stays unknown.
  await expect(log.append([speedAlert({ cardId: 'card-x' })])).rejects.toThrow(/topic|partition/i);
  await expect(log.append([speedAlert({ cardId: 'card-x' })])).rejects.toThrow(/topic|partition/i);
  expect(log.connects).toBe(2);
  await log.close();
}, 60_000);

test('the speed layer on MSK events appends the alert it finds to the topic before answering', async () => {
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
  const topic = 'speed-alerts';
  await createTopic(topic, 1);
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'speed-layer' });
  jest.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
  const alertsLog = kafkaAlertsLog({ brokers: [kafkaBootstrap(settings)], topic, auth: 'none', kafka: QUIET });
  const handler = createSpeedLayerHandler({
    env: VALID_ENV,
    s3: new S3Client({ region: 'eu-west-1' }),
    alertsLog,
    logger: new Logger({ serviceName: 'speed-layer', logLevel: 'SILENT' }),
    metrics,
    clock: () => T0 + 5_000,
  });
  const large = (id: string, ms: number) => txn({ txnId: id, amount: 250, eventTime: T0 + ms });
  const response = await handler(mskEvent([{ partition: 0, payloads: [large('t-1', 0), large('t-2', 1_000), large('t-3', 2_000)] }]));
  expect(response).toEqual({ batchItemFailures: [] });
  await alertsLog.close();
  expect(await readTopic(topic, 1)).toEqual([
    {
      partition: 0,
      key: 'card-000042',
      value: {
        alertId: `R1:card-000042:${T0}`,
        rule: 'R1',
        cardId: 'card-000042',
        customerId: 'cust-000007',
        windowStart: T0,
        txnIds: ['t-1', 't-2', 't-3'],
        detectedBy: 'speed',
        detectedAt: T0 + 5_000,
      },
    },
  ]);
}, 60_000);
