import { sqlString } from '../serving/lake-sql';
import { CLOSE_MARGIN_MS, check, cents, hms, MINUTE, money, runTraffic, setUpLesson, txn, withLake, type Lesson, type LessonContext } from './runner';

/**
 * Windows: four transactions of one card (one customer) placed on minute boundaries and gaps, and the
 * windows the stream job put each in: the tumbling card-minute, the sliding 10-minute velocity windows
 * (every minute), and the customer's sessions (a 30-minute gap closes one). The lesson works out the
 * windows from the definitions alone and checks the job's rows are exactly those.
 */

const VELOCITY_SIZE = 10 * MINUTE;
const VELOCITY_SLIDE = MINUTE;
const SESSION_GAP = 30 * MINUTE;

interface Placed {
  label: string;
  eventTime: number;
  cents: number;
}

interface WindowRow {
  start: number;
  end: number;
  count: number;
  cents: number;
}

const show = (w: WindowRow) => `[${hms(w.start)}, ${hms(w.end)})  ${w.count} txn  ${money(w.cents)}`;
const same = (a: WindowRow[], b: WindowRow[]) => JSON.stringify(a) === JSON.stringify(b);
const sorted = (rows: WindowRow[]) => [...rows].sort((a, b) => a.start - b.start);

function add(windows: Map<number, WindowRow>, start: number, end: number, p: Placed) {
  const w = windows.get(start) ?? { start, end, count: 0, cents: 0 };
  windows.set(start, { ...w, count: w.count + 1, cents: w.cents + p.cents });
}

/** Tumbling: each event in the one window of `size` aligned to the epoch that holds it. */
function tumbling(events: Placed[], size: number): WindowRow[] {
  const windows = new Map<number, WindowRow>();
  for (const e of events) add(windows, e.eventTime - (e.eventTime % size), e.eventTime - (e.eventTime % size) + size, e);
  return sorted([...windows.values()]);
}

/** Sliding: each event in every window of `size` that starts on a multiple of `slide` and holds it (size / slide of them). */
function sliding(events: Placed[], size: number, slide: number): WindowRow[] {
  const windows = new Map<number, WindowRow>();
  for (const e of events) {
    for (let start = e.eventTime - (e.eventTime % slide); start > e.eventTime - size; start -= slide) add(windows, start, start + size, e);
  }
  return sorted([...windows.values()]);
}

/** Sessions: events no more than `gap` apart are one session, which ends `gap` after its last event. */
function sessions(events: Placed[], gap: number): WindowRow[] {
  const out: WindowRow[] = [];
  for (const e of [...events].sort((a, b) => a.eventTime - b.eventTime)) {
    const last = out[out.length - 1];
    if (last && e.eventTime <= last.end) out[out.length - 1] = { ...last, end: e.eventTime + gap, count: last.count + 1, cents: last.cents + e.cents };
    else out.push({ start: e.eventTime, end: e.eventTime + gap, count: 1, cents: e.cents });
  }
  return out;
}

const rows = (result: Record<string, unknown>[], start: string, end?: string, size?: number): WindowRow[] =>
  sorted(result.map((r) => ({ start: Number(r[start]), end: end ? Number(r[end]) : Number(r[start]) + size!, count: Number(r.txn_count), cents: cents(r.total_amount) })));

async function run({ sandbox, out }: LessonContext): Promise<void> {
  const { id, card, customer, start, base } = setUpLesson({ sandbox, out }, 'windows');
  const events: Placed[] = [
    { label: 'a', eventTime: base + 5_000, cents: 10_00 },
    { label: 'b', eventTime: base + 55_000, cents: 20_00 },
    { label: 'c', eventTime: base + 65_000, cents: 30_00 },
    // 31 minutes after c: more than the session gap.
    { label: 'd', eventTime: base + 65_000 + 31 * MINUTE, cents: 40_00 },
  ];
  out(`We put four transactions of card ${card} (customer ${customer}) on the log, among clean background traffic:`);
  for (const e of events) out(`  ${e.label}  ${hms(e.eventTime)}  ${money(e.cents)}`);
  const last = events[events.length - 1].eventTime;
  // The background carries event time past the last session's end, so the watermark closes every window.
  const until = last + SESSION_GAP + CLOSE_MARGIN_MS;
  out(`The background moves event time on to ${hms(until)} (about ${Math.round((until - start) / MINUTE)} minutes of event time in seconds of wall time), so every window closes.`);
  await runTraffic(
    { sandbox, out },
    { from: start, phases: [{ until, placed: events.map((e) => ({ producedAt: e.eventTime, record: txn({ txnId: `${id}-${e.label}`, cardId: card, customerId: customer, amount: e.cents / 100, eventTime: e.eventTime }) })) }] },
  );

  const v = sandbox.flink.version;
  const found = await withLake({ sandbox, out }, async (lake) => ({
    minute: rows(await lake.query(`SELECT window_start, txn_count, total_amount FROM views_spend_per_card_minute WHERE v = '${v}' AND card_id = ${sqlString(card)}`), 'window_start', undefined, MINUTE),
    velocity: rows(await lake.query(`SELECT window_start, window_end, txn_count, total_amount FROM views_card_velocity WHERE v = '${v}' AND card_id = ${sqlString(card)}`), 'window_start', 'window_end'),
    sessions: rows(await lake.query(`SELECT session_start, session_end, txn_count, total_amount FROM views_customer_sessions WHERE v = '${v}' AND customer_id = ${sqlString(customer)}`), 'session_start', 'session_end'),
  }));
  const want = { minute: tumbling(events, MINUTE), velocity: sliding(events, VELOCITY_SIZE, VELOCITY_SLIDE), sessions: sessions(events, SESSION_GAP) };

  out('');
  out(`Tumbling 1-minute windows (views_spend_per_card_minute): ${found.minute.length} rows`);
  for (const w of found.minute) out(`  ${show(w)}`);
  out('  a and b share the minute they are in; c is 10 s after b but in the next minute: tumbling windows do not overlap, and an edge cuts wherever it falls.');
  out(`Sliding 10-minute windows every minute (views_card_velocity): ${found.velocity.length} rows`);
  for (const w of found.velocity) out(`  ${show(w)}`);
  out('  Each transaction is in ten windows (the ten that start in the ten minutes up to it), so a and c share nine of them although they sit in different minutes.');
  out(`Session windows, 30-minute gap (views_customer_sessions): ${found.sessions.length} rows`);
  for (const w of found.sessions) out(`  ${show(w)}`);
  out('  a, b and c are less than 30 minutes apart: one session, which ends 30 minutes after c. d comes 31 minutes after c: a session of its own.');
  out('  Sessions have no fixed edges: they grow with the data, and close only once the watermark passes the last event plus the gap.');

  check(same(found.minute, want.minute), 'tumbling windows', () => `the job wrote ${JSON.stringify(found.minute)}, the definition gives ${JSON.stringify(want.minute)}`);
  check(same(found.velocity, want.velocity), 'sliding windows', () => `the job wrote ${JSON.stringify(found.velocity)}, the definition gives ${JSON.stringify(want.velocity)}`);
  check(same(found.sessions, want.sessions), 'session windows', () => `the job wrote ${JSON.stringify(found.sessions)}, the definition gives ${JSON.stringify(want.sessions)}`);
  check(want.minute.length === 3 && want.velocity.length === 21 && want.sessions.length === 2, 'the placement shows the point', () => 'the placed events no longer give 3 minutes, 21 velocity windows and 2 sessions');
  out(`Point holds: every window the stream job wrote for ${card} is exactly what the window definitions give.`);
}

export const windowsLesson: Lesson = { name: 'windows', title: 'Windows: tumbling, sliding and session', run };
