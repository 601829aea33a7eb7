import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
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

export const kinesisDecoder: EventSourceDecoder<KinesisEvent, KinesisStreamBatchResponse> = {
  decode(event) {
    return event.Records.map((record): SourceRecord => {
      const { data, sequenceNumber, partitionKey, approximateArrivalTimestamp } = record.kinesis;
      const coordinates = {
        eventSource: record.eventSource,
        stream: record.eventSourceARN,
        // eventID is "<shardId>:<sequenceNumber>"; the shard is also top-level in tumbling-window events.
        shardId: event.shardId ?? record.eventID.slice(0, record.eventID.lastIndexOf(':')),
        sequenceNumber,
        partitionKey,
        // Seconds with millisecond decimals; absent from some of AWS's own sample events.
        arrivalTime: arrivalTimeOf(typeof approximateArrivalTimestamp === 'number' ? approximateArrivalTimestamp * 1000 : undefined),
      };
      const bytes = decodeBase64(data);
      if (!bytes) return { coordinates, data: Buffer.alloc(0), encodedData: data, decodeError: 'data is not valid base64' };
      return { coordinates, data: bytes, encodedData: data };
    });
  },

  failureResponse(failed) {
    return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.coordinates.sequenceNumber })) };
  },
};
