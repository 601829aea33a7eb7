import type { ValidDelivery } from './deliveries';

/**
 * Which transactions stream processing routes to `late_events`, decided as the Flink job does:
 *
 * - Watermarks (io/TransactionWatermarks.java) are per split (shard / partition) and driven by
 *   the data alone: after each valid record the split's candidate is `max event time - bound - 1`,
 *   emitted when it is the first one or has advanced >= EMIT_STEP_MS (1 s) past the last emitted.
 *   The record is emitted BEFORE the generator sees it, so a record is judged by the records
 *   before it. Malformed records do not move it; duplicates do (deduplication comes later).
 * - The source's watermark is the minimum over its (non-idle) splits.
 * - Deduplication by txnId comes before the late router, so only the FIRST delivery of a txnId
 *   is ever judged; later copies are dropped whatever their time.
 * - The late router (processing/LateEventRouter.java) sends a transaction to late_events when
 *   `eventTime + allowedLateness <= watermark`; everything else reaches every window (an accepted
 *   event is never late for a window) and, through WatermarkLag, every rule in event-time order
 *   (the rules' watermark is `allowedLateness` behind, so they never find it late either).
 *
 * Exact with ONE partition: the watermark at each record is then determined by the produced order.
 * With several partitions the minimum depends on how far each partition's reader has got, which
 * the produced order does not determine. Then this module bounds the watermark:
 * - highest: `M - bound - 1` where M is the highest event time produced before the record. Proven:
 *   the record's own split has seen nothing newer than M, and the minimum is no higher than it.
 * - lowest: `M - partitionSkewMs - bound - EMIT_STEP_MS`. An ASSUMPTION, not a proof: that when
 *   the record is read, every partition's reader has already read a record with event time
 *   >= M - partitionSkewMs (readers not further apart than that, every partition has data, none idle).
 * A record is clearly on time when it is on time for the highest watermark, clearly late when it
 * is late for the lowest, and ambiguous in between. Also assumed, in both modes: one uninterrupted
 * run of the job from the first produced record (watermark generators restart from nothing after
 * a restore), and records of one partition read in produced order.
 */

/** io/TransactionWatermarks.java EMIT_STEP_MS. */
export const WATERMARK_EMIT_STEP_MS = 1_000;

export interface LatenessSettings {
  maxOutOfOrdernessMs: number;
  allowedLatenessMs: number;
  /** Partitions (shards) of the log. 1 makes the classification exact. */
  partitions: number;
  /** The assumed bound on how far, in event time, partition readers may be apart (partitions > 1 only). */
  partitionSkewMs: number;
}

export type LatenessVerdict = 'on-time' | 'late' | 'ambiguous';

export interface LatenessEntry {
  /** Index of the first delivery in the produced sequence. */
  index: number;
  txnId: string;
  eventTime: number;
  /** Highest event time of the valid records produced before it; null if none. */
  maxEventTimeBefore: number | null;
  /** The watermark the late router can have seen (exact when lowest === highest); null = no watermark yet. */
  watermark: { lowest: number | null; highest: number | null };
  verdict: LatenessVerdict;
}

function isLate(eventTime: number, allowedLatenessMs: number, watermark: number | null): boolean {
  return watermark !== null && eventTime + allowedLatenessMs <= watermark;
}

/** One entry per first delivery, in produced order. */
export function classifyLateness(valid: readonly ValidDelivery[], settings: LatenessSettings): LatenessEntry[] {
  const { maxOutOfOrdernessMs: bound, allowedLatenessMs, partitions, partitionSkewMs } = settings;
  const exact = partitions === 1;
  const entries: LatenessEntry[] = [];
  let max: number | null = null;
  let lastEmitted: number | null = null;
  for (const delivery of valid) {
    const { eventTime, txnId } = delivery.transaction;
    if (delivery.first) {
      let lowest: number | null;
      let highest: number | null;
      if (exact) {
        lowest = lastEmitted;
        highest = lastEmitted;
      } else {
        highest = max === null ? null : max - bound - 1;
        lowest = max === null ? null : max - partitionSkewMs - bound - WATERMARK_EMIT_STEP_MS;
      }
      const verdict: LatenessVerdict = !isLate(eventTime, allowedLatenessMs, highest)
        ? 'on-time'
        : isLate(eventTime, allowedLatenessMs, lowest)
          ? 'late'
          : 'ambiguous';
      entries.push({ index: delivery.index, txnId, eventTime, maxEventTimeBefore: max, watermark: { lowest, highest }, verdict });
    }
    // After the record: the generator sees it (TransactionWatermarks.onEvent).
    max = max === null ? eventTime : Math.max(max, eventTime);
    const candidate = max - bound - 1;
    if (lastEmitted === null || candidate - lastEmitted >= WATERMARK_EMIT_STEP_MS) lastEmitted = candidate;
  }
  return entries;
}
