import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { arrivalTimeOf, decodeBase64, type EventSourceDecoder, type SourceRecord } from './source-record';

/**
 * The fields Lambda adds to a Kinesis event when the event source mapping has a
 * tumbling window. `@types/aws-lambda` lacks `shardId`, so they are declared here.
 */
export interface KinesisTumblingWindowFields {
  window?: { start: string; end: string };
  state?: Record<string, unknown>;
  shardId?: string;
  eventSourceARN?: string;
  isFinalInvokeForWindow?: boolean;
  isWindowTerminatedEarly?: boolean;
}

export type KinesisEvent = KinesisStreamEvent & KinesisTumblingWindowFields;

/** The tumbling window of an invocation, present only when the mapping has one. */
export interface TumblingWindow {
  start: string;
  end: string;
  /** The state returned by the previous invocation of this window; `{}` at a window's start. */
  state: Record<string, unknown>;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
}

export function readTumblingWindow(event: KinesisEvent): TumblingWindow | undefined {
  if (!event.window) return undefined;
  return {
    start: event.window.start,
    end: event.window.end,
    state: event.state ?? {},
    isFinalInvokeForWindow: event.isFinalInvokeForWindow === true,
    isWindowTerminatedEarly: event.isWindowTerminatedEarly === true,
  };
}

// Kinesis shard ids (`shardId-000000000000`) and sequence numbers (decimal) become part of S3 keys, so they are checked.
const SHARD_ID = /^[A-Za-z0-9._-]{1,128}$/;
const SEQUENCE_NUMBER = /^\d{1,128}$/;

/**
 * Where a record sits: its shard (top-level in tumbling-window events, else the part of `eventID` before the last
 * `:`) and its sequence number. Without them a record can be neither reported nor dead-lettered under its name:
 * such an event is not one Lambda sends, and the whole batch is refused with what is missing.
 */
function position(event: KinesisEvent, record: KinesisStreamRecord): { shardId: string; sequenceNumber: string } {
  const kinesis = record.kinesis as Partial<KinesisStreamRecord['kinesis']> | undefined;
  const sequenceNumber = kinesis?.sequenceNumber;
  if (typeof sequenceNumber !== 'string' || !SEQUENCE_NUMBER.test(sequenceNumber)) {
    throw new TypeError(`Not a Kinesis record: sequence number ${JSON.stringify(sequenceNumber) ?? 'missing'} (eventID ${JSON.stringify(record.eventID)})`);
  }
  const eventId = typeof record.eventID === 'string' ? record.eventID : '';
  const shardId = event.shardId ?? eventId.slice(0, eventId.lastIndexOf(':'));
  if (shardId === lastShardId) return { shardId, sequenceNumber }; // a batch is one shard: its id is checked once
  if (typeof shardId !== 'string' || !SHARD_ID.test(shardId)) {
    throw new TypeError(`Not a Kinesis record: no shard id in shardId ${JSON.stringify(event.shardId)} or eventID ${JSON.stringify(record.eventID)}`);
  }
  lastShardId = shardId;
  return { shardId, sequenceNumber };
}
let lastShardId: string | undefined;

export const kinesisDecoder: EventSourceDecoder<KinesisEvent, KinesisStreamBatchResponse> = {
  decode(event) {
    return event.Records.map((record): SourceRecord => {
      const where = position(event, record);
      const { data, partitionKey, approximateArrivalTimestamp } = record.kinesis;
      const coordinates = {
        eventSource: record.eventSource,
        stream: record.eventSourceARN,
        shardId: where.shardId,
        sequenceNumber: where.sequenceNumber,
        partitionKey: typeof partitionKey === 'string' ? partitionKey : '',
        // Seconds with millisecond decimals; absent from some of AWS's own sample events.
        arrivalTime: arrivalTimeOf(typeof approximateArrivalTimestamp === 'number' ? approximateArrivalTimestamp * 1000 : undefined),
      };
      if (typeof data !== 'string') return { coordinates, data: Buffer.alloc(0), encodedData: '', decodeError: 'data is missing' };
      const bytes = decodeBase64(data);
      if (!bytes) return { coordinates, data: Buffer.alloc(0), encodedData: data, decodeError: 'data is not valid base64' };
      return { coordinates, data: bytes, encodedData: data };
    });
  },

  failureResponse(failed) {
    return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.coordinates.sequenceNumber })) };
  },
};
