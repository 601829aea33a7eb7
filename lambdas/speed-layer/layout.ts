import type { SourceCoordinates } from '../shared/source-record';

/** Where the speed layer writes in the lake. Every key is deterministic so that a retry overwrites. */
export interface LakeLayout {
  /** e.g. `speed` */
  speedPrefix: string;
  /** e.g. `deadletter/speed` */
  deadLetterPrefix: string;
}

export type SpeedView = 'spend_per_card_minute' | 'spend_per_customer_hour';

/** `dt=YYYY-MM-DD/hr=HH` of an instant, UTC: the partition scheme of every view. */
export function hourPartition(epochMillis: number): string {
  const iso = new Date(epochMillis).toISOString();
  return `dt=${iso.slice(0, 10)}/hr=${iso.slice(11, 13)}`;
}

/** A segment's object in one partition of a view: `<shard>-<first seq>-<last seq>.json`. */
export function viewObjectKey(
  layout: LakeLayout,
  view: SpeedView,
  partition: string,
  segment: { shardId: string; firstSequenceNumber: string; lastSequenceNumber: string },
): string {
  const name = `${segment.shardId}-${segment.firstSequenceNumber}-${segment.lastSequenceNumber}`;
  return `${layout.speedPrefix}/${view}/${partition}/${name}.json`;
}

/** Partitioned by the record's arrival time, named by its position in the log. */
export function deadLetterKey(layout: LakeLayout, coordinates: SourceCoordinates): string {
  const name = `${coordinates.shardId}-${coordinates.sequenceNumber}`;
  return `${layout.deadLetterPrefix}/${hourPartition(coordinates.arrivalTime)}/${name}.json`;
}
