import type { InvalidReason } from '../../lambdas/shared/transaction';

/**
 * The generator's vocabulary: what a run produces, how each record is labelled,
 * and the ground truth a detection is scored against. See docs/reference-product.md.
 */

export type Rule = 'R1' | 'R2' | 'R3';
export const RULES: readonly Rule[] = ['R1', 'R2', 'R3'];

/** How a malformed record was broken; each maps to the reason the project validator gives. */
export type MalformedKind =
  | 'not_json'
  | 'truncated_json'
  | 'missing_field'
  | 'bad_type'
  | 'non_positive_amount'
  | 'too_many_decimals'
  | 'bad_channel'
  | 'unknown_field';

/** The reason `validateTransaction` (lambdas/shared/transaction.ts) gives for each kind. */
export const MALFORMED_REASON: Readonly<Record<MalformedKind, InvalidReason>> = {
  not_json: 'bad_json',
  truncated_json: 'bad_json',
  missing_field: 'schema_violation',
  bad_type: 'schema_violation',
  non_positive_amount: 'schema_violation',
  too_many_decimals: 'schema_violation',
  bad_channel: 'schema_violation',
  unknown_field: 'schema_violation',
};

export const MALFORMED_KINDS = Object.keys(MALFORMED_REASON) as MalformedKind[];

/** What a produced record is. Every label but `recorded` comes from the generator, which knows. */
export type RecordLabel =
  /** Background traffic, on time, in order. */
  | { kind: 'normal' }
  /** One event of an injected fraud incident; always on time, never duplicated or malformed. */
  | { kind: 'fraud'; rule: Rule; incidentId: string }
  /**
   * Background traffic whose event time is `behindMs` (1..maxOutOfOrderness) behind the highest event
   * time produced before it: out of order, yet never behind any watermark, so on time for every window.
   */
  | { kind: 'out-of-order'; behindMs: number }
  /**
   * Background traffic whose event time is `behindMs` behind the highest event time produced before it,
   * where `behindMs` > maxOutOfOrderness + allowedLateness + the generator's late margin.
   */
  | { kind: 'late'; behindMs: number }
  /** The very same record (byte-identical data, same txnId) as the one produced at `originalIndex`. */
  | { kind: 'duplicate'; of: string; originalIndex: number }
  /** Not a valid Transaction; `reason` is what the project validator must say. */
  | { kind: 'malformed'; malformation: MalformedKind; reason: InvalidReason }
  /** Read from a recorded file: what it is is not known. */
  | { kind: 'recorded' };

/** One record to produce, in order. Compatible with the sandbox log's `ProducedRecord`. */
export interface LabelledRecord {
  /** Partition key: the cardId, or {@link UNKEYED} when the data has no readable cardId. */
  key: string;
  /** The record's payload exactly as produced (UTF-8 text). */
  data: string;
  label: RecordLabel;
}

/** The partition key of a record whose data has no readable cardId. */
export const UNKEYED = 'unkeyed';

/** Rates per 1000 produced records. */
export interface InjectionRates {
  /** R1 incidents (3 records each). */
  r1: number;
  /** R2 incidents (2 records each). */
  r2: number;
  /** R3 incidents (1 record each). */
  r3: number;
  outOfOrder: number;
  late: number;
  /** Records that are produced a second time later (the second copy is the `duplicate` record). */
  duplicate: number;
  malformed: number;
}

export interface WorkloadOptions {
  /** Seed of the PRNG, a 32-bit signed integer. */
  seed: number;
  /** Epoch ms; record i has base event time `startTime + floor(i * 1000 / rate)`. */
  startTime: number;
  /** Records per second of simulated (event) time. */
  rate: number;
  /** How much simulated time to cover: `round(durationSeconds * rate)` records. Give this or `eventCount`. */
  durationSeconds?: number;
  /** Exactly how many records to produce (including incidents, duplicates and malformed records). */
  eventCount?: number;
  /** Default 500. */
  cards?: number;
  /** Default 200; card j belongs to customer j mod customers. */
  customers?: number;
  /** Per 1000 records; defaults in {@link DEFAULT_RATES}. */
  rates?: Partial<InjectionRates>;
  /** Bounded out-of-orderness of the watermarks; default `defaultConfig.streamProcessing.maxOutOfOrdernessMs`. */
  maxOutOfOrdernessMs?: number;
  /** Allowed lateness; default `defaultConfig.streamProcessing.allowedLatenessMs`. */
  allowedLatenessMs?: number;
  /**
   * How far beyond maxOutOfOrderness + allowedLateness a late event is placed, at least (a further
   * random 0..lateMarginMs is added). Default 60000. It is what makes late events unambiguously late
   * when the log has several partitions whose readers are not in step (see sandbox/expected).
   */
  lateMarginMs?: number;
  /** A duplicate follows its original by 1..this many records. Default 200. */
  duplicateDelayMaxRecords?: number;
  /**
   * No incident starts in the last this-many seconds of event time. A stream path decides a rule only
   * once its watermark (trailing the newest event by out-of-orderness, and the rules by the allowed
   * lateness too) has passed the events, so incidents at the very end of a finite run stay undecided
   * until more traffic comes. Default 0; the sandbox CLI leaves out-of-orderness + lateness + 10 s.
   */
  fraudFreeTailSeconds?: number;
}

export const DEFAULT_RATES: Readonly<InjectionRates> = {
  r1: 2,
  r2: 2,
  r3: 2,
  outOfOrder: 20,
  late: 5,
  duplicate: 10,
  malformed: 5,
};

/** One injected fraud incident: exactly one alert of `rule` on `cardId`, over exactly these transactions. */
export interface Incident {
  incidentId: string;
  rule: Rule;
  cardId: string;
  customerId: string;
  /** The alert's txnIds in event-time order, as every exact path reports them. */
  txnIds: string[];
  /** The alert id `<rule>:<cardId>:<windowStart>` the spec assigns to it. */
  alertId: string;
  windowStart: number;
}

/** A card as the generator uses it; also what the enrichment's profile table needs. */
export interface CardProfile {
  cardId: string;
  customerId: string;
  homeCountry: string;
  currency: string;
  segment: 'consumer' | 'business' | 'premium';
  riskTier: 'low' | 'medium' | 'high';
}

/** The ground truth of a generated run: every incident, and nothing else triggers a rule. */
export interface KnownGroundTruth {
  known: true;
  runId: string;
  /** The options with every default filled in. */
  options: Required<Omit<WorkloadOptions, 'durationSeconds'>> & { rates: InjectionRates };
  incidents: Incident[];
  cards: CardProfile[];
}

/** Records read from a recorded file: nobody knows which of them are fraud, so nothing can be scored. */
export interface UnknownGroundTruth {
  known: false;
  source: string;
  reason: string;
}

export type GroundTruth = KnownGroundTruth | UnknownGroundTruth;

export interface Workload {
  records: LabelledRecord[];
  groundTruth: GroundTruth;
}

export interface GeneratedWorkload extends Workload {
  groundTruth: KnownGroundTruth;
}
