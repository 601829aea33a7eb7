import { deadLetterBody } from '../shared/lake';
import type { SourceRecord } from '../shared/source-record';
import { validateTransaction, type InvalidReason, type SchemaError, type Transaction } from '../shared/transaction';
import { alertObject } from './alerts';
import { deadLetterKey, type LakeLayout } from './layout';
import { FraudRules, type Alert, type RuleState, type SpeedRuleParameters, type StateSnapshot } from './rules';
import { segmentViews, type LakeObject } from './views';

/**
 * The pure core of the speed layer: one shard's batch in, everything to write out.
 * No I/O, no clock, no environment: the shell (handler.ts) does those.
 *
 * The batch's outputs are cut at its FIRST malformed record, because with
 * ReportBatchItemFailures Lambda resumes the shard from the lowest reported
 * record: segment A (valid records before it) is never redelivered, segment B
 * (valid records after it) is redelivered whole, and each segment's object in a
 * partition is named by the shard and the segment's first record in that
 * partition, so a redelivery (ending anywhere, or a bisection's half) overwrites
 * instead of adding a second copy. See docs/speed-layer.md, "Idempotence".
 */

export interface SpeedBatchInput {
  /** One shard's records in log order. */
  records: readonly SourceRecord[];
  /** Rule state from the tumbling window, or the empty state when there is no window. */
  ruleState: RuleState;
  /** Processing time, stamped on alerts as detectedAt, and the hour of a dead letter whose envelope has no arrival time. */
  now: number;
  layout: LakeLayout;
  stateMaxBytes?: number;
  /** R1/R2 parameters; the product definition's when not given. */
  rules?: SpeedRuleParameters;
}

export interface MalformedRecord {
  index: number;
  record: SourceRecord;
  reason: InvalidReason;
  detail: string;
  errors: SchemaError[];
}

/** Outputs that stand or fall together, and where the shard must resume if they cannot be written. */
export interface OutputUnit {
  kind: 'dead_letter' | 'segment';
  /** Batch index of the first record the unit covers. */
  resumeIndex: number;
  /** Lake objects: view partials and alert lines (segment), or the dead letter. */
  objects: LakeObject[];
  /** Alerts to append to the alerts log. */
  alerts: Alert[];
}

export interface SpeedBatchResult {
  malformed: MalformedRecord[];
  validCount: number;
  /** In log order. */
  units: OutputUnit[];
  alerts: Alert[];
  segmentCount: number;
  /** Records left out of the views because their txnId occurred earlier in the same segment. */
  viewDuplicates: number;
  /** Records the rules skipped as duplicates (txnId already in this batch or in the card's rule memory). */
  ruleDuplicates: number;
  /** Records the rules skipped because the window state already holds their effect (a redelivery). */
  ruleRedelivered: number;
  /** The rule state after the whole batch. */
  state: StateSnapshot;
  /** The rule state after only the records before `index`: what to return when writing from `index` on failed. */
  stateBefore(index: number): StateSnapshot;
}

interface ValidRecord {
  index: number;
  record: SourceRecord;
  transaction: Transaction;
}

function runRules(input: SpeedBatchInput, valid: readonly ValidRecord[]) {
  const rules = new FraudRules(input.ruleState, input.now, input.rules);
  const alertsByIndex = new Map<number, Alert[]>();
  let duplicates = 0;
  let redelivered = 0;
  for (const { index, record, transaction } of valid) {
    const outcome = rules.observe(transaction, record.coordinates.sequenceNumber);
    if (outcome === 'duplicate') duplicates += 1;
    else if (outcome === 'redelivered') redelivered += 1;
    else if (outcome.length > 0) alertsByIndex.set(index, outcome);
  }
  return { alertsByIndex, duplicates, redelivered, state: rules.snapshot(input.stateMaxBytes) };
}

export function processBatch(input: SpeedBatchInput): SpeedBatchResult {
  const valid: ValidRecord[] = [];
  const malformed: MalformedRecord[] = [];
  for (let index = 0; index < input.records.length; index += 1) {
    const record = input.records[index];
    const result = validateTransaction(record);
    if (result.valid) valid.push({ index, record, transaction: result.transaction });
    else malformed.push({ index, record, reason: result.reason, detail: result.detail, errors: result.errors });
  }

  const rules = runRules(input, valid);

  // `valid` is in index order: the records before the first failure, then those after it.
  const firstFailure = malformed.length > 0 ? malformed[0].index : Infinity;
  let split = 0;
  while (split < valid.length && valid[split].index < firstFailure) split += 1;
  const segments = [valid.slice(0, split), valid.slice(split)].filter((segment) => segment.length > 0);

  let viewDuplicates = 0;
  const segmentUnits: OutputUnit[] = segments.map((members) => {
    const first = members[0];
    const views = segmentViews(input.layout, {
      shardId: first.record.coordinates.shardId,
      records: members.map((m) => ({ sequenceNumber: m.record.coordinates.sequenceNumber, transaction: m.transaction })),
    });
    viewDuplicates += views.duplicates;
    // An alert belongs to the segment of the record that completed it: it is redone when that record is redelivered.
    const alerts: Alert[] = [];
    for (const m of members) {
      const completed = rules.alertsByIndex.get(m.index);
      if (completed) alerts.push(...completed);
    }
    return {
      kind: 'segment',
      resumeIndex: first.index,
      objects: [...views.objects, ...alerts.map((alert) => alertObject(input.layout, alert))],
      alerts,
    };
  });

  const deadLetterUnits: OutputUnit[] = malformed.map((m) => ({
    kind: 'dead_letter',
    resumeIndex: m.index,
    objects: [{ key: deadLetterKey(input.layout, m.record.coordinates, input.now), body: deadLetterBody(m.record, m) }],
    alerts: [],
  }));

  return {
    malformed,
    validCount: valid.length,
    units: [...segmentUnits, ...deadLetterUnits].sort((a, b) => a.resumeIndex - b.resumeIndex),
    alerts: segmentUnits.flatMap((unit) => unit.alerts),
    segmentCount: segmentUnits.length,
    viewDuplicates,
    ruleDuplicates: rules.duplicates,
    ruleRedelivered: rules.redelivered,
    state: rules.state,
    stateBefore: (index) => runRules(input, valid.filter((v) => v.index < index)).state,
  };
}
