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
  /** Position in the segment of the first record counted here. */
  firstPosition: number;
}

export interface LakeObject {
  key: string;
  body: string;
}

export interface Segment {
  shardId: string;
  /** The segment's valid records in log order. */
  records: ReadonlyArray<{ sequenceNumber: string; transaction: Transaction }>;
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

/** Partials by key, then window start: no composite key string to build and hash per record. */
type Partials = Map<string, Map<number, PartialAggregate>>;

function accumulate(partials: Partials, key: string, windowStart: number, cents: number, position: number): void {
  let byWindow = partials.get(key);
  if (!byWindow) {
    byWindow = new Map();
    partials.set(key, byWindow);
  }
  const partial = byWindow.get(windowStart);
  if (partial) {
    partial.txnCount += 1;
    partial.totalCents += cents;
  } else {
    byWindow.set(windowStart, { key, windowStart, txnCount: 1, totalCents: cents, firstPosition: position });
  }
}

/**
 * One object per partition (dt/hr of the window start), lines sorted so the bytes depend only on the segment's
 * records, named by the segment's first record counted in that partition (docs/speed-layer.md, "Idempotence").
 */
function toObjects(
  layout: LakeLayout,
  view: SpeedView,
  keyColumn: 'card_id' | 'customer_id',
  segment: Segment,
  partials: Partials,
): LakeObject[] {
  const sorted = [...partials.values()].flatMap((byWindow) => [...byWindow.values()]).sort(
    (a, b) => a.windowStart - b.windowStart || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  const byPartition = new Map<string, { lines: string[]; firstPosition: number }>();
  for (const partial of sorted) {
    const partition = hourPartition(partial.windowStart);
    const entry = byPartition.get(partition) ?? { lines: [], firstPosition: partial.firstPosition };
    entry.lines.push(line(keyColumn, partial));
    entry.firstPosition = Math.min(entry.firstPosition, partial.firstPosition);
    byPartition.set(partition, entry);
  }
  return [...byPartition].map(([partition, { lines, firstPosition }]) => ({
    key: viewObjectKey(layout, view, partition, { shardId: segment.shardId, firstSequenceNumber: segment.records[firstPosition].sequenceNumber }),
    body: `${lines.join('\n')}\n`,
  }));
}

/** Spend per card per minute and per customer per hour for one segment, duplicates (same txnId) counted once. */
export function segmentViews(layout: LakeLayout, segment: Segment): SegmentViews {
  const perCardMinute: Partials = new Map();
  const perCustomerHour: Partials = new Map();
  const seen = new Set<string>();
  let duplicates = 0;
  segment.records.forEach(({ transaction: txn }, position) => {
    if (seen.has(txn.txnId)) {
      duplicates += 1;
      return;
    }
    seen.add(txn.txnId);
    const cents = toCents(txn.amount);
    accumulate(perCardMinute, txn.cardId, txn.eventTime - (txn.eventTime % MINUTE_MS), cents, position);
    accumulate(perCustomerHour, txn.customerId, txn.eventTime - (txn.eventTime % HOUR_MS), cents, position);
  });
  return {
    objects: [
      ...toObjects(layout, 'spend_per_card_minute', 'card_id', segment, perCardMinute),
      ...toObjects(layout, 'spend_per_customer_hour', 'customer_id', segment, perCustomerHour),
    ],
    duplicates,
  };
}
