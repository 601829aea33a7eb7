import { z } from 'zod';
import { toCents, type Transaction } from '../shared/transaction';

/**
 * Fraud rules R1 and R2 (docs/reference-product.md) on ARRIVAL order, with
 * per-card memory that survives across batches through the Kinesis tumbling
 * window's `state`. R3 needs every card's running average (unbounded state), so
 * the speed layer leaves it to stream processing.
 */

/** R1 counts transactions with amount > 100. */
export const R1_LARGE_AMOUNT_CENTS = 100_00;
/** R1: three large transactions spanning less than 60 s. */
export const R1_WITHIN_MS = 60_000;
/** R2: two countries less than 5 min apart. */
export const R2_WITHIN_MS = 300_000;
/** How long a txnId is remembered for deduplication: the longest horizon of any rule. */
export const DEDUPE_HORIZON_MS = Math.max(R1_WITHIN_MS, R2_WITHIN_MS);
/** Lambda allows 1 MB of window state per shard and ends the window early beyond it; stay well below. */
export const DEFAULT_STATE_MAX_BYTES = 256 * 1024;

export interface Alert {
  /** `<rule>:<cardId>:<windowStart>`, equal across speed, stream and batch paths. */
  alertId: string;
  rule: 'R1' | 'R2';
  cardId: string;
  customerId: string;
  windowStart: number;
  txnIds: string[];
  detectedBy: 'speed';
  detectedAt: number;
}

const timedTxn = z.object({ txnId: z.string(), eventTime: z.number() });

const cardStateSchema = z.object({
  /** txnId -> eventTime of every transaction within the dedupe horizon. */
  seen: z.record(z.string(), z.number()),
  /** R2: the card's previous transaction in arrival order. */
  previous: timedTxn.extend({ country: z.string() }).optional(),
  /** R1: large transactions since the last match, at most two between invocations. */
  largePending: z.array(timedTxn),
});

/** The serialized state carried by the tumbling window; `version` lets a deployment change it safely. */
export const ruleStateSchema = z.object({
  version: z.literal(1),
  /** Highest eventTime seen in this shard and window: the clock pruning is measured against. */
  maxEventTime: z.number(),
  cards: z.record(z.string(), cardStateSchema),
});

export type RuleState = z.infer<typeof ruleStateSchema>;
type CardState = z.infer<typeof cardStateSchema>;
type TimedTxn = z.infer<typeof timedTxn>;

export const EMPTY_RULE_STATE: RuleState = { version: 1, maxEventTime: 0, cards: {} };

/**
 * Read the state Lambda passed in. `{}` (a window's first invocation) is the empty state;
 * anything else unreadable is reported and replaced by the empty state rather than failing the shard.
 */
export function parseRuleState(raw: Record<string, unknown>): { state: RuleState; problem?: string } {
  if (Object.keys(raw).length === 0) return { state: EMPTY_RULE_STATE };
  const result = ruleStateSchema.safeParse(raw);
  if (result.success) return { state: result.data };
  return { state: EMPTY_RULE_STATE, problem: z.prettifyError(result.error) };
}

interface CardMemory {
  seen: Map<string, number>;
  previous?: TimedTxn & { country: string };
  largePending: TimedTxn[];
}

export interface StateSnapshot {
  state: RuleState;
  /** Serialized size in bytes, as Lambda counts it against its per-shard limit. */
  bytes: number;
  /** Cards dropped because the state reached its size cap (their R1/R2 context is lost). */
  cardsEvicted: number;
}

const byEventTimeThenTxnId = (a: TimedTxn, b: TimedTxn): number =>
  a.eventTime - b.eventTime || (a.txnId < b.txnId ? -1 : a.txnId > b.txnId ? 1 : 0);

export class FraudRules {
  private readonly cards = new Map<string, CardMemory>();
  private maxEventTime: number;

  constructor(
    state: RuleState,
    /** Processing time stamped on every alert. */
    private readonly detectedAt: number,
  ) {
    this.maxEventTime = state.maxEventTime;
    for (const [cardId, card] of Object.entries(state.cards)) {
      this.cards.set(cardId, {
        seen: new Map(Object.entries(card.seen)),
        previous: card.previous,
        largePending: [...card.largePending],
      });
    }
  }

  /** Feed one transaction in arrival order; returns the alerts it completes, or `duplicate` if its txnId was already seen. */
  observe(txn: Transaction): Alert[] | 'duplicate' {
    const card = this.cardMemory(txn.cardId);
    if (card.seen.has(txn.txnId)) return 'duplicate';
    card.seen.set(txn.txnId, txn.eventTime);
    this.maxEventTime = Math.max(this.maxEventTime, txn.eventTime);

    const alerts: Alert[] = [];
    const current = { txnId: txn.txnId, eventTime: txn.eventTime };

    // R2: a change of country less than 5 minutes after the previous transaction.
    const previous = card.previous;
    if (previous && previous.country !== txn.country && Math.abs(txn.eventTime - previous.eventTime) < R2_WITHIN_MS) {
      alerts.push(this.alert('R2', txn, [previous, current]));
    }
    card.previous = { ...current, country: txn.country };

    // R1: three large transactions within 60 s; a match consumes all three (skip past last event).
    if (toCents(txn.amount) > R1_LARGE_AMOUNT_CENTS) {
      card.largePending.push(current);
      if (card.largePending.length === 3) {
        const times = card.largePending.map((t) => t.eventTime);
        if (Math.max(...times) - Math.min(...times) < R1_WITHIN_MS) {
          alerts.push(this.alert('R1', txn, card.largePending));
          card.largePending = [];
        } else {
          card.largePending.shift();
        }
      }
    }
    return alerts;
  }

  /** The state to hand back to Lambda: pruned beyond each rule's horizon, then capped in size. */
  snapshot(maxBytes: number = DEFAULT_STATE_MAX_BYTES): StateSnapshot {
    this.prune();
    const entries = [...this.cards].map(([cardId, card]) => {
      const serialized: CardState = {
        seen: Object.fromEntries(card.seen),
        ...(card.previous ? { previous: card.previous } : {}),
        largePending: card.largePending,
      };
      const latest = Math.max(...card.seen.values());
      // JSON.stringify of the entry `"<cardId>":<card>,` (ids are ASCII, so characters are bytes).
      const bytes = JSON.stringify(cardId).length + 2 + JSON.stringify(serialized).length;
      return { cardId, serialized, latest, bytes };
    });

    const envelope = JSON.stringify({ ...EMPTY_RULE_STATE, maxEventTime: this.maxEventTime }).length;
    let total = envelope + entries.reduce((sum, e) => sum + e.bytes, 0);
    // At the cap, forget the cards that have been quiet longest: they are the least likely to complete a rule.
    entries.sort((a, b) => a.latest - b.latest);
    let cardsEvicted = 0;
    while (total > maxBytes && cardsEvicted < entries.length) {
      total -= entries[cardsEvicted].bytes;
      cardsEvicted += 1;
    }
    const kept = entries.slice(cardsEvicted);
    const state: RuleState = {
      version: 1,
      maxEventTime: this.maxEventTime,
      cards: Object.fromEntries(kept.map((e) => [e.cardId, e.serialized])),
    };
    return { state, bytes: Buffer.byteLength(JSON.stringify(state)), cardsEvicted };
  }

  private cardMemory(cardId: string): CardMemory {
    let card = this.cards.get(cardId);
    if (!card) {
      card = { seen: new Map(), largePending: [] };
      this.cards.set(cardId, card);
    }
    return card;
  }

  /** Drop what no rule can use any more, measured against the shard's event-time clock. */
  private prune(): void {
    const dedupeCutoff = this.maxEventTime - DEDUPE_HORIZON_MS;
    const r1Cutoff = this.maxEventTime - R1_WITHIN_MS;
    for (const [cardId, card] of this.cards) {
      for (const [txnId, eventTime] of card.seen) {
        if (eventTime < dedupeCutoff) card.seen.delete(txnId);
      }
      if (card.previous && card.previous.eventTime < this.maxEventTime - R2_WITHIN_MS) card.previous = undefined;
      card.largePending = card.largePending.filter((t) => t.eventTime >= r1Cutoff);
      if (card.seen.size === 0) this.cards.delete(cardId);
    }
  }

  private alert(rule: Alert['rule'], txn: Transaction, members: readonly TimedTxn[]): Alert {
    const ordered = [...members].sort(byEventTimeThenTxnId);
    const windowStart = ordered[0].eventTime;
    return {
      alertId: `${rule}:${txn.cardId}:${windowStart}`,
      rule,
      cardId: txn.cardId,
      customerId: txn.customerId,
      windowStart,
      txnIds: ordered.map((t) => t.txnId),
      detectedBy: 'speed',
      detectedAt: this.detectedAt,
    };
  }
}
