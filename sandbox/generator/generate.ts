import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';
import { defaultConfig } from '../../lib/config/defaults';
import { cardFraud, type CardFraudProduct } from '../../products/card-fraud';
import transactionSchema from '../../schemas/transaction.schema.json';
import type { Transaction } from '../../lambdas/shared/transaction';
import {
  DEFAULT_RATES,
  MALFORMED_KINDS,
  MALFORMED_REASON,
  UNKEYED,
  type CardProfile,
  type GeneratedWorkload,
  type Incident,
  type InjectionRates,
  type KnownGroundTruth,
  type LabelledRecord,
  type MalformedKind,
  type RecordLabel,
  type Rule,
  type WorkloadOptions,
} from './types';

/**
 * The deterministic workload generator: background card traffic plus labelled
 * fraud incidents, out-of-order, late, duplicate and malformed records.
 *
 * Pure: the output depends only on the options (no clock, no I/O, no global
 * randomness), so the same options give byte-identical records.
 *
 * The amounts, the burst pacing and the rules' parameters are the product definition's
 * (products/card-fraud/product.json, `generator` and `rules`; the values below are today's), and
 * its validation guarantees the inequalities this relies on.
 *
 * How the ground truth is kept exact (docs/reference-product.md, rules R1-R3):
 * - Background amounts are 20.00..95.00 in the card's home country. Never > 100 (no R1), never a
 *   country change (no R2), and since every amount of every card is >= 20.00, 10x any mean is
 *   >= 200.00 > 95.00 (no R3).
 * - R1 incident: three amounts 100.01..199.99 in one burst (< 60 s). They are < 200.00 <= 10x any
 *   mean, so never R3. Large amounts only come from incidents, and a card's next incident starts
 *   >= R1.withinMs after its last large amount, so bursts never combine.
 * - R2 incident: a home-country anchor A, then a foreign transaction F right after it; the alert
 *   is `R2:<card>:<A.eventTime>` over [A, F]. Going back home is a second hop unless >= R2.withinMs
 *   later, so the card then produces NOTHING (of any kind, duplicates included) with an event time
 *   < F.eventTime + R2.withinMs: the hop back is never an alert, and the ground truth is one alert.
 * - R3 incident: one amount > 10x the exact mean (in cents) of the card's earlier on-time
 *   transactions, on a card with >= 5 of them and no late event (a late event may or may not be
 *   counted by a path, which would move the mean). After it nothing of the card may land at or
 *   before it in event time, so "earlier" stays exactly what the generator counted.
 * - Incident events are on time: their event time is >= every event time produced before them.
 * - Out-of-order events are 1..maxOutOfOrderness ms behind the highest event time produced before
 *   them (so never behind a watermark); late events are more than maxOutOfOrderness +
 *   allowedLateness + lateMarginMs behind it. Both, and duplicates and malformed records, are
 *   background traffic and so can never trigger a rule.
 */

const SCHEMA_MIN_EVENT_TIME = transactionSchema.properties.eventTime.minimum;
const SCHEMA_MAX_EVENT_TIME = transactionSchema.properties.eventTime.maximum;
const SCHEMA_MAX_AMOUNT_CENTS = transactionSchema.properties.amount.maximum * 100;

const MAX_RECORDS = 10_000_000;
const CARD_PICK_ATTEMPTS = 64;

const COUNTRIES: ReadonlyArray<readonly [country: string, currency: string]> = [
  ['US', 'USD'],
  ['GB', 'GBP'],
  ['DE', 'EUR'],
  ['FR', 'EUR'],
  ['ES', 'EUR'],
  ['IT', 'EUR'],
  ['NL', 'EUR'],
  ['CA', 'CAD'],
  ['AU', 'AUD'],
  ['SE', 'SEK'],
  ['CH', 'CHF'],
  ['JP', 'JPY'],
];
const CHANNELS: ReadonlyArray<Transaction['channel']> = ['POS', 'ECOM', 'ATM', 'CONTACTLESS'];
const SEGMENTS: ReadonlyArray<CardProfile['segment']> = ['consumer', 'business', 'premium'];
const RISK_TIERS: ReadonlyArray<CardProfile['riskTier']> = ['low', 'medium', 'high'];
const MERCHANTS = 2_000;

export type ResolvedOptions = KnownGroundTruth['options'];

class Random {
  private readonly rng: RandomGenerator;
  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed);
  }
  /** Uniform integer in [from, to], both inclusive. */
  int(from: number, to: number): number {
    return unsafeUniformIntDistribution(from, to, this.rng);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
}

function assertInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/** Fill in defaults and reject options that cannot give a valid workload. */
export function resolveOptions(options: WorkloadOptions, { rules }: CardFraudProduct = cardFraud): ResolvedOptions {
  const { seed, startTime, rate } = options;
  assertInteger('seed', seed, -(2 ** 31), 2 ** 31 - 1);
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`rate must be > 0 events/s, got ${rate}`);
  if ((options.durationSeconds === undefined) === (options.eventCount === undefined)) {
    throw new RangeError('give exactly one of durationSeconds and eventCount');
  }
  const eventCount = options.eventCount ?? Math.round((options.durationSeconds as number) * rate);
  assertInteger('eventCount', eventCount, 0, MAX_RECORDS);
  const endTime = startTime + Math.floor((eventCount * 1000) / rate) + rules.R2.withinMs;
  assertInteger('startTime', startTime, SCHEMA_MIN_EVENT_TIME, SCHEMA_MAX_EVENT_TIME);
  if (endTime > SCHEMA_MAX_EVENT_TIME) throw new RangeError('the run would end beyond the schema maximum eventTime');
  const cards = options.cards ?? 500;
  const customers = options.customers ?? 200;
  assertInteger('cards', cards, 1, 999_999);
  assertInteger('customers', customers, 1, 999_999);
  const rates: InjectionRates = { ...DEFAULT_RATES, ...options.rates };
  let total = 0;
  for (const [name, value] of Object.entries(rates)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`rates.${name} must be >= 0, got ${value}`);
    total += value;
  }
  if (total > 1000) throw new RangeError(`the rates add up to ${total} per 1000 records, more than 1000`);
  const maxOutOfOrdernessMs = options.maxOutOfOrdernessMs ?? defaultConfig.streamProcessing.maxOutOfOrdernessMs;
  const allowedLatenessMs = options.allowedLatenessMs ?? defaultConfig.streamProcessing.allowedLatenessMs;
  const lateMarginMs = options.lateMarginMs ?? 60_000;
  const duplicateDelayMaxRecords = options.duplicateDelayMaxRecords ?? 200;
  const fraudFreeTailSeconds = options.fraudFreeTailSeconds ?? 0;
  if (!Number.isFinite(fraudFreeTailSeconds) || fraudFreeTailSeconds < 0) {
    throw new RangeError(`fraudFreeTailSeconds must be >= 0, got ${fraudFreeTailSeconds}`);
  }
  assertInteger('maxOutOfOrdernessMs', maxOutOfOrdernessMs, 0, 3_600_000);
  assertInteger('allowedLatenessMs', allowedLatenessMs, 0, 3_600_000);
  // The watermark moves in steps of up to 1 s (TransactionWatermarks.EMIT_STEP_MS); a smaller margin
  // could leave a "late" event on time even on a single partition.
  assertInteger('lateMarginMs', lateMarginMs, 1_000, 3_600_000);
  assertInteger('duplicateDelayMaxRecords', duplicateDelayMaxRecords, 1, MAX_RECORDS);
  return {
    seed,
    startTime,
    rate,
    eventCount,
    cards,
    customers,
    rates,
    maxOutOfOrdernessMs,
    allowedLatenessMs,
    lateMarginMs,
    duplicateDelayMaxRecords,
    fraudFreeTailSeconds,
  };
}

/** FNV-1a, 64 bits. */
function fnv1a64(text: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}

/**
 * The run id every txnId starts with: a 64-bit hash of all resolved options (seed and start among
 * them), 13 base-36 characters. Runs with different options get different ids with overwhelming
 * probability (a hash; not a guarantee); the same options always give the same id.
 */
export function runIdOf(options: ResolvedOptions): string {
  const canonical = JSON.stringify(options, Object.keys(options).sort());
  const rates = JSON.stringify(options.rates, Object.keys(options.rates).sort());
  return `r${fnv1a64(`${canonical}|${rates}`).toString(36).padStart(13, '0')}`;
}

/** A record's partition key: its cardId when the data is a JSON object with a string cardId, else UNKEYED. */
export function recordKey(data: string): string {
  try {
    const parsed: unknown = JSON.parse(data);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const cardId = (parsed as Record<string, unknown>).cardId;
      if (typeof cardId === 'string' && cardId.length > 0) return cardId;
    }
  } catch {
    // not JSON: no key of its own
  }
  return UNKEYED;
}

/** The cards and their owners, drawn from the seed. */
function makeCards(random: Random, options: ResolvedOptions): CardProfile[] {
  const cards: CardProfile[] = [];
  for (let j = 0; j < options.cards; j += 1) {
    const [homeCountry, currency] = random.pick(COUNTRIES);
    cards.push({
      cardId: `card-${String(j).padStart(6, '0')}`,
      customerId: `cust-${String(j % options.customers).padStart(6, '0')}`,
      homeCountry,
      currency,
      segment: random.pick(SEGMENTS),
      riskTier: random.pick(RISK_TIERS),
    });
  }
  return cards;
}

/** What the generator must remember per card to keep the ground truth exact. */
interface CardState {
  /** On-time transactions produced so far (each txnId once): the R3 history. */
  onTimeCount: number;
  onTimeCents: number;
  hasLate: boolean;
  /** Earliest event time the card's next incident may start at. */
  incidentFreeFrom: number;
  /** Earliest event time any later record of the card (any kind) may carry. */
  backgroundFreeFrom: number;
}

interface PendingDuplicate {
  due: number;
  record: LabelledRecord;
  originalIndex: number;
  txnId: string;
  card: number;
  eventTime: number;
}

/** Serialized with a fixed key order, so the bytes depend only on the values. */
function serialize(txn: Transaction): string {
  return JSON.stringify({
    txnId: txn.txnId,
    cardId: txn.cardId,
    customerId: txn.customerId,
    merchantId: txn.merchantId,
    amount: txn.amount,
    currency: txn.currency,
    country: txn.country,
    channel: txn.channel,
    eventTime: txn.eventTime,
    schemaVersion: txn.schemaVersion,
  });
}

class Generator {
  private readonly random: Random;
  readonly runId: string;
  readonly cards: CardProfile[];
  private readonly state: CardState[];
  readonly records: LabelledRecord[] = [];
  readonly incidents: Incident[] = [];
  private readonly pending: PendingDuplicate[] = [];
  private maxEventTime: number | undefined;
  private txnSeq = 0;
  /** Event-time spacing of an incident's burst. */
  private readonly burstStep: number;

  constructor(
    private readonly options: ResolvedOptions,
    /** The product definition: the rules' parameters and the workload's amounts and pacing. */
    private readonly product: CardFraudProduct,
  ) {
    this.random = new Random(options.seed);
    this.runId = runIdOf(options);
    this.cards = makeCards(this.random, options);
    this.state = this.cards.map(() => ({
      onTimeCount: 0,
      onTimeCents: 0,
      hasLate: false,
      incidentFreeFrom: -Infinity,
      backgroundFreeFrom: -Infinity,
    }));
    this.burstStep = Math.min(Math.floor(1000 / options.rate), product.generator.burstStepMaxMs);
  }

  run(): void {
    const { eventCount, rates } = this.options;
    const fraudFreeTail = Math.ceil(this.options.fraudFreeTailSeconds * this.options.rate);
    // Cumulative thresholds per million draws.
    const order: Array<keyof InjectionRates> = ['r1', 'r2', 'r3', 'late', 'outOfOrder', 'duplicate', 'malformed'];
    const thresholds: Array<[keyof InjectionRates, number]> = [];
    let cumulative = 0;
    for (const name of order) {
      cumulative += Math.round(rates[name] * 1000);
      thresholds.push([name, cumulative]);
    }
    while (this.records.length < eventCount) {
      if (this.emitDueDuplicate()) continue;
      const draw = this.random.int(0, 999_999);
      const kind = thresholds.find(([, limit]) => draw < limit)?.[0];
      const room = eventCount - this.records.length;
      const fraud = room > fraudFreeTail;
      const done =
        (kind === 'r1' && fraud && room >= 3 && this.fraudR1()) ||
        (kind === 'r2' && fraud && room >= 2 && this.fraudR2()) ||
        (kind === 'r3' && fraud && this.fraudR3()) ||
        (kind === 'late' && this.late()) ||
        (kind === 'outOfOrder' && this.outOfOrder()) ||
        (kind === 'duplicate' && this.duplicated()) ||
        (kind === 'malformed' && this.malformed());
      if (!done) this.normal();
    }
  }

  /** Event time of the next on-time record: its base time, never below what was already produced. */
  private now(): number {
    const index = this.records.length;
    const base = this.options.startTime + Math.floor((index * 1000) / this.options.rate);
    return Math.max(base, this.maxEventTime ?? base);
  }

  private nextTxnId(): string {
    const id = `${this.runId}-${String(this.txnSeq).padStart(8, '0')}`;
    this.txnSeq += 1;
    return id;
  }

  /** A random card satisfying `ok`, or undefined; deterministic (random tries, then a scan from a random start). */
  private pickCard(ok: (state: CardState, card: number) => boolean): number | undefined {
    for (let attempt = 0; attempt < CARD_PICK_ATTEMPTS; attempt += 1) {
      const card = this.random.int(0, this.cards.length - 1);
      if (ok(this.state[card], card)) return card;
    }
    const offset = this.random.int(0, this.cards.length - 1);
    for (let k = 0; k < this.cards.length; k += 1) {
      const card = (offset + k) % this.cards.length;
      if (ok(this.state[card], card)) return card;
    }
    return undefined;
  }

  private transaction(card: number, eventTime: number, cents: number, abroad?: readonly [string, string]): Transaction {
    const profile = this.cards[card];
    return {
      txnId: this.nextTxnId(),
      cardId: profile.cardId,
      customerId: profile.customerId,
      merchantId: `merchant-${String(this.random.int(0, MERCHANTS - 1)).padStart(5, '0')}`,
      amount: cents / 100,
      currency: abroad ? abroad[1] : profile.currency,
      country: abroad ? abroad[0] : profile.homeCountry,
      channel: this.random.pick(CHANNELS),
      eventTime,
      schemaVersion: 1,
    };
  }

  private backgroundCents(): number {
    const { min, max } = this.product.generator.backgroundCents;
    return this.random.int(min, max);
  }

  /** Append a valid transaction and account for it. */
  private emit(card: number, txn: Transaction, label: RecordLabel): LabelledRecord {
    const record: LabelledRecord = { key: txn.cardId, data: serialize(txn), label };
    this.records.push(record);
    this.maxEventTime = Math.max(this.maxEventTime ?? txn.eventTime, txn.eventTime);
    const state = this.state[card];
    if (label.kind === 'late') {
      state.hasLate = true;
    } else {
      state.onTimeCount += 1;
      state.onTimeCents += Math.round(txn.amount * 100);
    }
    return record;
  }

  private emitDueDuplicate(): boolean {
    const index = this.records.length;
    while (this.pending.length > 0 && this.pending[0].due <= index) {
      const dup = this.pending.shift() as PendingDuplicate;
      // A card under an incident's protection gets nothing old any more, not even a copy.
      if (dup.eventTime < this.state[dup.card].backgroundFreeFrom) continue;
      this.records.push({
        key: dup.record.key,
        data: dup.record.data,
        label: { kind: 'duplicate', of: dup.txnId, originalIndex: dup.originalIndex },
      });
      return true;
    }
    return false;
  }

  /** Background: a card free at `now`, or else the card free soonest, at the time it is free. */
  private normal(): { record: LabelledRecord; card: number; txn: Transaction } {
    const now = this.now();
    let card = this.pickCard((s) => s.backgroundFreeFrom <= now);
    let eventTime = now;
    if (card === undefined) {
      card = this.state.reduce((best, s, j) => (s.backgroundFreeFrom < this.state[best].backgroundFreeFrom ? j : best), 0);
      eventTime = this.state[card].backgroundFreeFrom;
    }
    const txn = this.transaction(card, eventTime, this.backgroundCents());
    return { record: this.emit(card, txn, { kind: 'normal' }), card, txn };
  }

  private duplicated(): boolean {
    const index = this.records.length;
    const { record, card, txn } = this.normal();
    const due = index + this.random.int(1, this.options.duplicateDelayMaxRecords);
    const entry: PendingDuplicate = { due, record, originalIndex: index, txnId: txn.txnId, card, eventTime: txn.eventTime };
    const at = this.pending.findIndex((p) => p.due > due);
    this.pending.splice(at < 0 ? this.pending.length : at, 0, entry);
    return true;
  }

  private outOfOrder(): boolean {
    if (this.maxEventTime === undefined || this.options.maxOutOfOrdernessMs < 1) return false;
    const behindMs = this.random.int(1, this.options.maxOutOfOrdernessMs);
    const eventTime = this.maxEventTime - behindMs;
    const card = this.pickCard((s) => s.backgroundFreeFrom <= eventTime);
    if (card === undefined) return false;
    this.emit(card, this.transaction(card, eventTime, this.backgroundCents()), { kind: 'out-of-order', behindMs });
    return true;
  }

  private late(): boolean {
    if (this.maxEventTime === undefined) return false;
    const { maxOutOfOrdernessMs, allowedLatenessMs, lateMarginMs } = this.options;
    const behindMs = maxOutOfOrdernessMs + allowedLatenessMs + lateMarginMs + this.random.int(1, lateMarginMs);
    const eventTime = this.maxEventTime - behindMs;
    if (eventTime < SCHEMA_MIN_EVENT_TIME) return false;
    const card = this.pickCard((s) => s.backgroundFreeFrom <= eventTime);
    if (card === undefined) return false;
    this.emit(card, this.transaction(card, eventTime, this.backgroundCents()), { kind: 'late', behindMs });
    return true;
  }

  private malformed(): boolean {
    const now = this.now();
    const card = this.random.int(0, this.cards.length - 1);
    const txn = this.transaction(card, now, this.backgroundCents());
    const kind: MalformedKind = this.random.pick(MALFORMED_KINDS);
    const fields: Record<string, unknown> = JSON.parse(serialize(txn));
    let data: string;
    switch (kind) {
      case 'not_json':
        data = `txn ${txn.txnId} card=${txn.cardId} amount=${txn.amount}`;
        break;
      case 'truncated_json': {
        const full = serialize(txn);
        data = full.slice(0, this.random.int(1, full.length - 2));
        break;
      }
      case 'missing_field': {
        const required = transactionSchema.required;
        delete fields[required[this.random.int(0, required.length - 1)]];
        data = JSON.stringify(fields);
        break;
      }
      case 'bad_type':
        fields.amount = String(txn.amount);
        data = JSON.stringify(fields);
        break;
      case 'non_positive_amount':
        fields.amount = this.random.int(0, 1) === 0 ? 0 : -txn.amount;
        data = JSON.stringify(fields);
        break;
      case 'too_many_decimals':
        fields.amount = Number(`${Math.trunc(txn.amount)}.${String(this.random.int(1, 999)).padStart(3, '0')}5`);
        data = JSON.stringify(fields);
        break;
      case 'bad_channel':
        fields.channel = 'CHEQUE';
        data = JSON.stringify(fields);
        break;
      case 'unknown_field':
        fields.note = 'not in the schema';
        data = JSON.stringify(fields);
        break;
    }
    this.records.push({ key: recordKey(data), data, label: { kind: 'malformed', malformation: kind, reason: MALFORMED_REASON[kind] } });
    return true;
  }

  private incident(rule: Rule, card: number, txns: readonly Transaction[], members: readonly Transaction[]): void {
    const incidentId = `${this.runId}-inc${String(this.incidents.length).padStart(5, '0')}`;
    for (const txn of txns) this.emit(card, txn, { kind: 'fraud', rule, incidentId });
    const profile = this.cards[card];
    const windowStart = members[0].eventTime;
    this.incidents.push({
      incidentId,
      rule,
      cardId: profile.cardId,
      customerId: profile.customerId,
      txnIds: members.map((t) => t.txnId),
      alertId: `${rule}:${profile.cardId}:${windowStart}`,
      windowStart,
    });
  }

  private incidentCard(now: number, extra: (s: CardState) => boolean = () => true): number | undefined {
    return this.pickCard((s) => s.incidentFreeFrom <= now && s.backgroundFreeFrom <= now && extra(s));
  }

  private fraudR1(): boolean {
    const now = this.now();
    const card = this.incidentCard(now);
    if (card === undefined) return false;
    const { min, max } = this.product.generator.burstCents;
    const txns = [0, 1, 2].map((j) => this.transaction(card, now + j * this.burstStep, this.random.int(min, max)));
    this.incident('R1', card, txns, txns);
    this.state[card].incidentFreeFrom = txns[2].eventTime + this.product.rules.R1.withinMs;
    return true;
  }

  private fraudR2(): boolean {
    const now = this.now();
    const card = this.incidentCard(now);
    if (card === undefined) return false;
    const home = this.cards[card].homeCountry;
    const abroad = this.random.pick(COUNTRIES.filter(([country]) => country !== home));
    const anchor = this.transaction(card, now, this.backgroundCents());
    const hop = this.transaction(card, now + this.burstStep, this.backgroundCents(), abroad);
    this.incident('R2', card, [anchor, hop], [anchor, hop]);
    const state = this.state[card];
    state.incidentFreeFrom = hop.eventTime + this.product.rules.R2.withinMs;
    state.backgroundFreeFrom = hop.eventTime + this.product.rules.R2.withinMs;
    return true;
  }

  /** The smallest amount in cents strictly over R3's factor times the card's mean: cents * count > factor * sum. */
  private spikeCents(state: CardState): number {
    return Math.floor((this.product.rules.R3.factor * state.onTimeCents) / state.onTimeCount) + 1;
  }

  private fraudR3(): boolean {
    const now = this.now();
    const card = this.incidentCard(
      now,
      (s) => s.onTimeCount >= this.product.rules.R3.minHistory && !s.hasLate && this.spikeCents(s) * 1.5 <= SCHEMA_MAX_AMOUNT_CENTS,
    );
    if (card === undefined) return false;
    const state = this.state[card];
    const least = this.spikeCents(state);
    const cents = least + this.random.int(0, Math.floor(least / 2));
    const spike = this.transaction(card, now, cents);
    this.incident('R3', card, [spike], [spike]);
    state.incidentFreeFrom = spike.eventTime + this.product.rules.R1.withinMs;
    state.backgroundFreeFrom = Math.max(state.backgroundFreeFrom, spike.eventTime + 1);
    return true;
  }
}

/**
 * Generate a workload: the records to produce, in order, with labels, and the ground truth.
 * Deterministic: the same options give byte-identical output.
 */
export function generateWorkload(options: WorkloadOptions, product: CardFraudProduct = cardFraud): GeneratedWorkload {
  const resolved = resolveOptions(options, product);
  const generator = new Generator(resolved, product);
  generator.run();
  return {
    records: generator.records,
    groundTruth: {
      known: true,
      runId: generator.runId,
      options: resolved,
      incidents: generator.incidents,
      cards: generator.cards,
    },
  };
}
