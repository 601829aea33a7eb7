import { IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError } from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { createAlertNotifierHandler } from '../../lambdas/alert-notifier/handler';
import type { AlertRecord } from '../../lambdas/shared/alert';
import type { KinesisEvent } from '../../lambdas/shared/kinesis';
import type { MskEvent } from '../../lambdas/shared/msk';
import { ALERTS_STREAM_ARN, ALERTS_TOPIC, alertRecord, kinesisEvent, mskEvent, T0, type Payload } from './fixtures';

/**
 * The bad-input corpus applied to the alert notifier (issue 16): malformed alert records, each inside a batch of
 * valid alerts on both event sources. Each is dead-lettered with its reason (or accepted, where the alert schema
 * says so) and every valid neighbour is published exactly once, with nothing reported for redelivery.
 */

/** Powertools' persistence contract in memory: enough for one invocation with distinct keys. */
class InMemoryPersistence extends BasePersistenceLayer {
  readonly records = new Map<string, IdempotencyRecord>();
  protected async _getRecord(key: string): Promise<IdempotencyRecord> {
    const record = this.records.get(key);
    if (!record) throw new IdempotencyItemNotFoundError();
    return record;
  }
  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const existing = this.records.get(record.idempotencyKey);
    if (existing) throw new IdempotencyItemAlreadyExistsError(`exists: ${record.idempotencyKey}`, existing);
    this.records.set(record.idempotencyKey, record);
  }
  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.records.set(record.idempotencyKey, record);
  }
  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.records.delete(record.idempotencyKey);
  }
}

const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);

function notifier() {
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'alert-notifier' });
  jest.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
  return createAlertNotifierHandler({
    env: { ALERTS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:alerts', LAKE_BUCKET_NAME: 'lake', DEAD_LETTER_PREFIX: 'deadletter', IDEMPOTENCY_EXPIRY_SECONDS: 86_400 },
    s3: new S3Client({ region: 'eu-west-1' }),
    sns: new SNSClient({ region: 'eu-west-1' }),
    persistenceStore: new InMemoryPersistence(),
    logger: new Logger({ serviceName: 'alert-notifier', logLevel: 'SILENT' }),
    metrics,
    clock: () => T0 + 300_000,
  });
}

beforeEach(() => {
  s3Mock.reset().on(PutObjectCommand).resolves({});
  snsMock.reset().on(PublishCommand).resolves({ MessageId: 'm' });
});

type Outcome = { accepted: true } | { reason: 'undecodable' | 'bad_json' | 'schema_violation'; path?: string };
interface Kind {
  name: string;
  payload: Payload;
  expect: Outcome;
}

const bad = alertRecord({ cardId: 'card-bad', windowStart: T0 + 123 });
const badJson = JSON.stringify(bad);
const withField = (field: keyof AlertRecord | string, value: unknown): Payload => {
  const object: Record<string, unknown> = { ...bad };
  if (value === undefined) delete object[field];
  else object[field] = value;
  return { raw: Buffer.from(JSON.stringify(object)) };
};
const text = (t: string): Payload => ({ raw: Buffer.from(t) });
const schema = (path: string): Outcome => ({ reason: 'schema_violation', path });

const KINDS: Kind[] = [
  { name: 'bytes that are not UTF-8', payload: { raw: Buffer.from([0x7b, 0xff, 0x7d]) }, expect: { reason: 'undecodable' } },
  { name: 'data that is not base64', payload: { base64: '%%%' }, expect: { reason: 'undecodable' } },
  { name: 'empty data', payload: text(''), expect: { reason: 'bad_json' } },
  { name: 'truncated JSON', payload: text(badJson.slice(0, -3)), expect: { reason: 'bad_json' } },
  { name: 'two alerts in one record', payload: text(`${badJson}\n${badJson}`), expect: { reason: 'bad_json' } },
  { name: 'JSON null', payload: text('null'), expect: schema('') },
  { name: 'a JSON array of the alert', payload: text(`[${badJson}]`), expect: schema('') },
  { name: 'a transaction instead of an alert', payload: text('{"txnId":"t-1","amount":1}'), expect: schema('/alertId') },
  ...(['alertId', 'rule', 'cardId', 'customerId', 'windowStart', 'txnIds', 'detectedBy', 'detectedAt'] as const).flatMap((field): Kind[] => [
    { name: `${field} missing`, payload: withField(field, undefined), expect: schema(`/${field}`) },
    { name: `${field} null`, payload: withField(field, null), expect: schema(`/${field}`) },
    { name: `${field} of the wrong type`, payload: withField(field, typeof bad[field] === 'number' ? String(bad[field]) : 7), expect: schema(`/${field}`) },
  ]),
  { name: 'alertId not <rule>:<cardId>:<windowStart>', payload: withField('alertId', `R1:card-bad:${T0}`), expect: schema('/alertId') },
  { name: 'rule R9', payload: withField('rule', 'R9'), expect: schema('/rule') },
  { name: 'cardId empty', payload: withField('cardId', ''), expect: schema('/cardId') },
  { name: 'windowStart negative', payload: withField('windowStart', -1), expect: schema('/windowStart') },
  { name: 'windowStart with a fraction', payload: withField('windowStart', T0 + 0.5), expect: schema('/windowStart') },
  { name: 'txnIds empty', payload: withField('txnIds', []), expect: schema('/txnIds') },
  { name: 'txnIds with an empty id', payload: withField('txnIds', ['t-1', '']), expect: schema('/txnIds/1') },
  { name: "detectedBy 'batch' (the batch layer does not write the log)", payload: withField('detectedBy', 'batch'), expect: schema('/detectedBy') },
  { name: 'a 1 MB cardId (alertId follows it)', payload: (() => { const cardId = 'c'.repeat(1_000_000); return { raw: Buffer.from(JSON.stringify({ ...bad, cardId, alertId: `R1:${cardId}:${bad.windowStart}` })) }; })(), expect: { accepted: true } },
  { name: 'nesting 100,000 deep in txnIds', payload: text(badJson.replace('["t-1","t-2","t-3"]', '['.repeat(100_000) + ']'.repeat(100_000))), expect: schema('/txnIds/0') },
  { name: 'an unknown field (dropped)', payload: withField('note', 'x'), expect: { accepted: true } },
  { name: 'a __proto__ field (dropped)', payload: text(`${badJson.slice(0, -1)},"__proto__":{"rule":"R9"}}`), expect: { accepted: true } },
];

const NEIGHBOURS = [1, 2, 3, 4].map((i) => alertRecord({ cardId: `card-ok-${i}`, windowStart: T0 + i }));
const batch = (payload: Payload): Payload[] => [NEIGHBOURS[0], NEIGHBOURS[1], payload, NEIGHBOURS[2], NEIGHBOURS[3]];
const eventFor = (source: 'kinesis' | 'msk', payload: Payload): KinesisEvent | MskEvent =>
  source === 'kinesis'
    ? kinesisEvent(0, batch(payload), { streamArn: ALERTS_STREAM_ARN })
    : mskEvent([{ partition: 0, payloads: batch(payload) }], ALERTS_TOPIC);

const cases = KINDS.flatMap((kind) => (['kinesis', 'msk'] as const).map((source) => [source, kind.name, kind] as const));

describe('alert notifier: the bad-input corpus', () => {
  it('has a kind per alert field and failure mode', () => expect(KINDS.length).toBeGreaterThanOrEqual(40));

  it.each(cases)('%s: %s', async (source, _name, kind) => {
    const response = await notifier()(eventFor(source, kind.payload) as KinesisEvent);
    expect(response.batchItemFailures).toEqual([]);

    const published = snsMock.commandCalls(PublishCommand).map((c) => JSON.parse(c.args[0].input.Message!) as AlertRecord);
    const deadLetters = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    for (const n of NEIGHBOURS) expect(published.filter((p) => p.alertId === n.alertId)).toHaveLength(1);
    if ('accepted' in kind.expect) {
      expect(deadLetters).toEqual([]);
      expect(published).toHaveLength(NEIGHBOURS.length + 1);
      expect(published.filter((p) => p.cardId.startsWith('c') && !p.cardId.startsWith('card-ok'))).toHaveLength(1);
    } else {
      expect(published).toHaveLength(NEIGHBOURS.length);
      expect(deadLetters).toHaveLength(1);
      expect(deadLetters[0].Key).toMatch(/^deadletter\/alerts\/dt=\d{4}-\d\d-\d\d\/hr=\d\d\/[\w.-]+-\d+\.json$/);
      const body = JSON.parse(String(deadLetters[0].Body));
      expect(body.reason).toBe(kind.expect.reason);
      if (kind.expect.path !== undefined) expect(body.errors.map((e: { path: string }) => e.path)).toContain(kind.expect.path);
    }
  });

  it('an alert record without an arrival time is dead-lettered under the processing hour, not thrown on (Kinesis and MSK)', async () => {
    const kinesis = eventFor('kinesis', text('{')) as KinesisEvent;
    delete (kinesis.Records[2].kinesis as { approximateArrivalTimestamp?: number }).approximateArrivalTimestamp;
    const msk = eventFor('msk', text('{')) as MskEvent;
    delete (msk.records[`${ALERTS_TOPIC}-0`][2] as { timestamp?: number }).timestamp;
    for (const event of [kinesis, msk]) {
      s3Mock.resetHistory();
      await expect(notifier()(event as KinesisEvent)).resolves.toEqual({ batchItemFailures: [] });
      expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([expect.stringMatching(/^deadletter\/alerts\/dt=2026-11-21\/hr=22\//)]);
    }
  });

  it('refuses a self-managed Kafka event by name', async () => {
    const { eventSourceArn: _, ...event } = { ...mskEvent([{ partition: 0, payloads: [NEIGHBOURS[0]] }], ALERTS_TOPIC), eventSource: 'SelfManagedKafka' };
    await expect(notifier()(event as unknown as KinesisEvent)).rejects.toThrow(/Unsupported event source "SelfManagedKafka"/);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });
});
