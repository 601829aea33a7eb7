import { z } from 'zod';
import { cardFraud, type CardFraudRules } from '../../products/card-fraud';
import { toCents, type Transaction } from '../shared/transaction';

/**
 * Fraud rules R1 and R2 (docs/reference-product.md) on ARRIVAL order, with
 * per-card memory that survives across batches through the Kinesis tumbling
 * window's `state`. R3 needs every card's running average (unbounded state), so
 * the speed layer leaves it to stream processing.
 */

/**
 * The parameters of R1 and R2, from the product definition (products/card-fraud/product.json). The deployed
 * function reads them from its environment (env.ts, filled by lib/speed-layer-environment.ts); the default is
 * the definition itself, for callers that run the core without an environment.
 */
export type SpeedRuleParameters = Pick<CardFraudRules, 'R1' | 'R2'>;

/**
 * How far ahead of processing time an event may claim to be and still move the
 * pruning clock. A record stamped far in the future (a bad producer clock) is
 * still evaluated by the rules, but must not prune every card's memory at once.
 */
export const CLOCK_FUTURE_TOLERANCE_MS = 300_000;
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
  /**
   * Sequence number of the last record whose effect the state holds. Lambda only ever redelivers a shard
   * from a checkpoint, so a record at or below it is a redelivery: one string makes retries idempotent.
   */
  processedThrough: z.string().regex(/^\d+$/).optional(),
  cards: z
    .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'expected an object of cards')
    .transform((cards, ctx) => {
      // Not z.record: it copies entries by assignment, so a card id `__proto__` (a valid id) set the copy's
      // prototype instead of a key, and that card lost its R1/R2 memory between invocations. Object.entries and
      // Object.fromEntries define own properties whatever the name.
      const parsed: Array<[string, z.infer<typeof cardStateSchema>]> = [];
      for (const [cardId, raw] of Object.entries(cards)) {
        const card = cardStateSchema.safeParse(raw);
        if (card.success) parsed.push([cardId, card.data]);
        else for (const issue of card.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: [cardId, ...issue.path] });
      }
      return Object.fromEntries(parsed);
    }),
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
  previous?: TimedTxn & { country: string };
  largePending: TimedTxn[];
}

/** Order of two sequence numbers (or offsets): decimal strings without leading zeros, of any length. */
function compareSequenceNumbers(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
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
  /** txnIds of this invocation: duplicates are removed within a batch (docs/reference-product.md). */
  private readonly batchTxnIds = new Set<string>();
  private maxEventTime: number;
  private processedThrough: string | undefined;

  constructor(
    state: RuleState,
    /** Processing time stamped on every alert. */
    private readonly detectedAt: number,
    private readonly params: SpeedRuleParameters = cardFraud.rules,
  ) {
    this.maxEventTime = state.maxEventTime;
    this.processedThrough = state.processedThrough;
    for (const [cardId, card] of Object.entries(state.cards)) {
      this.cards.set(cardId, { previous: card.previous, largePending: [...card.largePending] });
    }
  }

  /**
   * Feed one transaction in log order, with its record's sequence number. Returns the alerts it completes,
   * `redelivered` if the state already holds its effect, or `duplicate` if its txnId already occurred in this
   * batch or is one the card's rule memory holds.
   */
  observe(txn: Transaction, sequenceNumber: string): Alert[] | 'redelivered' | 'duplicate' {
    if (this.processedThrough !== undefined && compareSequenceNumbers(sequenceNumber, this.processedThrough) <= 0) {
      return 'redelivered';
    }
    this.processedThrough = sequenceNumber;
    const card = this.cardMemory(txn.cardId);
    const remembered = card.previous?.txnId === txn.txnId || card.largePending.some((t) => t.txnId === txn.txnId);
    if (this.batchTxnIds.has(txn.txnId) || remembered) return 'duplicate';
    this.batchTxnIds.add(txn.txnId);
    if (txn.eventTime <= this.detectedAt + CLOCK_FUTURE_TOLERANCE_MS) this.maxEventTime = Math.max(this.maxEventTime, txn.eventTime);

    const alerts: Alert[] = [];
    const current = { txnId: txn.txnId, eventTime: txn.eventTime };

    // R2: a change of country less than R2.withinMs after the previous transaction.
    const previous = card.previous;
    if (previous && previous.country !== txn.country && Math.abs(txn.eventTime - previous.eventTime) < this.params.R2.withinMs) {
      alerts.push(this.alert('R2', txn, [previous, current]));
    }
    // A literal rather than a spread of `current`: the spread was the costliest line of the rules (bench/README.md).
    card.previous = { txnId: txn.txnId, eventTime: txn.eventTime, country: txn.country };

    // R1: three large transactions within R1.withinMs; a match consumes all three (skip past last event).
    if (toCents(txn.amount) > this.params.R1.largeAboveCents) {
      card.largePending.push(current);
      if (card.largePending.length === 3) {
        const times = card.largePending.map((t) => t.eventTime);
        if (Math.max(...times) - Math.min(...times) < this.params.R1.withinMs) {
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
        ...(card.previous ? { previous: card.previous } : {}),
        largePending: card.largePending,
      };
      const latest = Math.max(card.previous?.eventTime ?? 0, ...card.largePending.map((t) => t.eventTime));
      // JSON.stringify of the entry `"<cardId>":<card>,` (ids are ASCII, so characters are bytes).
      const bytes = JSON.stringify(cardId).length + 2 + JSON.stringify(serialized).length;
      return { cardId, serialized, latest, bytes };
    });

    const header = { version: 1 as const, maxEventTime: this.maxEventTime, processedThrough: this.processedThrough };
    const envelope = JSON.stringify({ ...header, cards: {} }).length;
    let total = envelope + entries.reduce((sum, e) => sum + e.bytes, 0);
    // At the cap, forget the cards that have been quiet longest: they are the least likely to complete a rule.
    entries.sort((a, b) => a.latest - b.latest);
    let cardsEvicted = 0;
    while (total > maxBytes && cardsEvicted < entries.length) {
      total -= entries[cardsEvicted].bytes;
      cardsEvicted += 1;
    }
    const kept = entries.slice(cardsEvicted);
    const state: RuleState = { ...header, cards: Object.fromEntries(kept.map((e) => [e.cardId, e.serialized])) };
    return { state, bytes: Buffer.byteLength(JSON.stringify(state)), cardsEvicted };
  }

  private cardMemory(cardId: string): CardMemory {
    let card = this.cards.get(cardId);
    if (!card) {
      card = { largePending: [] };
      this.cards.set(cardId, card);
    }
    return card;
  }

  /** Drop what no rule can use any more, measured against the shard's event-time clock. */
  private prune(): void {
    const r1Cutoff = this.maxEventTime - this.params.R1.withinMs;
    const r2Cutoff = this.maxEventTime - this.params.R2.withinMs;
    for (const [cardId, card] of this.cards) {
      if (card.previous && card.previous.eventTime < r2Cutoff) card.previous = undefined;
      card.largePending = card.largePending.filter((t) => t.eventTime >= r1Cutoff);
      if (!card.previous && card.largePending.length === 0) this.cards.delete(cardId);
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
