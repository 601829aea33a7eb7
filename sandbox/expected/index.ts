import { defaultConfig } from '../../lib/config/defaults';
import type { Transaction } from '../../lambdas/shared/transaction';
import { classifyDeliveries, type MalformedDelivery, type ProducedInput, type ValidDelivery } from './deliveries';
import { classifyLateness, type LatenessEntry, type LatenessSettings } from './lateness';
import { referenceAlerts, type ExpectedAlert } from './rules';
import { speedExpectation, type SpeedExpectation } from './speed';
import { streamViews, type StreamViews } from './views';

export * from './deliveries';
export * from './lateness';
export * from './rules';
export * from './speed';
export * from './views';
export * from './score';

/**
 * The reference recomputation: from the records as produced, what every path must produce.
 * See each module for what is exact and what is bounded.
 */

export type ExpectedSettings = LatenessSettings;

export interface StreamOutputs {
  /** The transactions the job accepts: first deliveries not routed to late_events, in produced order. */
  accepted: Transaction[];
  views: StreamViews;
  alerts: ExpectedAlert[];
}

export interface ExpectedResults {
  settings: ExpectedSettings;
  /** Every valid record, in produced order (duplicates included). */
  valid: ValidDelivery[];
  /** Every record the validator rejects, with its reason: the dead letters of every path. */
  malformed: MalformedDelivery[];
  /** The raw archive: one row per produced valid record, duplicates as often as produced. */
  raw: Transaction[];
  stream: {
    /** Produced indexes of the later deliveries of a txnId, which deduplication drops. */
    duplicateIndexes: number[];
    /** One verdict per first delivery, in produced order. */
    lateness: LatenessEntry[];
    /** Clearly late: must be in late_events and nowhere else. */
    late: LatenessEntry[];
    /** Late or not depending on partition interleaving; empty when `exact`. */
    ambiguous: LatenessEntry[];
    /** True when no verdict is ambiguous: then `outputs` is the one correct result. */
    exact: boolean;
    /** Views and alerts with every ambiguous transaction taken as on time. See {@link streamGivenLate}. */
    outputs: StreamOutputs;
  };
  speed: SpeedExpectation;
}

/** Settings with the Flink defaults of lib/config/defaults.ts; `partitions` must be given. */
export function expectedSettings(settings: Partial<ExpectedSettings> & { partitions: number }): ExpectedSettings {
  const resolved: ExpectedSettings = {
    maxOutOfOrdernessMs: defaultConfig.streamProcessing.maxOutOfOrdernessMs,
    allowedLatenessMs: defaultConfig.streamProcessing.allowedLatenessMs,
    partitionSkewMs: 30_000,
    ...settings,
  };
  if (!Number.isSafeInteger(resolved.partitions) || resolved.partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${resolved.partitions}`);
  }
  return resolved;
}

/** Views and alerts of the stream path for a given acceptance. */
export function streamOutputs(accepted: Transaction[]): StreamOutputs {
  return { accepted, views: streamViews(accepted), alerts: referenceAlerts(accepted) };
}

export function expectedResults(
  records: readonly ProducedInput[],
  settings: Partial<ExpectedSettings> & { partitions: number },
): ExpectedResults {
  const resolved = expectedSettings(settings);
  const { valid, malformed } = classifyDeliveries(records);
  const lateness = classifyLateness(valid, resolved);
  const late = lateness.filter((e) => e.verdict === 'late');
  const ambiguous = lateness.filter((e) => e.verdict === 'ambiguous');
  const lateTxnIds = new Set(late.map((e) => e.txnId));
  const accepted = valid.filter((d) => d.first && !lateTxnIds.has(d.transaction.txnId)).map((d) => d.transaction);
  return {
    settings: resolved,
    valid,
    malformed,
    raw: valid.map((d) => d.transaction),
    stream: {
      duplicateIndexes: valid.filter((d) => !d.first).map((d) => d.index),
      lateness,
      late,
      ambiguous,
      exact: ambiguous.length === 0,
      outputs: streamOutputs(accepted),
    },
    speed: speedExpectation(valid),
  };
}

/**
 * The exact stream outputs once the job's actual late_events are known. Throws when they contradict
 * the recomputation: one that was clearly on time (or never produced as a first delivery) present,
 * which no interleaving allows; and, unless `requireClearlyLate` is false, a clearly-late transaction
 * missing. That second check rests on the partition-skew assumption (`partitionSkewMs`), which a job
 * that falls behind (a loaded machine, a replay) can break: its partitions are then read unevenly.
 */
export function streamGivenLate(
  expected: ExpectedResults,
  actualLateTxnIds: Iterable<string>,
  options: { requireClearlyLate?: boolean } = {},
): StreamOutputs {
  const actual = new Set(actualLateTxnIds);
  const verdicts = new Map(expected.stream.lateness.map((e) => [e.txnId, e]));
  const problems: string[] = [];
  for (const txnId of actual) {
    const entry = verdicts.get(txnId);
    if (!entry) problems.push(`${txnId} is in late_events but was never produced as a valid transaction`);
    else if (entry.verdict === 'on-time') problems.push(`${txnId} is in late_events but was clearly on time`);
  }
  if (options.requireClearlyLate ?? true) {
    for (const entry of expected.stream.late) {
      if (!actual.has(entry.txnId)) problems.push(`${entry.txnId} was clearly late but is not in late_events`);
    }
  }
  if (problems.length > 0) throw new Error(`late_events contradicts the recomputation:\n${problems.join('\n')}`);
  const accepted = expected.valid
    .filter((d) => d.first && !actual.has(d.transaction.txnId))
    .map((d) => d.transaction);
  return streamOutputs(accepted);
}
