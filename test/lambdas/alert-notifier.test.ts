import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { createAlertNotifierHandler, IDEMPOTENCY_KEY_PREFIX } from '../../lambdas/alert-notifier/handler';
import { alertJson } from '../../lambdas/shared/alert';
import { readPublished, startSnsStandIn, type SnsStandIn } from '../../sandbox/stand-ins/sns';
import type { SandboxSettings } from '../../sandbox/settings';
import { testSettings } from '../helpers/sandbox';
import {
  ALERTS_STREAM_ARN,
  ALERTS_TOPIC,
  alertRecord,
  kinesisEvent,
  mskEvent,
  POISON,
  sequenceNumber,
  T0,
  type Payload,
} from './fixtures';

/**
 * The alert notifier with its real neighbours where they run in-process: DynamoDB is dynalite (the sandbox's
 * stand-in; conditional writes as DynamoDB documents them, TTL not enforced, which Powertools does not rely on:
 * it compares `expiration` itself), SNS is the sandbox's SNS stand-in (the Query protocol the SDK speaks; every
 * published message is appended to a file we read back). Only S3, where the dead letters go, is the SDK mock the
 * speed-layer tests use. Events are the alerts log's: Kinesis records and MSK topic-partitions of alert records.
 */

const TABLE = 'tributary-test-alert-idempotency';
const TOPIC_NAME = 'tributary-alerts';
const BUCKET = 'tributary-dev-lake-123456789012';
const EXPIRY_SECONDS = 24 * 3600;

const s3Mock = mockClient(S3Client);
let settings: SandboxSettings;
let sns: SnsStandIn;
let dynalite: { close(cb: () => void): void; address(): AddressInfo };
let dynamo: DynamoDBClient;
let topicArn: string;

beforeAll(async () => {
  settings = await testSettings('tributary-alert-notifier');
  sns = await startSnsStandIn(settings);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const server = require('dynalite')({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  dynalite = server;
  dynamo = new DynamoDBClient({ endpoint: `http://127.0.0.1:${dynalite.address().port}`, region: settings.region, credentials: settings.credentials });
  // Powertools' default table: partition key `id` (string); TTL attribute `expiration` (not modelled by dynalite).
  await dynamo.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const snsClient = new SNSClient({ endpoint: sns.url, region: settings.region, credentials: settings.credentials });
  topicArn = (await snsClient.send(new CreateTopicCommand({ Name: TOPIC_NAME }))).TopicArn!;
}, 60_000);

afterAll(async () => {
  dynamo?.destroy();
  await sns?.close();
  await new Promise<void>((resolve) => (dynalite ? dynalite.close(resolve) : resolve()));
  fs.rmSync(settings.home, { recursive: true, force: true });
});

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
});

/** A notifier as index.ts makes it, on the stand-ins; each call is a new container (a fresh persistence layer). */
function notifier(options: { topic?: string } = {}) {
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'alert-notifier' });
  jest.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
  const addMetric = jest.spyOn(metrics, 'addMetric');
  const handler = createAlertNotifierHandler({
    env: { ALERTS_TOPIC_ARN: options.topic ?? topicArn, LAKE_BUCKET_NAME: BUCKET, DEAD_LETTER_PREFIX: 'deadletter', IDEMPOTENCY_EXPIRY_SECONDS: EXPIRY_SECONDS },
    s3: new S3Client({ region: settings.region }),
    sns: new SNSClient({ endpoint: sns.url, region: settings.region, credentials: settings.credentials }),
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: TABLE, awsSdkV3Client: dynamo }),
    logger: new Logger({ serviceName: 'alert-notifier', logLevel: 'SILENT' }),
    metrics,
  });
  const metric = (name: string) => addMetric.mock.calls.filter((c) => c[0] === name).map((c) => c[2]);
  return { handler, metric };
}

/** A Lambda context: Powertools sets an in-progress record's expiry from the remaining time. */
const context = { getRemainingTimeInMillis: () => 30_000, functionName: 'tributary-dev-alert-notifier', awsRequestId: 'req-1' } as unknown as Context;

let published: Awaited<ReturnType<typeof readPublished>> = [];
/** The messages published since the last call. */
async function newlyPublished() {
  const all = await readPublished(settings, TOPIC_NAME);
  const fresh = all.slice(published.length);
  published = all;
  return fresh;
}

const deadLetters = () =>
  s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input as PutObjectCommandInput).map((p) => ({ key: p.Key!, ...JSON.parse(p.Body as string) }));

/** The id of a key's idempotency item, as Powertools forms it: `<prefix>#<base64 md5 of the key's JSON>`. */
const idempotencyId = (key: string) => `${IDEMPOTENCY_KEY_PREFIX}#${createHash('md5').update(JSON.stringify(key)).digest('base64')}`;

async function idempotencyItem(key: string) {
  const id = idempotencyId(key);
  return (await dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: id } } }))).Item;
}

const seq = (position: number) => sequenceNumber(0, position);

describe('alert notifier on Kinesis', () => {
  const speedA = alertRecord({ cardId: 'card-k1' });
  const streamA = alertRecord({ cardId: 'card-k1', detectedBy: 'stream', detectedAt: T0 + 900 });
  const speedB = alertRecord({ rule: 'R2', cardId: 'card-k2', windowStart: T0 + 10_000, txnIds: ['t-8', 't-9'] });
  const batch: Payload[] = [
    speedA,
    streamA,
    POISON.badJson(2),
    { ...alertRecord({ cardId: 'card-k3' }), detectedBy: 'batch' } as unknown as Payload,
    alertRecord({ cardId: 'card-k4', alertId: 'R1:card-k4:1' }),
    POISON.notBase64(),
    speedB,
  ];
  const event = kinesisEvent(0, batch, { streamArn: ALERTS_STREAM_ARN });

  it('publishes each alert once per path with its String attributes (SNS: Amazon SNS message attributes), dead-letters the malformed records with their reason, and reports none', async () => {
    await newlyPublished();
    const { handler, metric } = notifier();
    const before = Math.floor(Date.now() / 1000);
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });

    const messages = await newlyPublished();
    // The same alert from the speed layer and the stream job: one delivery per path (the key is <detectedBy>:<alertId>).
    expect(messages.map((m) => [m.topicArn, m.message, m.messageAttributes]).sort()).toEqual(
      [speedA, streamA, speedB]
        .map((a) => [
          topicArn,
          alertJson(a),
          {
            alertId: { DataType: 'String', StringValue: a.alertId },
            rule: { DataType: 'String', StringValue: a.rule },
            detectedBy: { DataType: 'String', StringValue: a.detectedBy },
          },
        ])
        .sort(),
    );
    expect(JSON.parse(messages[0].message)).toEqual(expect.objectContaining({ cardId: 'card-k1' }));

    expect(deadLetters().map((d) => [d.key, d.reason, d.detail])).toEqual([
      [`deadletter/alerts/dt=2026-11-21/hr=21/shardId-000000000000-${seq(2)}.json`, 'bad_json', expect.stringContaining('JSON')],
      [`deadletter/alerts/dt=2026-11-21/hr=21/shardId-000000000000-${seq(3)}.json`, 'schema_violation', expect.stringMatching(/^\/detectedBy /)],
      [`deadletter/alerts/dt=2026-11-21/hr=21/shardId-000000000000-${seq(4)}.json`, 'schema_violation', '/alertId must be <rule>:<cardId>:<windowStart>'],
      [`deadletter/alerts/dt=2026-11-21/hr=21/shardId-000000000000-${seq(5)}.json`, 'undecodable', 'data is not valid base64'],
    ]);
    expect(deadLetters()[0]).toMatchObject({ event_source: 'aws:kinesis', stream: ALERTS_STREAM_ARN, sequence_number: seq(2), data_base64: event.Records[2].kinesis.data });
    expect(metric('AlertsPublished')).toEqual([3]);
    expect(metric('AlertRecordsDeadLettered')).toEqual([4]);

    // The idempotency record: COMPLETED, expiring after the alerts log's retention.
    const item = await idempotencyItem(`speed:${speedA.alertId}`);
    expect(item?.status.S).toBe('COMPLETED');
    expect(Number(item?.expiration.N)).toBeGreaterThanOrEqual(before + EXPIRY_SECONDS);
    expect(Number(item?.expiration.N)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + EXPIRY_SECONDS);
  });

  it('publishes nothing again when the same records are redelivered, even to another container', async () => {
    await newlyPublished();
    const { handler, metric } = notifier();
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    expect(await newlyPublished()).toEqual([]);
    expect(metric('AlertsDuplicate')).toEqual([3]);
    expect(metric('AlertsPublished')).toEqual([0]);
  });

  it('publishes an alert written twice in one batch (a producer retry) once', async () => {
    await newlyPublished();
    const twice = alertRecord({ cardId: 'card-k5' });
    const { handler, metric } = notifier();
    const response = await handler(kinesisEvent(0, [twice, alertRecord({ cardId: 'card-k6' }), twice], { streamArn: ALERTS_STREAM_ARN, firstPosition: 20 }), context);
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await newlyPublished()).map((m) => m.messageAttributes.alertId.StringValue).sort()).toEqual([twice.alertId, alertRecord({ cardId: 'card-k6' }).alertId]);
    expect(metric('AlertsDuplicate')).toEqual([1]);
  });

  it('reports an alert another invocation holds in progress, and publishes it once that invocation\'s time is up (Powertools idempotency: in_progress_expiration from the remaining time)', async () => {
    await newlyPublished();
    const held = alertRecord({ cardId: 'card-k7' });
    // What an invocation that died between saving IN_PROGRESS and publishing leaves behind (Powertools' item shape).
    const id = idempotencyId(`speed:${held.alertId}`);
    const inProgressUntil = Date.now() + 1_500;
    await dynamo.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { id: { S: id }, status: { S: 'INPROGRESS' }, expiration: { N: String(Math.floor(Date.now() / 1000) + EXPIRY_SECONDS) }, in_progress_expiration: { N: String(inProgressUntil) } },
      }),
    );
    const { handler } = notifier();
    const heldEvent = kinesisEvent(0, [alertRecord({ cardId: 'card-k8' }), held, alertRecord({ cardId: 'card-k9' })], { streamArn: ALERTS_STREAM_ARN, firstPosition: 30 });
    // From the held record on: Lambda resumes the shard from the lowest reported sequence number.
    expect(await handler(heldEvent, context)).toEqual({ batchItemFailures: [{ itemIdentifier: seq(31) }, { itemIdentifier: seq(32) }] });
    expect((await newlyPublished()).map((m) => m.messageAttributes.alertId.StringValue).sort()).toEqual(
      [alertRecord({ cardId: 'card-k8' }).alertId, alertRecord({ cardId: 'card-k9' }).alertId].sort(),
    );

    await new Promise((resolve) => setTimeout(resolve, inProgressUntil - Date.now() + 100));
    const redelivered = { ...heldEvent, Records: heldEvent.Records.slice(1) };
    expect(await handler(redelivered, context)).toEqual({ batchItemFailures: [] });
    expect((await newlyPublished()).map((m) => m.messageAttributes.alertId.StringValue)).toEqual([held.alertId]);
  });
});

describe('alert notifier on MSK', () => {
  const partition = (n: number) => `${ALERTS_TOPIC}-${n}`;

  it('reports failed publishes per topic-partition from the first failure on (Lambda: Configuring error handling controls for Kafka event sources); the redelivery publishes each alert once', async () => {
    await newlyPublished();
    const p0 = [POISON.schemaViolation(0), alertRecord({ cardId: 'card-m1', detectedBy: 'stream' }), alertRecord({ cardId: 'card-m2', detectedBy: 'stream' })];
    const p1 = [alertRecord({ cardId: 'card-m3', rule: 'R3', txnIds: ['t-77'] })];
    const event = mskEvent(
      [
        { partition: 0, payloads: p0, firstOffset: 500 },
        { partition: 1, payloads: p1, firstOffset: 90 },
      ],
      ALERTS_TOPIC,
    );

    // A topic that does not exist: SNS answers NotFound to every publish.
    const broken = notifier({ topic: topicArn.replace(TOPIC_NAME, 'no-such-topic') });
    expect(await broken.handler(event, context)).toEqual({
      batchItemFailures: [
        { itemIdentifier: { partition: partition(0), offset: 501 } },
        { itemIdentifier: { partition: partition(0), offset: 502 } },
        { itemIdentifier: { partition: partition(1), offset: 90 } },
      ],
    });
    expect(await newlyPublished()).toEqual([]);
    // The poison record is dead-lettered, named by topic-partition and offset, and not reported.
    expect(deadLetters().map((d) => [d.key, d.reason])).toEqual([[`deadletter/alerts/dt=2026-11-21/hr=21/${partition(0)}-500.json`, 'schema_violation']]);
    expect(broken.metric('AlertRecordsRetried')).toEqual([2, 1]);

    // Powertools deleted the in-progress records of the failed publishes, so the redelivery publishes them.
    const redelivery = mskEvent(
      [
        { partition: 0, payloads: p0.slice(1), firstOffset: 501 },
        { partition: 1, payloads: p1, firstOffset: 90 },
      ],
      ALERTS_TOPIC,
    );
    const { handler } = notifier();
    expect(await handler(redelivery, context)).toEqual({ batchItemFailures: [] });
    expect(await handler(redelivery, context)).toEqual({ batchItemFailures: [] });
    expect((await newlyPublished()).map((m) => JSON.parse(m.message).cardId).sort()).toEqual(['card-m1', 'card-m2', 'card-m3']);
  });
});
