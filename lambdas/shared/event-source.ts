import type { KinesisStreamBatchResponse } from 'aws-lambda';
import { kinesisDecoder, readTumblingWindow, type KinesisEvent, type TumblingWindow } from './kinesis';
import { isMskEvent, mskDecoder, type MskBatchResponse, type MskEvent } from './msk';
import type { SourceRecord } from './source-record';

/**
 * Which event source mapping delivered an event, decided once for every handler that reads the logs. Tributary's
 * logs are Kinesis Data Streams or Amazon MSK; anything else (a self-managed Kafka cluster, SQS, DynamoDB Streams)
 * is refused by name before any record is touched, instead of falling through to a decoder that fails on it.
 */

export class UnsupportedEventSourceError extends TypeError {
  constructor(readonly eventSource: string) {
    super(
      `Unsupported event source ${eventSource}: Tributary's handlers read Kinesis (aws:kinesis) and Amazon MSK (aws:kafka) ` +
        'event source mappings only. Check the function\'s event source mapping.',
    );
    this.name = 'UnsupportedEventSourceError';
  }
}

export interface DecodedEvent {
  records: SourceRecord[];
  /** Kinesis only, and only when the mapping has a tumbling window; MSK events never carry one. */
  window?: TumblingWindow;
  failureResponse(failed: readonly SourceRecord[]): KinesisStreamBatchResponse | MskBatchResponse;
}

const describeSource = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : `(eventSource ${JSON.stringify(value) ?? 'missing'})`);

/** The event's records and how to answer it; throws `UnsupportedEventSourceError` for any other source. */
export function decodeEvent(event: KinesisEvent | MskEvent): DecodedEvent {
  if (isMskEvent(event)) return { records: mskDecoder.decode(event), failureResponse: mskDecoder.failureResponse };
  const shape = event as { eventSource?: unknown; Records?: unknown };
  if (shape.eventSource !== undefined) throw new UnsupportedEventSourceError(describeSource(shape.eventSource));
  if (!Array.isArray(shape.Records)) throw new UnsupportedEventSourceError('(neither Records nor eventSource in the event)');
  const records = shape.Records as Array<{ eventSource?: unknown } | null>;
  const foreign = records.findIndex((r) => r?.eventSource !== 'aws:kinesis');
  if (foreign >= 0) throw new UnsupportedEventSourceError(describeSource(records[foreign]?.eventSource));
  const kinesis = event as KinesisEvent;
  return {
    records: kinesisDecoder.decode(kinesis),
    window: readTumblingWindow(kinesis),
    failureResponse: kinesisDecoder.failureResponse,
  };
}
