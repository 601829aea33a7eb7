import type { SourceCoordinates, SourceRecord } from './source-record';

/**
 * How every function lays out what it writes to the lake: the hour partitions, and the dead letter of a
 * record it could not use. Keys are deterministic, so a retry overwrites instead of adding a copy.
 */

/** `dt=YYYY-MM-DD/hr=HH` of an instant, UTC: the partition scheme of every view and dead letter. */
export function hourPartition(epochMillis: number): string {
  // A batch's records mostly fall in one hour; formatting a date per view row and alert was a hot spot
  // (bench/README.md). The hour of the instant as Date counts it (milliseconds truncated toward zero).
  const hour = Math.floor(Math.trunc(epochMillis) / HOUR_MS);
  if (hour === lastHour.hour && Math.abs(epochMillis) <= MAX_DATE_MS) return lastHour.partition;
  const iso = new Date(epochMillis).toISOString(); // throws a RangeError for an instant no Date can hold
  lastHour = { hour, partition: `dt=${iso.slice(0, 10)}/hr=${iso.slice(11, 13)}` };
  return lastHour.partition;
}

const HOUR_MS = 3_600_000;
/** The largest instant a Date holds, either side of 1970. */
const MAX_DATE_MS = 8.64e15;
let lastHour = { hour: NaN, partition: '' };

/**
 * `<prefix>/dt=.../hr=.../<shard>-<sequence>.json`: partitioned by the record's arrival time, named by its position
 * in the log. A record whose envelope has no usable arrival time goes under the hour of `processingTime` (the
 * invocation's clock): still a partition Athena projects, and still named by its position, so a retry in the same
 * hour overwrites it; a retry in a later hour writes a second copy with the same name (readers deduplicate on
 * shard_id and sequence_number; docs/faults.md).
 */
export function deadLetterKey(prefix: string, coordinates: SourceCoordinates, processingTime: number): string {
  const name = `${coordinates.shardId}-${coordinates.sequenceNumber}`;
  return `${prefix}/${hourPartition(coordinates.arrivalTime ?? processingTime)}/${name}.json`;
}

/** Why a record could not be used: a reason code, a readable detail, and the schema errors if any. */
export interface DeadLetterReason {
  reason: string;
  detail: string;
  errors: ReadonlyArray<{ path: string; message: string }>;
}

/** The dead-letter object: one JSON line with the reason, the error details, the source coordinates and the raw data. */
export function deadLetterBody(record: SourceRecord, why: DeadLetterReason): string {
  const { coordinates, encodedData } = record;
  return `${JSON.stringify({
    reason: why.reason,
    detail: why.detail,
    errors: why.errors,
    event_source: coordinates.eventSource,
    stream: coordinates.stream,
    shard_id: coordinates.shardId,
    sequence_number: coordinates.sequenceNumber,
    partition_key: coordinates.partitionKey,
    arrival_time: coordinates.arrivalTime ?? null,
    data_base64: encodedData,
  })}\n`;
}
