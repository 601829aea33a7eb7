import type { Transaction } from '../../lambdas/shared/transaction';
import type { Incident } from '../../sandbox/generator';
import {
  classifyDeliveries,
  expectedResults,
  r1,
  r2,
  r3,
  referenceAlerts,
  score,
  speedExpectation,
  speedRowPossible,
  streamGivenLate,
  streamViews,
  compareEventOrder,
} from '../../sandbox/expected';

/** 2025-11-21T22:00:00Z: aligned to the hour. */
const T = 1_763_762_400_000;
const S = 1_000;
const MIN = 60_000;

let seq = 0;
function txn(fields: Partial<Transaction> & { eventTime: number }): Transaction {
  seq += 1;
  return {
    txnId: `t-${String(seq).padStart(4, '0')}`,
    cardId: 'card-1',
    customerId: 'cust-1',
    merchantId: 'm-1',
    amount: 50,
    currency: 'EUR',
    country: 'DE',
    channel: 'POS',
    schemaVersion: 1,
    ...fields,
  };
}
const ordered = (txns: Transaction[]) => [...txns].sort(compareEventOrder);
const produced = (txns: Transaction[]) => txns.map((t) => ({ data: JSON.stringify(t) }));

describe('R1: three transactions over 100 within 60 s', () => {
  it('is strict: < 60 s alerts, exactly 60 s does not', () => {
    const a = [txn({ eventTime: T, amount: 150 }), txn({ eventTime: T + 30 * S, amount: 101 }), txn({ eventTime: T + 59_999, amount: 100.01 })];
    expect(r1(a)).toEqual([
      { alertId: `R1:card-1:${T}`, rule: 'R1', cardId: 'card-1', customerId: 'cust-1', windowStart: T, txnIds: a.map((t) => t.txnId) },
    ]);
    const b = [txn({ eventTime: T, amount: 150 }), txn({ eventTime: T + 30 * S, amount: 150 }), txn({ eventTime: T + 60 * S, amount: 150 })];
    expect(r1(b)).toEqual([]);
  });

  it('counts only amounts strictly over 100; small ones in between do not matter', () => {
    const at100 = [txn({ eventTime: T, amount: 150 }), txn({ eventTime: T + S, amount: 100 }), txn({ eventTime: T + 2 * S, amount: 150 })];
    expect(r1(at100)).toEqual([]);
    const withSmall = [...at100, txn({ eventTime: T + 3 * S, amount: 5 }), txn({ eventTime: T + 4 * S, amount: 120 })];
    expect(r1(withSmall).map((a) => a.txnIds)).toEqual([[at100[0].txnId, at100[2].txnId, withSmall[4].txnId]]);
  });

  it('skips past the last event: matches never share a transaction', () => {
    const six = [0, 1, 2, 3, 4, 5].map((k) => txn({ eventTime: T + k * S, amount: 200 }));
    expect(r1(six).map((a) => a.windowStart)).toEqual([T, T + 3 * S]);
    const four = six.slice(0, 4);
    expect(r1(four).map((a) => a.txnIds)).toEqual([four.slice(0, 3).map((t) => t.txnId)]);
  });

  it('continues at the next large transaction when the first three span too long', () => {
    const times = [0, 50, 70, 100];
    const large = times.map((s) => txn({ eventTime: T + s * S, amount: 300 }));
    expect(r1(large).map((a) => a.alertId)).toEqual([`R1:card-1:${T + 50 * S}`]);
  });

  it('runs on event-time order with ties broken by txnId, not on arrival order', () => {
    const x = txn({ eventTime: T + 10 * S, amount: 150 });
    const y = txn({ eventTime: T + 10 * S, amount: 150 });
    const z = txn({ eventTime: T, amount: 150 });
    const w = txn({ eventTime: T + 70 * S, amount: 150 });
    // Arrival order w, y, x, z; event order z, x, y, w.
    expect(referenceAlerts([w, y, x, z]).map((a) => a.txnIds)).toEqual([[z.txnId, x.txnId, y.txnId]]);
  });
});

describe('R2: two countries within 5 minutes', () => {
  it('is strict: < 300000 ms alerts with the predecessor as window start, 300000 ms does not', () => {
    const p = txn({ eventTime: T, country: 'DE' });
    const e = txn({ eventTime: T + 299_999, country: 'FR' });
    expect(r2([p, e])).toEqual([
      { alertId: `R2:card-1:${T}`, rule: 'R2', cardId: 'card-1', customerId: 'cust-1', windowStart: T, txnIds: [p.txnId, e.txnId] },
    ]);
    expect(r2([p, txn({ eventTime: T + 300_000, country: 'FR' })])).toEqual([]);
  });

  it('going back home within 5 minutes is a second hop', () => {
    const home = txn({ eventTime: T, country: 'DE' });
    const abroad = txn({ eventTime: T + MIN, country: 'FR' });
    const back = txn({ eventTime: T + 2 * MIN, country: 'DE' });
    expect(r2([home, abroad, back]).map((a) => a.alertId)).toEqual([`R2:card-1:${T}`, `R2:card-1:${T + MIN}`]);
    const backLater = txn({ eventTime: T + MIN + 300_000, country: 'DE' });
    expect(r2([home, abroad, backLater]).map((a) => a.alertId)).toEqual([`R2:card-1:${T}`]);
  });

  it('compares each transaction with its event-time predecessor only', () => {
    const a = txn({ eventTime: T, country: 'DE' });
    const b = txn({ eventTime: T + 10 * S, country: 'DE' });
    const c = txn({ eventTime: T + 20 * S, country: 'FR' });
    // Arrives last but sits between a and c in event time: c's predecessor is b, not a.
    expect(referenceAlerts([a, c, b]).map((x) => x.txnIds)).toEqual([[b.txnId, c.txnId]]);
  });
});

describe('R3: over 10x the running average', () => {
  const history = (amounts: number[]) => amounts.map((amount, k) => txn({ eventTime: T + k * S, amount }));

  it('needs at least 5 earlier transactions', () => {
    expect(r3([...history([10, 10, 10, 10]), txn({ eventTime: T + 10 * S, amount: 5000 })])).toEqual([]);
    const spike = txn({ eventTime: T + 10 * S, amount: 5000 });
    expect(r3([...history([10, 10, 10, 10, 10]), spike])).toEqual([
      { alertId: `R3:card-1:${spike.eventTime}`, rule: 'R3', cardId: 'card-1', customerId: 'cust-1', windowStart: spike.eventTime, txnIds: [spike.txnId] },
    ]);
  });

  it('is strictly over 10x, compared exactly in cents', () => {
    // Mean 10.002 (5001 cents / 5): 10x is 100.02.
    const base = [10, 10, 10, 10, 10.01];
    expect(r3([...history(base), txn({ eventTime: T + 10 * S, amount: 100.02 })])).toEqual([]);
    expect(r3([...history(base), txn({ eventTime: T + 10 * S, amount: 100.03 })])).toHaveLength(1);
  });

  it('the mean includes every earlier transaction, an earlier spike too', () => {
    const first = txn({ eventTime: T + 10 * S, amount: 200 });
    // After the first spike: 6 txns, 250.00 total, mean 41.67; 10x is 416.67.
    const second = txn({ eventTime: T + 20 * S, amount: 416.66 });
    const third = txn({ eventTime: T + 30 * S, amount: 1000 });
    expect(r3([...history([10, 10, 10, 10, 10]), first, second, third]).map((a) => a.txnIds[0])).toEqual([first.txnId, third.txnId]);
  });
});

describe('deliveries, duplicates and the raw archive', () => {
  it('uses the project validator: malformed records with their reasons; duplicates once in views, twice in raw', () => {
    const a = txn({ eventTime: T, amount: 150 });
    const b = txn({ eventTime: T + S, amount: 150 });
    const records = [
      ...produced([a, b]),
      { data: '{"txnId":' },
      { data: JSON.stringify({ ...a, txnId: 'other', amount: 0 }) },
      ...produced([b, b]),
      { data: JSON.stringify({ ...a, txnId: 'x', extra: 1 }) },
    ];
    const deliveries = classifyDeliveries(records);
    expect(deliveries.malformed.map((m) => [m.index, m.reason])).toEqual([
      [2, 'bad_json'],
      [3, 'schema_violation'],
      [6, 'schema_violation'],
    ]);
    expect(deliveries.valid.map((v) => [v.index, v.first])).toEqual([
      [0, true],
      [1, true],
      [4, false],
      [5, false],
    ]);
    const expected = expectedResults(records, { partitions: 1 });
    expect(expected.raw.map((t) => t.txnId)).toEqual([a.txnId, b.txnId, b.txnId, b.txnId]);
    expect(expected.stream.duplicateIndexes).toEqual([4, 5]);
    expect(expected.stream.outputs.views.spend_per_card_minute).toEqual([
      { card_id: 'card-1', window_start: T, txn_count: 2, total_amount: '300.00' },
    ]);
    // Three deliveries of two large transactions are not an R1 burst.
    expect(expected.stream.outputs.alerts).toEqual([]);
  });
});

describe('late events, decided as the Flink job does', () => {
  // maxOutOfOrderness 5000, allowedLateness 30000 (lib/config/defaults.ts). Late when eventTime + 30000 <= watermark.
  const r = {
    first: txn({ eventTime: T + 100_000 }), // no watermark yet; after it: 94999 emitted
    near: txn({ eventTime: T + 100_500 }), // candidate 95499: under 1 s past the last emitted, not emitted
    jump: txn({ eventTime: T + 200_000 }), // after it: 194999 emitted
    boundary: txn({ eventTime: T + 164_999 }), // 194999 <= 194999: late
    justIn: txn({ eventTime: T + 165_000 }), // 195000 > 194999: on time
    creep: txn({ eventTime: T + 200_900 }), // candidate 195899: not emitted
    stepSaves: txn({ eventTime: T + 165_500 }), // late for a continuous watermark (195899), on time for the emitted 194999
    farBehind: txn({ eventTime: T + 100_000 }),
  };
  const sequence = [
    r.first,
    r.near,
    r.jump,
    r.boundary,
    r.justIn,
    r.boundary, // a second delivery of a late txn: dropped by dedupe, never judged again
    r.creep,
    { ...r.first, txnId: 'malformed-far-future', eventTime: T + 900_000, amount: -1 }, // invalid: moves no watermark
    r.stepSaves,
    r.farBehind,
  ];

  it('is exact on one partition: emitted watermarks in 1 s steps, from the records before each one', () => {
    const expected = expectedResults(produced(sequence), { partitions: 1 });
    expect(expected.stream.lateness.map((e) => [e.txnId, e.watermark.highest === null ? null : e.watermark.highest - T, e.verdict])).toEqual([
      [r.first.txnId, null, 'on-time'],
      [r.near.txnId, 94_999, 'on-time'],
      [r.jump.txnId, 94_999, 'on-time'],
      [r.boundary.txnId, 194_999, 'late'],
      [r.justIn.txnId, 194_999, 'on-time'],
      [r.creep.txnId, 194_999, 'on-time'],
      [r.stepSaves.txnId, 194_999, 'on-time'],
      [r.farBehind.txnId, 194_999, 'late'],
    ]);
    expect(expected.stream.exact).toBe(true);
    expect(expected.stream.outputs.accepted.map((t) => t.txnId)).not.toContain(r.boundary.txnId);
    expect(expected.speed.spend_per_card_minute.reduce((n, row) => n + row.distinctCount, 0)).toBe(8);
  });

  it('on several partitions, bounds the watermark and names the ambiguous band', () => {
    const expected = expectedResults(produced(sequence), { partitions: 4, partitionSkewMs: 30_000 });
    const verdict = new Map(expected.stream.lateness.map((e) => [e.txnId, e]));
    // Highest possible watermark 200000 - 5001; lowest assumed 200000 - 30000 - 5000 - 1000.
    expect(verdict.get(r.boundary.txnId)?.watermark).toEqual({ lowest: T + 164_000, highest: T + 194_999 });
    expect(verdict.get(r.boundary.txnId)?.verdict).toBe('ambiguous');
    expect(verdict.get(r.stepSaves.txnId)?.verdict).toBe('ambiguous');
    expect(verdict.get(r.justIn.txnId)?.verdict).toBe('on-time');
    expect(verdict.get(r.farBehind.txnId)?.verdict).toBe('late');
    expect(expected.stream.exact).toBe(false);
    expect(expected.stream.ambiguous.map((e) => e.txnId)).toEqual([r.boundary.txnId, r.stepSaves.txnId]);
  });

  it('streamGivenLate accepts any resolution of the ambiguous band and rejects contradictions', () => {
    const expected = expectedResults(produced(sequence), { partitions: 4, partitionSkewMs: 30_000 });
    const resolved = streamGivenLate(expected, [r.farBehind.txnId, r.boundary.txnId]);
    expect(resolved.accepted.map((t) => t.txnId)).toEqual([r.first, r.near, r.jump, r.justIn, r.creep, r.stepSaves].map((t) => t.txnId));
    expect(() => streamGivenLate(expected, [r.boundary.txnId])).toThrow(/clearly late but is not in late_events/);
    expect(() => streamGivenLate(expected, [r.farBehind.txnId, r.justIn.txnId])).toThrow(/clearly on time/);
    expect(() => streamGivenLate(expected, [r.farBehind.txnId, 'nope'])).toThrow(/never produced/);
  });
});

describe('stream views', () => {
  it('tumbling minute per card and hour per customer (kept only over 1000.00), in cents', () => {
    const txns = [
      txn({ eventTime: T + 59_999, amount: 0.1 }),
      txn({ eventTime: T, amount: 0.2 }),
      txn({ eventTime: T + MIN, amount: 999.7 }),
      txn({ eventTime: T + 5 * MIN, customerId: 'cust-2', cardId: 'card-2', amount: 1000 }),
    ];
    const views = streamViews(txns);
    expect(views.spend_per_card_minute).toEqual([
      { card_id: 'card-1', window_start: T, txn_count: 2, total_amount: '0.30' },
      { card_id: 'card-1', window_start: T + MIN, txn_count: 1, total_amount: '999.70' },
      { card_id: 'card-2', window_start: T + 5 * MIN, txn_count: 1, total_amount: '1000.00' },
    ]);
    // cust-1: 1000.00 exactly is not over 1000; cust-2 likewise.
    expect(views.spend_per_customer_hour).toEqual([]);
    const more = streamViews([...txns, txn({ eventTime: T + 10 * MIN, amount: 0.01 })]);
    expect(more.spend_per_customer_hour).toEqual([{ customer_id: 'cust-1', window_start: T, txn_count: 4, total_amount: '1000.01' }]);
  });

  it('card velocity: each transaction in the ten 10-minute windows sliding every minute that contain it', () => {
    const one = txn({ eventTime: T + 2 * MIN + 5 * S, amount: 12.34 });
    const rows = streamViews([one]).card_velocity;
    expect(rows.map((row) => row.window_start - T)).toEqual([-7, -6, -5, -4, -3, -2, -1, 0, 1, 2].map((m) => m * MIN));
    expect(rows.every((row) => row.window_end === row.window_start + 10 * MIN && row.txn_count === 1 && row.total_amount === '12.34')).toBe(true);
    // On a boundary: the window starting exactly 10 minutes earlier does not contain it.
    const edge = streamViews([txn({ eventTime: T + 10 * MIN })]).card_velocity;
    expect(edge[0].window_start).toBe(T + MIN);
    expect(edge).toHaveLength(10);
  });

  it('customer sessions: 30-minute gap, merged when the next event is at most the gap after (Flink windows touch)', () => {
    const gap = 30 * MIN;
    const txns = [
      txn({ eventTime: T, amount: 1 }),
      txn({ eventTime: T + gap, amount: 2 }), // exactly the gap: same session
      txn({ eventTime: T + 2 * gap + 1, amount: 4 }), // one ms more: a new session
    ];
    expect(streamViews(txns).customer_sessions).toEqual([
      { customer_id: 'cust-1', session_start: T, session_end: T + 2 * gap, txn_count: 2, total_amount: '3.00' },
      { customer_id: 'cust-1', session_start: T + 2 * gap + 1, session_end: T + 3 * gap + 1, txn_count: 1, total_amount: '4.00' },
    ]);
  });
});

describe('speed layer expectation', () => {
  it('late events count; a duplicate counts or not depending on its batch, and nothing else is possible', () => {
    const a = txn({ eventTime: T + 200_000, amount: 10 });
    const late = txn({ eventTime: T + 1_000, amount: 7 });
    const b = txn({ eventTime: T + 200_500, amount: 20 });
    const records = produced([a, b, late, b]);
    const expected = expectedResults(records, { partitions: 1 });
    expect(expected.stream.late.map((e) => e.txnId)).toEqual([late.txnId]);
    const rows = speedExpectation(expected.valid).spend_per_card_minute;
    const minute = (t: number) => rows.find((row) => row.window_start === t - (t % MIN));
    expect(minute(late.eventTime)).toMatchObject({ distinctCount: 1, distinctCents: 700, extraCopies: [] });
    const busy = minute(a.eventTime);
    expect(busy).toMatchObject({ distinctCount: 2, distinctCents: 3000, extraCopies: [2000], allCount: 3, allCents: 5000 });
    if (!busy) throw new Error('no row');
    expect(speedRowPossible(busy, { txnCount: 2, totalCents: 3000 })).toBe(true);
    expect(speedRowPossible(busy, { txnCount: 3, totalCents: 5000 })).toBe(true);
    expect(speedRowPossible(busy, { txnCount: 3, totalCents: 4000 })).toBe(false);
    expect(speedRowPossible(busy, { txnCount: 1, totalCents: 1000 })).toBe(false);
    expect(speedRowPossible(busy, { txnCount: 4, totalCents: 7000 })).toBe(false);
  });
});

describe('score', () => {
  const incidents: Incident[] = [
    { incidentId: 'i1', rule: 'R1', cardId: 'c1', customerId: 'u', txnIds: ['a', 'b', 'c'], alertId: 'R1:c1:1', windowStart: 1 },
    { incidentId: 'i2', rule: 'R2', cardId: 'c2', customerId: 'u', txnIds: ['d', 'e'], alertId: 'R2:c2:2', windowStart: 2 },
    { incidentId: 'i3', rule: 'R3', cardId: 'c3', customerId: 'u', txnIds: ['f'], alertId: 'R3:c3:3', windowStart: 3 },
  ];

  it('matches by rule, card and the set of txnIds; deduplicates repeated alerts', () => {
    const result = score(
      [
        { rule: 'R1', cardId: 'c1', txnIds: ['c', 'a', 'b'] },
        { rule: 'R1', cardId: 'c1', txnIds: ['a', 'b', 'c'] },
        { rule: 'R2', cardId: 'c2', txnIds: ['d', 'x'] },
        { rule: 'R3', cardId: 'c9', txnIds: ['f'] },
      ],
      incidents,
    );
    expect(result.overall).toMatchObject({ alerts: 3, incidents: 3, truePositives: 1, falsePositives: 2, falseNegatives: 2 });
    expect(result.overall.precision).toBeCloseTo(1 / 3);
    expect(result.overall.recall).toBeCloseTo(1 / 3);
    expect(result.perRule.R1).toMatchObject({ precision: 1, recall: 1 });
    expect(result.perRule.R2).toMatchObject({ precision: 0, recall: 0 });
    expect(result.missed.map((i) => i.incidentId)).toEqual(['i2', 'i3']);
  });

  it('no alerts: precision 1, recall 0; no incidents and no alerts: both 1', () => {
    expect(score([], incidents).overall).toMatchObject({ precision: 1, recall: 0 });
    expect(score([], []).overall).toMatchObject({ precision: 1, recall: 1 });
  });

  it('the reference alerts of hand-built incidents score 1', () => {
    const burst = [0, 1, 2].map((k) => txn({ cardId: 'card-7', eventTime: T + k * S, amount: 150 }));
    const alerts = referenceAlerts(ordered(burst));
    const result = score(alerts, [
      { incidentId: 'x', rule: 'R1', cardId: 'card-7', customerId: 'cust-1', txnIds: burst.map((t) => t.txnId), alertId: `R1:card-7:${T}`, windowStart: T },
    ]);
    expect(result.overall).toMatchObject({ precision: 1, recall: 1 });
  });
});
