/**
 * The uniform record every handler works on, whatever log delivered it.
 *
 * A decoder turns one event source batch (Kinesis today, MSK later) into
 * `SourceRecord`s and turns the records a handler could not process back into
 * the source's own partial-failure response. Handler logic only ever sees
 * `SourceRecord`s from ONE ordered unit of the log (a Kinesis shard, or later a
 * Kafka topic-partition), in log order.
 */

/** Where a record sits in the event log. */
export interface SourceCoordinates {
  /** `aws:kinesis` today; `aws:kafka` once the MSK decoder exists. */
  readonly eventSource: string;
  /** The stream ARN (Kinesis) or the topic (Kafka). */
  readonly stream: string;
  /** The ordered unit of the log: the Kinesis shard id, or `<topic>-<partition>` for Kafka. */
  readonly shardId: string;
  /** Position within the shard: the Kinesis sequence number, or the Kafka offset, as a decimal string. */
  readonly sequenceNumber: string;
  /** The producer's partition key (Kinesis) or message key (Kafka). */
  readonly partitionKey: string;
  /** When the log accepted the record, UTC epoch milliseconds. */
  readonly arrivalTime: number;
}

export interface SourceRecord {
  readonly coordinates: SourceCoordinates;
  /** The payload bytes; empty when `decodeError` is set. */
  readonly data: Buffer;
  /** The payload exactly as delivered in the event (base64), kept for dead letters. */
  readonly encodedData: string;
  /** Why the payload could not be turned into bytes, if it could not. */
  readonly decodeError?: string;
}

/** One event source: how its events become records, and how failures are reported back to it. */
export interface EventSourceDecoder<TEvent, TFailureResponse> {
  decode(event: TEvent): SourceRecord[];
  /** The source's own response shape naming the records that must be redelivered. */
  failureResponse(failed: readonly SourceRecord[]): TFailureResponse;
}
