import { FraudRules, EMPTY_RULE_STATE, parseRuleState, type Alert, type RuleState } from '../../lambdas/speed-layer/rules';
import { sequenceNumber, T0, txn } from './fixtures';
import type { Transaction } from '../../lambdas/shared/transaction';

const DETECTED_AT = T0 + 90_000;

/** Feed transactions as consecutive records of shard 0 from `firstPosition`. */
function run(transactions: Transaction[], state: RuleState = EMPTY_RULE_STATE, firstPosition = 0) {
  const rules = new FraudRules(state, DETECTED_AT);
  const alerts: Alert[] = [];
  let duplicates = 0;
  let redelivered = 0;
  transactions.forEach((t, i) => {
    const outcome = rules.observe(t, sequenceNumber(0, firstPosition + i));
    if (outcome === 'duplicate') duplicates += 1;
    else if (outcome === 'redelivered') redelivered += 1;
    else alerts.push(...outcome);
  });
  return { alerts, duplicates, redelivered, rules };
}

const large = (id: string, offsetMs: number, overrides: Partial<Transaction> = {}) =>
  txn({ txnId: id, amount: 100.01, eventTime: T0 + offsetMs, ...overrides });

describe('R1: three transactions over 100 on one card within 60 s', () => {
  it('fires with the spec alert record and a deterministic id', () => {
    const { alerts } = run([large('t-1', 0), txn({ txnId: 'small', eventTime: T0 + 1 }), large('t-2', 20_000), large('t-3', 59_999)]);
    expect(alerts).toEqual([
      {
        alertId: `R1:card-000042:${T0}`,
        rule: 'R1',
        cardId: 'card-000042',
        customerId: 'cust-000007',
        windowStart: T0,
        txnIds: ['t-1', 't-2', 't-3'],
        detectedBy: 'speed',
        detectedAt: DETECTED_AT,
      },
    ]);
  });

  it('is strict about 60 s and about "over 100"', () => {
    expect(run([large('t-1', 0), large('t-2', 1), large('t-3', 60_000)]).alerts).toEqual([]);
    expect(run([large('t-1', 0), large('t-2', 1), large('t-3', 2, { amount: 100 })]).alerts).toEqual([]);
  });

  it('never lets two matches share a transaction (skip past last event)', () => {
    const burst = [0, 1, 2, 3, 4, 5].map((i) => large(`t-${i}`, i * 1000));
    expect(run(burst).alerts.map((a) => a.txnIds)).toEqual([
      ['t-0', 't-1', 't-2'],
      ['t-3', 't-4', 't-5'],
    ]);
  });

  it('slides past a first transaction too old to match', () => {
    const { alerts } = run([large('t-1', 0), large('t-2', 50_000), large('t-3', 70_000), large('t-4', 100_000)]);
    expect(alerts.map((a) => a.alertId)).toEqual([`R1:card-000042:${T0 + 50_000}`]);
  });

  it('keeps cards apart', () => {
    const { alerts } = run([large('t-1', 0), large('t-2', 1, { cardId: 'card-2' }), large('t-3', 2)]);
    expect(alerts).toEqual([]);
  });
});

describe('R2: one card in two countries within 5 minutes', () => {
  it('fires on a change of country, windowStart the earlier of the two', () => {
    const { alerts } = run([
      txn({ txnId: 'p', country: 'FR', eventTime: T0 }),
      txn({ txnId: 'e', country: 'DE', eventTime: T0 + 299_999 }),
    ]);
    expect(alerts).toMatchObject([{ alertId: `R2:card-000042:${T0}`, rule: 'R2', windowStart: T0, txnIds: ['p', 'e'] }]);
  });

  it('does not fire at 5 minutes or for the same country', () => {
    expect(run([txn({ txnId: 'p', country: 'FR' }), txn({ txnId: 'e', country: 'DE', eventTime: T0 + 300_000 })]).alerts).toEqual([]);
    expect(run([txn({ txnId: 'p' }), txn({ txnId: 'e', eventTime: T0 + 1 })]).alerts).toEqual([]);
  });

  it('compares with the predecessor only', () => {
    const { alerts } = run([
      txn({ txnId: 'a', country: 'FR', eventTime: T0 }),
      txn({ txnId: 'b', country: 'DE', eventTime: T0 + 1_000 }),
      txn({ txnId: 'c', country: 'DE', eventTime: T0 + 2_000 }),
    ]);
    expect(alerts.map((a) => a.txnIds)).toEqual([['a', 'b']]);
  });
});

describe('rule state across invocations', () => {
  /** What Lambda does with the returned state: JSON out, JSON back in. */
  const roundTrip = (state: RuleState) => parseRuleState(JSON.parse(JSON.stringify(state)));

  it('completes R1 and R2 with transactions from the previous invocation', () => {
    const first = run([large('t-1', 0, { country: 'FR' }), large('t-2', 10_000, { country: 'FR' })]);
    expect(first.alerts).toEqual([]);
    const carried = roundTrip(first.rules.snapshot().state);
    expect(carried.problem).toBeUndefined();

    const second = run([large('t-3', 20_000, { country: 'ES' })], carried.state, 2);
    expect(second.alerts.map((a) => [a.alertId, a.txnIds])).toEqual([
      [`R2:card-000042:${T0 + 10_000}`, ['t-2', 't-3']],
      [`R1:card-000042:${T0}`, ['t-1', 't-2', 't-3']],
    ]);
  });

  it('skips records the state already holds, so a redelivery neither re-fires nor double-counts', () => {
    const first = run([large('t-1', 0), large('t-2', 1_000), large('t-3', 2_000)]);
    expect(first.alerts).toHaveLength(1);
    const carried = roundTrip(first.rules.snapshot().state).state;
    expect(carried.processedThrough).toBe(sequenceNumber(0, 2));
    // Lambda redelivers from position 1: t-2 and t-3 again, then a new t-4.
    const again = run([large('t-2', 1_000), large('t-3', 2_000), large('t-4', 3_000)], carried, 1);
    expect(again.redelivered).toBe(2);
    expect(again.alerts).toEqual([]); // t-4 alone is not a burst: t-2 and t-3 were consumed by the first match
    expect(again.rules.snapshot().state.cards['card-000042'].largePending).toEqual([{ txnId: 't-4', eventTime: T0 + 3_000 }]);
  });

  it('counts a txnId once within a batch and against the card rule memory', () => {
    const within = run([large('t-1', 0), large('t-1', 0), large('t-1', 0)]);
    expect(within.duplicates).toBe(2);
    expect(within.alerts).toEqual([]);

    const first = run([txn({ txnId: 'p', country: 'FR' })]);
    // The producer sent p again (new sequence number, next batch): it must not look like a second transaction.
    const again = run([txn({ txnId: 'p', country: 'FR' })], roundTrip(first.rules.snapshot().state).state, 1);
    expect(again.duplicates).toBe(1);
  });

  it('starts afresh from the empty {} Lambda passes at a window start, and reports unreadable state', () => {
    expect(parseRuleState({})).toEqual({ state: EMPTY_RULE_STATE });
    const broken = parseRuleState({ version: 2, cards: [] });
    expect(broken.state).toEqual(EMPTY_RULE_STATE);
    expect(broken.problem).toContain('version');
  });
});

describe('rule state bound', () => {
  it('prunes what is beyond every rule horizon, measured in event time', () => {
    const { rules } = run([
      txn({ txnId: 'old', cardId: 'card-old', eventTime: T0 }),
      large('recent-large', 200_000, { cardId: 'card-new' }),
      txn({ txnId: 'now', cardId: 'card-new', eventTime: T0 + 301_000 }),
    ]);
    const { state } = rules.snapshot();
    expect(state).toEqual({
      version: 1,
      maxEventTime: T0 + 301_000,
      processedThrough: sequenceNumber(0, 2),
      cards: {
        // card-old: its previous transaction is more than 5 min (R2) before the newest event
        // card-new: its large transaction is 101 s old, beyond R1's 60 s
        'card-new': { previous: { txnId: 'now', eventTime: T0 + 301_000, country: 'FR' }, largePending: [] },
      },
    });
  });

  it('does not let one event stamped far in the future prune every card', () => {
    const { rules, alerts } = run([
      large('a', 0, { cardId: 'card-1' }),
      txn({ txnId: 'b', cardId: 'card-2', eventTime: T0 + 10_000 }),
      large('from-the-future', 365 * 86_400_000, { cardId: 'card-3' }), // a producer clock a year ahead
    ]);
    expect(alerts).toEqual([]);
    const { state } = rules.snapshot();
    expect(state.maxEventTime).toBe(T0 + 10_000);
    expect(Object.keys(state.cards).sort()).toEqual(['card-1', 'card-2', 'card-3']);
  });

  it('caps the serialized size by forgetting the cards quiet the longest', () => {
    const many = Array.from({ length: 2_000 }, (_, i) =>
      txn({ txnId: `t-${i}`, cardId: `card-${String(i).padStart(6, '0')}`, eventTime: T0 + i * 10 }),
    );
    const { rules } = run(many);
    const capped = rules.snapshot(20_000);
    expect(capped.bytes).toBeLessThanOrEqual(20_000);
    expect(capped.bytes).toBe(Buffer.byteLength(JSON.stringify(capped.state)));
    expect(capped.cardsEvicted).toBeGreaterThan(1_000);
    const kept = Object.keys(capped.state.cards);
    expect(kept.length + capped.cardsEvicted).toBe(2_000);
    expect(kept).toContain('card-001999');
    expect(kept).not.toContain('card-000000');
  });

  it('stays far below Lambda 1 MB per shard by default', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => txn({ txnId: `t-${i}`, cardId: `card-${i}`, eventTime: T0 + i }));
    const snapshot = run(many).rules.snapshot();
    expect(snapshot.bytes).toBeLessThanOrEqual(256 * 1024);
    expect(snapshot.cardsEvicted).toBeGreaterThan(0);
  });
});
