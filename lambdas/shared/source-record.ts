/**
 * The uniform record every handler works on, whatever log delivered it.
 *
 * A decoder turns one event source batch (Kinesis or Amazon MSK) into
 * `SourceRecord`s and turns the records a handler could not process back into
 * the source's own partial-failure response. Handler logic only ever sees
 * `SourceRecord`s from ONE ordered unit of the log (a Kinesis shard or a Kafka
 * topic-partition), in log order.
 */

/** Where a record sits in the event log. */
export interface SourceCoordinates {
  /** `aws:kinesis` or `aws:kafka`. */
  readonly eventSource: string;
  /** The stream ARN (Kinesis) or the cluster ARN (Kafka; the topic is part of `shardId`). */
  readonly stream: string;
  /** The ordered unit of the log: the Kinesis shard id, or `<topic>-<partition>` for Kafka. */
  readonly shardId: string;
  /** Position within the shard: the Kinesis sequence number, or the Kafka offset, as a decimal string. */
  readonly sequenceNumber: string;
  /** The producer's partition key (Kinesis) or message key (Kafka: its UTF-8 text, or its base64 when it is not text). */
  readonly partitionKey: string;
  /**
   * When the log accepted the record (Kafka: the record's timestamp), UTC epoch milliseconds; `undefined` when the
   * envelope has none or one no date can hold (see `arrivalTimeOf`).
   */
  readonly arrivalTime: number | undefined;
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

// Node's base64 decoder silently skips characters outside the alphabet, so validity is checked first. Strict
// base64 is groups of four alphabet characters, the last one possibly ending in `=` or `==`: with the length a
// multiple of four, that is alphabet characters then at most two `=`. This form runs in about half the time of
// /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/ (test/lambdas/fast-paths.test.ts compares them).
const BASE64_CHARACTERS = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether a string is strict base64 (padded, standard alphabet, nothing else). */
export function isStrictBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64_CHARACTERS.test(text);
}

/**
 * The bytes of a strict base64 string, or `undefined` when it is not one. What a producer writes is canonical
 * base64, whose bytes encode back to the same text: comparing that costs less than the pattern, which then only
 * decides the rest (e.g. non-zero bits in the last character, still strict base64).
 */
export function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text || isStrictBase64(text) ? bytes : undefined;
}

// The last millisecond of year 9999: beyond it an ISO date (and so an hour partition) has more than four year digits.
const LATEST_ARRIVAL_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * An envelope's arrival time as epoch milliseconds, or `undefined` when it has none or one that no hour partition
 * can name (not a number, negative, past year 9999). AWS's own sample events omit it, so it is never trusted.
 */
export function arrivalTimeOf(epochMillis: unknown): number | undefined {
  if (typeof epochMillis !== 'number' || !Number.isFinite(epochMillis)) return undefined;
  const ms = Math.round(epochMillis);
  return ms >= 0 && ms <= LATEST_ARRIVAL_MS ? ms : undefined;
}

/** The records of each ordered unit of the log (Kinesis shard or Kafka topic-partition), each in log order. */
export function orderedUnits(records: readonly SourceRecord[]): SourceRecord[][] {
  const units = new Map<string, SourceRecord[]>();
  for (const record of records) {
    const unit = units.get(record.coordinates.shardId);
    if (unit) unit.push(record);
    else units.set(record.coordinates.shardId, [record]);
  }
  return [...units.values()];
}

// fatal: invalid UTF-8 is a decode error, not silently replaced by U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A record's data as JSON, or precisely why it is not: what every validator of a log record does first. */
export function parseJsonRecord(
  record: SourceRecord,
): { ok: true; parsed: unknown } | { ok: false; reason: 'undecodable' | 'bad_json'; detail: string } {
  if (record.decodeError !== undefined) return { ok: false, reason: 'undecodable', detail: record.decodeError };
  let text: string;
  try {
    text = utf8.decode(record.data);
  } catch {
    return { ok: false, reason: 'undecodable', detail: 'data is not valid UTF-8' };
  }
  try {
    return { ok: true, parsed: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: 'bad_json', detail: (error as Error).message };
  }
}
