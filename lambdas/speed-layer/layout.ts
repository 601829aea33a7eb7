import { deadLetterKey as sharedDeadLetterKey, hourPartition } from '../shared/lake';
import type { SourceCoordinates } from '../shared/source-record';

export { hourPartition };

/** Where the speed layer writes in the lake. Every key is deterministic so that a retry overwrites. */
export interface LakeLayout {
  /** e.g. `speed` */
  speedPrefix: string;
  /** e.g. `deadletter/speed` */
  deadLetterPrefix: string;
}

export type SpeedView = 'spend_per_card_minute' | 'spend_per_customer_hour';

/**
 * A segment's object in one partition of a view: `<shard>-<seq>.json`, `<seq>` being the segment's first record
 * counted in that partition. Every attempt that covers that record as the first of its segment in the partition
 * (a retry that ends elsewhere, either half of a bisection) writes the same key, so it overwrites instead of
 * adding a second copy (docs/speed-layer.md, "Idempotence").
 */
export function viewObjectKey(
  layout: LakeLayout,
  view: SpeedView,
  partition: string,
  object: { shardId: string; firstSequenceNumber: string },
): string {
  const name = `${object.shardId}-${object.firstSequenceNumber}`;
  return `${layout.speedPrefix}/${view}/${partition}/${name}.json`;
}

/** Partitioned by the record's arrival time (or the processing time when the envelope has none), named by its position in the log. */
export function deadLetterKey(layout: LakeLayout, coordinates: SourceCoordinates, processingTime: number): string {
  return sharedDeadLetterKey(layout.deadLetterPrefix, coordinates, processingTime);
}
