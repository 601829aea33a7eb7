import type { KinesisStreamRecord } from 'aws-lambda';
import type { KinesisEvent } from '../../lambdas/shared/kinesis';
import type { MskEvent, MskRecord } from '../../lambdas/shared/msk';
import type { AlertRecord } from '../../lambdas/shared/alert';
import type { Transaction } from '../../lambdas/shared/transaction';

/** Realistic Kinesis and MSK events for the speed-layer tests and benchmark. */

/** A complete speed-layer environment, as the stack sets it (alerts log on Kinesis). */
export const VALID_ENV = {
  LAKE_BUCKET_NAME: 'tributary-dev-lake-123456789012',
  SPEED_PREFIX: 'speed',
  DEAD_LETTER_PREFIX: 'deadletter/speed',
  ALERTS_LOG_TYPE: 'kinesis',
  ALERTS_STREAM_NAME: 'tributary-dev-alerts-log',
  RULE_R1_LARGE_ABOVE_CENTS: '10000',
  RULE_R1_WITHIN_MS: '60000',
  RULE_R2_WITHIN_MS: '300000',
  POWERTOOLS_SERVICE_NAME: 'speed-layer',
  POWERTOOLS_METRICS_NAMESPACE: 'Tributary',
  POWERTOOLS_LOG_LEVEL: 'info',
};

export const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/tributary-transactions';
export const T0 = Date.UTC(2026, 10, 21, 21, 58, 30); // 2026-11-21T21:58:30Z, near an hour boundary on purpose

// Sequence numbers of one shard: 56 digits, increasing, not contiguous (as Kinesis writes them).
const SEQUENCE_BASE = 49_667n * 10n ** 51n;
export function sequenceNumber(shardIndex: number, position: number): string {
  return String(SEQUENCE_BASE + BigInt(shardIndex) * 10n ** 40n + BigInt(position) * 1_000_003n);
}

export function shardId(shardIndex: number): string {
  return `shardId-${String(shardIndex).padStart(12, '0')}`;
}

export function txn(overrides: Partial<Transaction> = {}): Transaction {
  return {
    txnId: 't-000001',
    cardId: 'card-000042',
    customerId: 'cust-000007',
    merchantId: 'merch-0193',
    amount: 42.5,
    currency: 'EUR',
    country: 'FR',
    channel: 'POS',
    eventTime: T0,
    schemaVersion: 1,
    ...overrides,
  };
}

/** What a record carries: a transaction (events log), an alert (alerts log), or bytes that are neither. */
export type Payload = Transaction | AlertRecord | { raw: Buffer } | { base64: string };

function encode(payload: Payload): string {
  if ('base64' in payload) return payload.base64;
  if ('raw' in payload) return payload.raw.toString('base64');
  return Buffer.from(JSON.stringify(payload)).toString('base64');
}

export function kinesisRecord(shardIndex: number, position: number, payload: Payload, streamArn = STREAM_ARN): KinesisStreamRecord {
  const seq = sequenceNumber(shardIndex, position);
  const partitionKey = 'cardId' in payload ? payload.cardId : `poison-${position}`;
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber: seq,
      data: encode(payload),
      approximateArrivalTimestamp: (T0 + 2_000 + position * 7) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId(shardIndex)}:${seq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/tributary-speed-layer',
    awsRegion: 'eu-west-1',
    eventSourceARN: streamArn,
  };
}

/** A batch of one shard, positions starting at `firstPosition`. */
export function kinesisEvent(
  shardIndex: number,
  payloads: readonly Payload[],
  options: { firstPosition?: number; window?: boolean; state?: Record<string, unknown>; streamArn?: string } = {},
): KinesisEvent {
  const first = options.firstPosition ?? 0;
  const event: KinesisEvent = { Records: payloads.map((p, i) => kinesisRecord(shardIndex, first + i, p, options.streamArn)) };
  if (options.window) {
    Object.assign(event, {
      window: { start: '2026-11-21T21:55:00Z', end: '2026-11-21T22:10:00Z' },
      state: options.state ?? {},
      shardId: shardId(shardIndex),
      eventSourceARN: STREAM_ARN,
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    });
  }
  return event;
}

export const CLUSTER_ARN = 'arn:aws:kafka:eu-west-1:123456789012:cluster/tributary-events/6f4c2d1e-8a3b-4c5d-9e7f-0a1b2c3d4e5f-4';
export const TOPIC = 'tributary.transactions';

/** The producer's headers, as Lambda delivers them: one object per header, the value as byte numbers. */
const HEADERS: MskRecord['headers'] = [
  { 'content-type': [...Buffer.from('application/json')] },
  { producer: [...Buffer.from('generator-7')] },
];

/** One Kafka record: key = the card id (as the producer sets it), base64 key and value, timestamps as Kinesis' arrival times. */
export function mskRecord(partition: number, offset: number, payload: Payload, topic = TOPIC): MskRecord {
  const key = 'cardId' in payload ? payload.cardId : `poison-${offset}`;
  return {
    topic,
    partition,
    offset,
    timestamp: T0 + 2_000 + offset * 7,
    timestampType: 'CREATE_TIME',
    key: Buffer.from(key).toString('base64'),
    value: encode(payload),
    headers: HEADERS,
  };
}

/** One batch of an MSK event source mapping: records grouped by topic-partition, offsets from `firstOffset`. */
export function mskEvent(
  partitions: ReadonlyArray<{ partition: number; payloads: readonly Payload[]; firstOffset?: number }>,
  topic = TOPIC,
): MskEvent {
  const records: Record<string, MskRecord[]> = {};
  for (const { partition, payloads, firstOffset = 1_000 } of partitions) {
    records[`${topic}-${partition}`] = payloads.map((p, i) => mskRecord(partition, firstOffset + i, p, topic));
  }
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: CLUSTER_ARN,
    bootstrapServers:
      'b-1.tributaryevents.a1b2c3.c4.kafka.eu-west-1.amazonaws.com:9098,b-2.tributaryevents.a1b2c3.c4.kafka.eu-west-1.amazonaws.com:9098',
    records,
  };
}

/** Valid JSON with a field the schema forbids, invalid JSON, and bytes that are not UTF-8: one poison of each kind. */
export const POISON = {
  schemaViolation: (i: number): Payload => ({ ...txn({ txnId: `bad-${i}` }), amount: -5 }) as Transaction,
  badJson: (i: number): Payload => ({ raw: Buffer.from(`{"txnId":"bad-${i}","amount":`) }),
  notUtf8: (): Payload => ({ raw: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }),
  notBase64: (): Payload => ({ base64: 'eyJ0eG5JZCI6%%%' }),
};

/**
 * A deterministic batch of `size` records of one shard, `malformedEvery`-th record malformed
 * (rotating through the poison kinds), over `cards` cards and 20 customers.
 */
export function mixedBatch(size: number, options: { malformedEvery?: number; cards?: number } = {}): Payload[] {
  const malformedEvery = options.malformedEvery ?? 100;
  const cards = options.cards ?? 500;
  const kinds = [POISON.schemaViolation, POISON.badJson, POISON.notUtf8, POISON.notBase64];
  const payloads: Payload[] = [];
  for (let i = 0; i < size; i += 1) {
    if (i % malformedEvery === malformedEvery - 1) {
      payloads.push(kinds[Math.floor(i / malformedEvery) % kinds.length](i));
      continue;
    }
    const card = i % cards;
    payloads.push(
      txn({
        txnId: `t-${String(i).padStart(7, '0')}`,
        cardId: `card-${String(card).padStart(6, '0')}`,
        customerId: `cust-${String(card % 20).padStart(6, '0')}`,
        merchantId: `merch-${String((i * 7) % 311).padStart(4, '0')}`,
        amount: (((i * 7919) % 20000) + 1) / 100,
        country: ['FR', 'DE', 'ES'][card % 3],
        channel: (['POS', 'ECOM', 'ATM', 'CONTACTLESS'] as const)[i % 4],
        eventTime: T0 + i * 37,
      }),
    );
  }
  return payloads;
}

/** The alerts log (a second stream / topic beside the events log). */
export const ALERTS_STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/tributary-dev-alerts-log';
export const ALERTS_TOPIC = 'tributary-alerts-log';

/** An alert record as the speed layer or the Flink job writes it to the alerts log (docs/reference-product.md). */
export function alertRecord(overrides: Partial<AlertRecord> = {}): AlertRecord {
  const base = {
    rule: 'R1' as const,
    cardId: 'card-000042',
    customerId: 'cust-000007',
    windowStart: T0,
    txnIds: ['t-1', 't-2', 't-3'],
    detectedBy: 'speed' as const,
    detectedAt: T0 + 2_150,
    ...overrides,
  };
  return { alertId: `${base.rule}:${base.cardId}:${base.windowStart}`, ...base, ...(overrides.alertId ? { alertId: overrides.alertId } : {}) };
}
