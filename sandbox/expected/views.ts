import { formatCents, toCents, type Transaction } from '../../lambdas/shared/transaction';

/**
 * The stream (Flink) views, recomputed from the transactions the job accepts (deduplicated, not
 * late), with the semantics of TributaryStreamJob.java: epoch-aligned UTC windows, amounts summed
 * in integer cents, one final row per window, column names of schemas/views.json, rows sorted by
 * (window start, key). total_amount is the decimal(18,2) literal.
 *
 * Exact, with one named exception: Flink merges session windows that merely touch
 * (TimeWindow.intersects is inclusive), and so does this module (next event <= last + gap). An
 * accepted event exactly `gap` after a session whose final row has already fired (the watermark
 * then sits exactly at the session's end - 1 + allowedLateness) starts a new session in Flink.
 * That needs the watermark to land on one exact millisecond; it is not modelled.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const VELOCITY_SIZE_MS = 600_000;
export const VELOCITY_SLIDE_MS = 60_000;
export const SESSION_GAP_MS = 1_800_000;
/** SpendWindowFunctions.CUSTOMER_HOUR_MIN_EXCLUSIVE_CENTS: kept only when total > 1000.00. */
export const CUSTOMER_HOUR_MIN_EXCLUSIVE_CENTS = 100_000;

export interface CardMinuteRow {
  card_id: string;
  window_start: number;
  txn_count: number;
  total_amount: string;
}
export interface CustomerHourRow {
  customer_id: string;
  window_start: number;
  txn_count: number;
  total_amount: string;
}
export interface CardVelocityRow {
  card_id: string;
  window_start: number;
  window_end: number;
  txn_count: number;
  total_amount: string;
}
export interface CustomerSessionRow {
  customer_id: string;
  session_start: number;
  session_end: number;
  txn_count: number;
  total_amount: string;
}

export interface StreamViews {
  spend_per_card_minute: CardMinuteRow[];
  spend_per_customer_hour: CustomerHourRow[];
  card_velocity: CardVelocityRow[];
  customer_sessions: CustomerSessionRow[];
}

interface Totals {
  key: string;
  start: number;
  end: number;
  count: number;
  cents: number;
}

function windowStart(time: number, size: number): number {
  return time - (((time % size) + size) % size);
}

function add(totals: Map<string, Totals>, key: string, start: number, end: number, cents: number): void {
  const id = `${key}\u0000${start}`;
  const t = totals.get(id);
  if (t) {
    t.count += 1;
    t.cents += cents;
  } else {
    totals.set(id, { key, start, end, count: 1, cents });
  }
}

function sorted(totals: Iterable<Totals>): Totals[] {
  return [...totals].sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Per customer, sessions with Flink's merging: an event within `gap` (inclusive) of the session's last event joins it. */
function sessions(accepted: readonly Transaction[]): Totals[] {
  const byCustomer = new Map<string, Transaction[]>();
  for (const txn of accepted) {
    const list = byCustomer.get(txn.customerId) ?? [];
    list.push(txn);
    byCustomer.set(txn.customerId, list);
  }
  const out: Totals[] = [];
  for (const [customerId, txns] of byCustomer) {
    const ordered = [...txns].sort((a, b) => a.eventTime - b.eventTime);
    let current: Totals | undefined;
    for (const txn of ordered) {
      if (current && txn.eventTime <= current.end) {
        current.count += 1;
        current.cents += toCents(txn.amount);
        current.end = Math.max(current.end, txn.eventTime + SESSION_GAP_MS);
      } else {
        current = { key: customerId, start: txn.eventTime, end: txn.eventTime + SESSION_GAP_MS, count: 1, cents: toCents(txn.amount) };
        out.push(current);
      }
    }
  }
  return sorted(out);
}

/** The four spend views over the accepted transactions (each txnId once, none late). */
export function streamViews(accepted: readonly Transaction[]): StreamViews {
  const cardMinute = new Map<string, Totals>();
  const customerHour = new Map<string, Totals>();
  const velocity = new Map<string, Totals>();
  for (const txn of accepted) {
    const cents = toCents(txn.amount);
    const minute = windowStart(txn.eventTime, MINUTE_MS);
    add(cardMinute, txn.cardId, minute, minute + MINUTE_MS, cents);
    const hour = windowStart(txn.eventTime, HOUR_MS);
    add(customerHour, txn.customerId, hour, hour + HOUR_MS, cents);
    // SlidingEventTimeWindows: starts from the last slide boundary back while start > t - size.
    for (let start = windowStart(txn.eventTime, VELOCITY_SLIDE_MS); start > txn.eventTime - VELOCITY_SIZE_MS; start -= VELOCITY_SLIDE_MS) {
      add(velocity, txn.cardId, start, start + VELOCITY_SIZE_MS, cents);
    }
  }
  return {
    spend_per_card_minute: sorted(cardMinute.values()).map((t) => ({
      card_id: t.key,
      window_start: t.start,
      txn_count: t.count,
      total_amount: formatCents(t.cents),
    })),
    spend_per_customer_hour: sorted(customerHour.values())
      .filter((t) => t.cents > CUSTOMER_HOUR_MIN_EXCLUSIVE_CENTS)
      .map((t) => ({ customer_id: t.key, window_start: t.start, txn_count: t.count, total_amount: formatCents(t.cents) })),
    card_velocity: sorted(velocity.values()).map((t) => ({
      card_id: t.key,
      window_start: t.start,
      window_end: t.end,
      txn_count: t.count,
      total_amount: formatCents(t.cents),
    })),
    customer_sessions: sessions(accepted).map((t) => ({
      customer_id: t.key,
      session_start: t.start,
      session_end: t.end,
      txn_count: t.count,
      total_amount: formatCents(t.cents),
    })),
  };
}
