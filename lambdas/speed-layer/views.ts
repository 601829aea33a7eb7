import { formatCents, toCents, type Transaction } from '../shared/transaction';
import { hourPartition, viewObjectKey, type LakeLayout, type SpeedView } from './layout';

/**
 * The speed views as PARTIAL aggregates of one segment of a batch: the serving
 * view adds up the partials of all segments. Column names are those of
 * schemas/views.json; amounts are summed in integer cents and written as
 * decimal(18,2) literals with two decimals.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

interface PartialAggregate {
  key: string;
  windowStart: number;
  txnCount: number;
  totalCents: number;
}

export interface LakeObject {
  key: string;
  body: string;
}

export interface Segment {
  shardId: string;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
  /** The segment's valid transactions in log order. */
  transactions: readonly Transaction[];
}

export interface SegmentViews {
  objects: LakeObject[];
  /** Transactions dropped because their txnId already occurred earlier in the segment. */
  duplicates: number;
}

/** One NDJSON line; built by hand so total_amount keeps its two decimals (JSON.stringify would print 12.5 for 12.50). */
function line(keyColumn: 'card_id' | 'customer_id', partial: PartialAggregate): string {
  return (
    `{"${keyColumn}":${JSON.stringify(partial.key)},"window_start":${partial.windowStart},` +
    `"txn_count":${partial.txnCount},"total_amount":${formatCents(partial.totalCents)}}`
  );
}

function accumulate(partials: Map<string, PartialAggregate>, key: string, windowStart: number, cents: number): void {
  const id = `${key}\u0000${windowStart}`;
  const partial = partials.get(id);
  if (partial) {
    partial.txnCount += 1;
    partial.totalCents += cents;
  } else {
    partials.set(id, { key, windowStart, txnCount: 1, totalCents: cents });
  }
}

/** One object per partition (dt/hr of the window start), lines sorted so the bytes depend only on the segment's records. */
function toObjects(
  layout: LakeLayout,
  view: SpeedView,
  keyColumn: 'card_id' | 'customer_id',
  segment: Segment,
  partials: Map<string, PartialAggregate>,
): LakeObject[] {
  const sorted = [...partials.values()].sort(
    (a, b) => a.windowStart - b.windowStart || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  const linesByPartition = new Map<string, string[]>();
  for (const partial of sorted) {
    const partition = hourPartition(partial.windowStart);
    const lines = linesByPartition.get(partition) ?? [];
    lines.push(line(keyColumn, partial));
    linesByPartition.set(partition, lines);
  }
  return [...linesByPartition].map(([partition, lines]) => ({
    key: viewObjectKey(layout, view, partition, segment),
    body: `${lines.join('\n')}\n`,
  }));
}

/** Spend per card per minute and per customer per hour for one segment, duplicates (same txnId) counted once. */
export function segmentViews(layout: LakeLayout, segment: Segment): SegmentViews {
  const perCardMinute = new Map<string, PartialAggregate>();
  const perCustomerHour = new Map<string, PartialAggregate>();
  const seen = new Set<string>();
  let duplicates = 0;
  for (const txn of segment.transactions) {
    if (seen.has(txn.txnId)) {
      duplicates += 1;
      continue;
    }
    seen.add(txn.txnId);
    const cents = toCents(txn.amount);
    accumulate(perCardMinute, txn.cardId, txn.eventTime - (txn.eventTime % MINUTE_MS), cents);
    accumulate(perCustomerHour, txn.customerId, txn.eventTime - (txn.eventTime % HOUR_MS), cents);
  }
  return {
    objects: [
      ...toObjects(layout, 'spend_per_card_minute', 'card_id', segment, perCardMinute),
      ...toObjects(layout, 'spend_per_customer_hour', 'customer_id', segment, perCustomerHour),
    ],
    duplicates,
  };
}
