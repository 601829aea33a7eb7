import type { MSKEvent, MSKRecord } from 'aws-lambda';
import { arrivalTimeOf, decodeBase64, type EventSourceDecoder, type SourceRecord } from './source-record';

/**
 * Amazon MSK (Kafka) events. Lambda groups a batch's records by topic-partition,
 * `records: { "<topic>-<partition>": [...] }`, each partition's records in offset
 * order, with key and value base64-encoded and headers as `[{ name: [bytes] }]`
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html, `MSKEvent` in
 * @types/aws-lambda). One topic-partition is one ordered unit of the log, as a
 * Kinesis shard is. The speed layer reads neither headers nor `bootstrapServers`:
 * the transaction in the value is self-describing.
 */

/** A record as Lambda delivers it: unlike `MSKRecord`, the key is absent or null for unkeyed records, the value for tombstones. */
export type MskRecord = Omit<MSKRecord, 'key' | 'value'> & { key?: string | null; value?: string | null };

export type MskEvent = Omit<MSKEvent, 'records'> & { records: Record<string, MskRecord[]> };

/**
 * The partial batch response of a Kafka event source mapping with `ReportBatchItemFailures`. AWS documents
 * partial batch responses for Kafka in "Configuring error handling controls for Kafka event sources"
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html); the identifier shape here,
 * `{ partition: "<topic>-<partition>", offset: <number> }` with `partition` as keyed in the event's `records`,
 * is the one Powertools for AWS Lambda (Python) (`KafkaItemIdentifier`, PR #7941) and aws-lambda-rust-runtime
 * (PR #1164) implement from that page. As for a Kinesis shard, the lowest reported offset of a topic-partition
 * is where Lambda resumes it.
 */
export interface MskBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: { partition: string; offset: number } }>;
}

export function isMskEvent(event: object): event is MskEvent {
  return (event as Partial<MskEvent>).eventSource === 'aws:kafka';
}

// Kafka's own rule for topic names, and exactly the characters an S3 key can carry without escaping.
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

// fatal: a key that is not UTF-8 is kept as delivered (base64), not turned into U+FFFD replacement characters.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `<topic>-<partition>`, checked because it becomes part of S3 keys. */
function topicPartition(record: MskRecord): string {
  if (!KAFKA_TOPIC.test(record.topic) || !Number.isSafeInteger(record.partition) || record.partition < 0) {
    throw new TypeError(`Not a Kafka topic-partition: ${JSON.stringify(record.topic)}, ${JSON.stringify(record.partition)}`);
  }
  if (!Number.isSafeInteger(record.offset) || record.offset < 0) {
    throw new TypeError(`Not a Kafka offset: ${JSON.stringify(record.offset)}`);
  }
  return `${record.topic}-${record.partition}`;
}

/**
 * The message key as the partition key: its UTF-8 text (the card id, as Tributary's producers write it), '' for an
 * unkeyed record, or, for a key that is not UTF-8 text (a hash, an Avro key: bytes the speed layer never reads),
 * the key exactly as delivered (base64). The transaction is in the value; the key only ever names the record in
 * a dead letter, so a binary key must not cost a valid record its place in the views.
 */
function partitionKeyOf(key: string | null | undefined): string {
  if (key === undefined || key === null) return '';
  const bytes = decodeBase64(key);
  if (!bytes) return key;
  try {
    return utf8.decode(bytes);
  } catch {
    return key;
  }
}

function decodeRecord(clusterArn: string, record: MskRecord): SourceRecord {
  const coordinates = {
    eventSource: 'aws:kafka',
    stream: clusterArn,
    shardId: topicPartition(record),
    sequenceNumber: String(record.offset),
    partitionKey: partitionKeyOf(record.key),
    arrivalTime: arrivalTimeOf(record.timestamp),
  };
  const undecodable = (decodeError: string): SourceRecord => ({
    coordinates,
    data: Buffer.alloc(0),
    encodedData: record.value ?? '',
    decodeError,
  });
  if (record.value === undefined || record.value === null) return undecodable('value is missing');
  const bytes = decodeBase64(record.value);
  if (!bytes) return undecodable('value is not valid base64');
  return { coordinates, data: bytes, encodedData: record.value };
}

export const mskDecoder: EventSourceDecoder<MskEvent, MskBatchResponse> = {
  /** Every topic-partition's records in offset order, the topic-partitions in the order of the event. */
  decode(event) {
    const units: unknown = event.records;
    if (typeof units !== 'object' || units === null || Object.values(units).some((records) => !Array.isArray(records))) {
      throw new TypeError('Not an MSK event: records must map "<topic>-<partition>" to an array of records');
    }
    return Object.values(event.records).flatMap((records) => records.map((record) => decodeRecord(event.eventSourceArn, record)));
  },

  failureResponse(failed) {
    return {
      batchItemFailures: failed.map((record) => ({
        itemIdentifier: { partition: record.coordinates.shardId, offset: Number(record.coordinates.sequenceNumber) },
      })),
    };
  },
};
