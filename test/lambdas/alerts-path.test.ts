import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { createAlertNotifierHandler } from '../../lambdas/alert-notifier/handler';
import type { KinesisEvent } from '../../lambdas/shared/kinesis';
import { kinesisAlertsLog } from '../../lambdas/speed-layer/alerts-log';
import { createSpeedLayerHandler } from '../../lambdas/speed-layer/handler';
import { Supervisor, startKinesis } from '../../sandbox/engines';
import { kinesisClient } from '../../sandbox/log/kinesis';
import type { LogRecord } from '../../sandbox/log/types';
import type { SandboxSettings } from '../../sandbox/settings';
import { kinesisEventFormat } from '../../sandbox/stand-ins/event-source-mapping-events';
import { readPublished, startSnsStandIn, type SnsStandIn } from '../../sandbox/stand-ins/sns';
import { testSettings } from '../helpers/sandbox';
import { kinesisEvent, T0, txn, VALID_ENV } from './fixtures';

/**
 * The speed path's alert from transaction to subscriber, each hop a real local part: the speed-layer handler
 * appends to an alerts stream on kinesis-local; the stream's records, in the event the sandbox's event source
 * mapping stand-in builds, go to the alert notifier (idempotency on dynalite); the SNS stand-in is the
 * subscriber. The speed layer's unit fails once after its append (an S3 write fails), so the redelivery puts
 * the alert on the log twice (at least once): the subscriber gets it once (exactly once per path).
 */

const ALERTS_STREAM = 'tributary-alerts-log';
const TABLE = 'alert-idempotency';
const s3Mock = mockClient(S3Client);
let settings: SandboxSettings;
let supervisor: Supervisor;
let kinesis: KinesisClient;
let sns: SnsStandIn;
let dynalite: { close(cb: () => void): void; address(): AddressInfo };
let dynamo: DynamoDBClient;
let topicArn: string;

beforeAll(async () => {
  settings = await testSettings('tributary-alerts-path');
  supervisor = new Supervisor(settings, { stopTimeoutMs: 10_000 });
  await startKinesis(supervisor, settings);
  kinesis = kinesisClient(settings);
  await kinesis.send(new CreateStreamCommand({ StreamName: ALERTS_STREAM, ShardCount: 1 }));
  for (let i = 0; i < 100; i += 1) {
    const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: ALERTS_STREAM }));
    if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  sns = await startSnsStandIn(settings);
  topicArn = (await new SNSClient({ endpoint: sns.url, region: settings.region, credentials: settings.credentials }).send(new CreateTopicCommand({ Name: settings.alertsTopicName }))).TopicArn!;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const server = require('dynalite')({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  dynalite = server;
  dynamo = new DynamoDBClient({ endpoint: `http://127.0.0.1:${dynalite.address().port}`, region: settings.region, credentials: settings.credentials });
  await dynamo.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}, 120_000);

afterAll(async () => {
  kinesis?.destroy();
  dynamo?.destroy();
  await sns?.close();
  await new Promise<void>((resolve) => (dynalite ? dynalite.close(resolve) : resolve()));
  await supervisor?.stopAll();
  fs.rmSync(settings.home, { recursive: true, force: true });
}, 60_000);

function quietMetrics(service: string) {
  const metrics = new Metrics({ namespace: 'Test', serviceName: service });
  jest.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
  return metrics;
}

/** The alerts stream's records as the event source mapping reads them. */
async function alertsLogRecords(): Promise<LogRecord[]> {
  const shardId = 'shardId-000000000000';
  const iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: ALERTS_STREAM, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  const { Records } = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
  return (Records ?? []).map((r) => ({
    unit: shardId,
    position: r.SequenceNumber!,
    key: r.PartitionKey!,
    data: Buffer.from(r.Data!),
    arrivalTime: r.ApproximateArrivalTimestamp!.getTime(),
  }));
}

test('an alert the speed layer writes twice reaches the subscriber once', async () => {
  // The speed layer: its card view's S3 write fails once, so its segment (views, alert object, alerts-log append) is redelivered.
  let failOnce = true;
  s3Mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
    if (failOnce && input.Key!.includes('spend_per_card_minute')) {
      failOnce = false;
      throw Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError' });
    }
    return {};
  });
  const speedLayer = createSpeedLayerHandler({
    env: VALID_ENV,
    s3: new S3Client({ region: settings.region }),
    alertsLog: kinesisAlertsLog(kinesis, ALERTS_STREAM),
    logger: new Logger({ serviceName: 'speed-layer', logLevel: 'SILENT' }),
    metrics: quietMetrics('speed-layer'),
    clock: () => T0 + 3_000,
  });
  const large = (id: string, ms: number) => txn({ txnId: id, amount: 250, eventTime: T0 + ms });
  const batch = kinesisEvent(0, [large('t-1', 0), large('t-2', 1_000), large('t-3', 2_000)]);
  const first = await speedLayer(batch);
  expect(first.batchItemFailures).toHaveLength(3);
  expect(await speedLayer(batch)).toEqual({ batchItemFailures: [] });

  const onLog = await alertsLogRecords();
  expect(onLog.map((r) => [r.key, JSON.parse(r.data.toString('utf8')).alertId])).toEqual([
    ['card-000042', `R1:card-000042:${T0}`],
    ['card-000042', `R1:card-000042:${T0}`],
  ]);

  // The notifier, invoked as the mapping invokes it; then the same batch again (a mapping retry).
  s3Mock.reset();
  const notifier = createAlertNotifierHandler({
    env: { ALERTS_TOPIC_ARN: topicArn, LAKE_BUCKET_NAME: VALID_ENV.LAKE_BUCKET_NAME, DEAD_LETTER_PREFIX: 'deadletter', IDEMPOTENCY_EXPIRY_SECONDS: 86_400 },
    s3: new S3Client({ region: settings.region }),
    sns: new SNSClient({ endpoint: sns.url, region: settings.region, credentials: settings.credentials }),
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: TABLE, awsSdkV3Client: dynamo }),
    logger: new Logger({ serviceName: 'alert-notifier', logLevel: 'SILENT' }),
    metrics: quietMetrics('alert-notifier'),
  });
  const format = kinesisEventFormat({
    streamArn: `arn:aws:kinesis:${settings.region}:${settings.accountId}:stream/${ALERTS_STREAM}`,
    region: settings.region,
    invokeIdentityArn: `arn:aws:iam::${settings.accountId}:role/alert-notifier`,
  });
  const context = { getRemainingTimeInMillis: () => 60_000, functionName: 'alert-notifier', awsRequestId: 'r' } as unknown as Context;
  const event = format.event('shardId-000000000000', onLog) as KinesisEvent;
  expect(await notifier(event, context)).toEqual({ batchItemFailures: [] });
  expect(await notifier(event, context)).toEqual({ batchItemFailures: [] });

  const delivered = await readPublished(settings, settings.alertsTopicName);
  expect(delivered.map((m) => [m.messageAttributes.alertId.StringValue, m.messageAttributes.detectedBy.StringValue])).toEqual([[`R1:card-000042:${T0}`, 'speed']]);
  expect(JSON.parse(delivered[0].message)).toEqual(JSON.parse(onLog[0].data.toString('utf8')));
  expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0); // nothing dead-lettered
}, 120_000);
