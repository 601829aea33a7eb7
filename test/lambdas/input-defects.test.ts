import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { kinesisDecoder, type KinesisEvent } from '../../lambdas/shared/kinesis';
import { mskDecoder } from '../../lambdas/shared/msk';
import { validateTransaction } from '../../lambdas/shared/transaction';
import { processBatch } from '../../lambdas/speed-layer/core';
import type { SpeedLayerEvent } from '../../lambdas/speed-layer/handler';
import { EMPTY_RULE_STATE, parseRuleState } from '../../lambdas/speed-layer/rules';
import { kinesisEvent, kinesisRecord, mskEvent, T0, txn, type Payload } from './fixtures';
import { silentSpeedLayerHandler } from './speed-layer-harness';

/**
 * Issue 16, part 3: one test per defect found by running the speed layer over malformed records and AWS's
 * sample events. Each was run before its fix and failed (the failure is quoted in docs/faults.md, "Bad input").
 */

const layout = { speedPrefix: 'speed', deadLetterPrefix: 'deadletter/speed' };
const NOW = T0 + 300_000;
const run = (records: ReturnType<typeof kinesisDecoder.decode>, ruleState = EMPTY_RULE_STATE) =>
  processBatch({ records, ruleState, now: NOW, layout });
const raw = (text: string): Payload => ({ raw: Buffer.from(text) });

describe('D1: a malformed record whose envelope has no arrival time', () => {
  it('Kinesis: is dead-lettered under the processing hour, and the rest of the batch is written', () => {
    const event = kinesisEvent(0, [txn({ txnId: 'ok-1' }), raw('not json'), txn({ txnId: 'ok-2' })]);
    delete (event.Records[1].kinesis as Partial<(typeof event.Records)[number]['kinesis']>).approximateArrivalTimestamp;
    const result = run(kinesisDecoder.decode(event));
    const deadLetter = result.units.find((u) => u.kind === 'dead_letter')!.objects[0];
    expect(deadLetter.key).toMatch(/^deadletter\/speed\/dt=2026-11-21\/hr=22\/shardId-000000000000-\d+\.json$/);
    expect(JSON.parse(deadLetter.body)).toMatchObject({ reason: 'bad_json', arrival_time: null });
    expect(result.validCount).toBe(2);
  });

  it('MSK: a record without a timestamp is dead-lettered the same way', () => {
    const event = mskEvent([{ partition: 0, payloads: [txn({ txnId: 'ok-1' }), raw('{')] }]);
    delete (event.records['tributary.transactions-0'][1] as { timestamp?: number }).timestamp;
    const result = run(mskDecoder.decode(event));
    const deadLetter = result.units.find((u) => u.kind === 'dead_letter')!.objects[0];
    expect(deadLetter.key).toBe('deadletter/speed/dt=2026-11-21/hr=22/tributary.transactions-0-1001.json');
    expect(result.validCount).toBe(1);
  });

  it('an arrival time no Date can hold (1e300 s) counts as unknown, not as a RangeError', () => {
    const event = kinesisEvent(0, [raw('x')]);
    event.Records[0].kinesis.approximateArrivalTimestamp = 1e300;
    const [record] = kinesisDecoder.decode(event);
    expect(record.coordinates.arrivalTime).toBeUndefined();
    expect(() => run([record])).not.toThrow();
  });
});

describe('D2: amounts that are not a whole number of cents', () => {
  it.each([1e-12, 5e-324, 0.001, 1.000000000001, 19.999999999])('%p is a schema violation on /amount', (amount) => {
    const [record] = kinesisDecoder.decode(kinesisEvent(0, [txn({ amount })]));
    const result = validateTransaction(record);
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.errors.map((e) => e.path)).toContain('/amount');
  });

  it('every whole number of cents from 0.01 to 1000.00, and the maximum, is still accepted', () => {
    const amounts = [...Array.from({ length: 100_000 }, (_, i) => (i + 1) / 100), 19.99, 0.07, 1_000_000];
    const rejected = amounts.filter((amount) => !validateTransaction(kinesisDecoder.decode(kinesisEvent(0, [txn({ amount })]))[0]).valid);
    expect(rejected).toEqual([]);
  });
});

describe('D3: currency and country must be ISO codes, not any capital letters', () => {
  it.each([
    ['currency', 'ZZZ'],
    ['currency', 'XTS'],
    ['country', 'ZZ'],
    ['country', 'UK'],
  ] as const)('%s %s is a schema violation', (field, value) => {
    const [record] = kinesisDecoder.decode(kinesisEvent(0, [txn({ [field]: value })]));
    const result = validateTransaction(record);
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.errors.map((e) => e.path)).toContain(`/${field}`);
  });

  it.each([['EUR', 'FR'], ['USD', 'US'], ['GBP', 'GB'], ['JPY', 'JP'], ['CHF', 'CH'], ['XOF', 'SN']])('%s in %s is accepted', (currency, country) => {
    const [record] = kinesisDecoder.decode(kinesisEvent(0, [txn({ currency, country })]));
    expect(validateTransaction(record).valid).toBe(true);
  });
});

describe('D4: a card id that is also an Object.prototype name', () => {
  it.each(['__proto__', 'constructor', 'hasOwnProperty', 'toString'])('card %s keeps its rule memory across the tumbling window', (cardId) => {
    const first = run(kinesisDecoder.decode(kinesisEvent(0, [txn({ txnId: 'a', cardId, amount: 250, eventTime: T0 })])));
    // The state as Lambda carries it: JSON out, JSON in.
    const carried = parseRuleState(JSON.parse(JSON.stringify(first.state.state)));
    expect(carried.problem).toBeUndefined();
    expect(Object.keys(carried.state.cards)).toEqual([cardId]);
    const second = run(
      kinesisDecoder.decode(
        kinesisEvent(0, [txn({ txnId: 'b', cardId, amount: 250, eventTime: T0 + 1_000 }), txn({ txnId: 'c', cardId, amount: 250, eventTime: T0 + 2_000 })], { firstPosition: 1 }),
      ),
      carried.state,
    );
    expect(second.alerts.map((a) => a.alertId)).toEqual([`R1:${cardId}:${T0}`]);
  });
});

describe('D5: an MSK record whose Kafka key is binary', () => {
  it.each([
    ['not UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0x81]).toString('base64')],
    ['a hash', Buffer.from('9f86d081884c7d659a2feaa0c55ad015', 'hex').toString('base64')],
    ['not base64', '%%%not-base64%%%'],
  ])('key %s: the valid value is accepted and counted', (_kind, key) => {
    const event = mskEvent([{ partition: 0, payloads: [txn({ txnId: 'keyed' })] }]);
    event.records['tributary.transactions-0'][0].key = key;
    const result = run(mskDecoder.decode(event));
    expect(result.malformed).toEqual([]);
    expect(result.validCount).toBe(1);
    expect(result.units.filter((u) => u.kind === 'segment')).toHaveLength(1);
  });
});

describe('D6: an event from a self-managed Kafka source', () => {
  const s3Mock = mockClient(S3Client);
  beforeEach(() => s3Mock.reset().on(PutObjectCommand).resolves({}));

  const handler = () => silentSpeedLayerHandler({ now: NOW });

  it.each(['SelfManagedKafka', 'aws:SelfManagedKafka'])('eventSource %s is refused as an unsupported event source, before anything is written', async (eventSource) => {
    const { eventSourceArn: _, ...event } = { ...mskEvent([{ partition: 0, payloads: [txn()] }]), eventSource };
    await expect(handler()(event as unknown as SpeedLayerEvent as KinesisEvent)).rejects.toThrow(/unsupported event source.*SelfManagedKafka/i);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it.each([
    ['a record without its kinesis field', (e: KinesisEvent) => delete (e.Records[1] as Partial<KinesisEvent['Records'][number]>).kinesis, /Not a Kinesis record: sequence number missing/],
    ['a record without a sequence number', (e: KinesisEvent) => delete (e.Records[1].kinesis as { sequenceNumber?: string }).sequenceNumber, /Not a Kinesis record: sequence number missing/],
    ['a record without eventID (and no top-level shardId)', (e: KinesisEvent) => delete (e.Records[1] as { eventID?: string }).eventID, /no shard id/],
    ['a null record', (e: KinesisEvent) => ((e.Records as unknown[])[1] = null), /Unsupported event source \(eventSource missing\)/],
  ])('a Kinesis event with %s is refused with what is missing, before anything is written', async (_name, mutate, message) => {
    const event = kinesisEvent(0, [txn({ txnId: 'a' }), txn({ txnId: 'b' })]);
    mutate(event);
    await expect(handler()(event)).rejects.toThrow(message);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('an event that is neither Kinesis nor Kafka is refused by name too', async () => {
    const event = { Records: [{ ...kinesisRecord(0, 0, txn()), eventSource: 'aws:sqs' }] } as KinesisEvent;
    await expect(handler()(event)).rejects.toThrow(/unsupported event source.*aws:sqs/i);
  });
});
