import { formatCents } from '../../lambdas/shared/transaction';
import type { ValidDelivery } from './deliveries';
import { HOUR_MS, MINUTE_MS } from './views';

/**
 * What the speed layer's views must add up to (lambdas/speed-layer/views.ts and core.ts).
 *
 * The speed layer writes per-segment partial sums over EVERY valid record it processes (late and
 * out-of-order ones included: it has no watermark), removing a duplicate only when an earlier
 * delivery of the same txnId is in the same segment of the same batch. Segments are named by
 * shard and sequence numbers, so a redelivered batch overwrites rather than adds. Hence, per key
 * and window, with each produced record processed exactly once:
 *
 *   served total = distinct total + the sum of SOME of the extra copies
 *
 * where the first delivery of each txnId always counts and each later copy counts exactly when it
 * landed in another segment than every earlier delivery. Which copies that is depends on batching
 * (batch size, batching window, timing), which the produced order does not determine: the
 * expectation is exact up to that choice, and exact outright for a key without extra copies.
 *
 * The customer-hour rows are the sums before the serving view's HAVING (> 1000.00).
 *
 * The speed layer's R1/R2 alerts are not predicted here: they run on arrival order with state that
 * the Kinesis tumbling window resets, so a burst that straddles a window boundary is missed.
 */

export interface SpeedExpectationRow {
  /** card_id (card-minute) or customer_id (customer-hour). */
  key: string;
  window_start: number;
  /** Each txnId once. */
  distinctCount: number;
  distinctCents: number;
  /** Cents of each later delivery of a txnId already delivered (one entry per extra copy). */
  extraCopies: number[];
  /** Every valid delivery counted: the upper bound. */
  allCount: number;
  allCents: number;
}

export interface SpeedExpectation {
  spend_per_card_minute: SpeedExpectationRow[];
  /** Before the HAVING the serving view applies. */
  spend_per_customer_hour: SpeedExpectationRow[];
}

function rows(valid: readonly ValidDelivery[], keyOf: (d: ValidDelivery) => string, size: number): SpeedExpectationRow[] {
  const byId = new Map<string, SpeedExpectationRow>();
  for (const d of valid) {
    const time = d.transaction.eventTime;
    const start = time - (time % size);
    const key = keyOf(d);
    const id = `${key}\u0000${start}`;
    let row = byId.get(id);
    if (!row) {
      row = { key, window_start: start, distinctCount: 0, distinctCents: 0, extraCopies: [], allCount: 0, allCents: 0 };
      byId.set(id, row);
    }
    row.allCount += 1;
    row.allCents += d.cents;
    if (d.first) {
      row.distinctCount += 1;
      row.distinctCents += d.cents;
    } else {
      row.extraCopies.push(d.cents);
    }
  }
  return [...byId.values()].sort(
    (a, b) => a.window_start - b.window_start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}

export function speedExpectation(valid: readonly ValidDelivery[]): SpeedExpectation {
  return {
    spend_per_card_minute: rows(valid, (d) => d.transaction.cardId, MINUTE_MS),
    spend_per_customer_hour: rows(valid, (d) => d.transaction.customerId, HOUR_MS),
  };
}

/**
 * Whether a served (summed) speed row is one the speed layer can produce: count and cents equal
 * the distinct totals plus the same subset of the extra copies. Rows with up to 20 extra copies
 * are checked exactly (every subset); beyond that, only against the bounds.
 */
export function speedRowPossible(expected: SpeedExpectationRow, served: { txnCount: number; totalCents: number }): boolean {
  const extraCount = served.txnCount - expected.distinctCount;
  const extraCents = served.totalCents - expected.distinctCents;
  const copies = expected.extraCopies;
  if (extraCount < 0 || extraCount > copies.length) return false;
  if (copies.length > 20) return served.totalCents >= expected.distinctCents && served.totalCents <= expected.allCents;
  for (let mask = 0; mask < 1 << copies.length; mask += 1) {
    let n = 0;
    let cents = 0;
    for (let bit = 0; bit < copies.length; bit += 1) {
      if (mask & (1 << bit)) {
        n += 1;
        cents += copies[bit];
      }
    }
    if (n === extraCount && cents === extraCents) return true;
  }
  return false;
}

/** A row's range as text, for messages: `<distinct>..<all>`. */
export function describeSpeedRow(row: SpeedExpectationRow): string {
  return `${row.key}@${row.window_start}: ${row.distinctCount}..${row.allCount} txns, ${formatCents(row.distinctCents)}..${formatCents(row.allCents)}`;
}
