import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Context, KinesisStreamBatchResponse } from 'aws-lambda';
import { decodeEvent } from '../shared/event-source';
import type { KinesisEvent, TumblingWindow } from '../shared/kinesis';
import type { MskBatchResponse, MskEvent } from '../shared/msk';
import { orderedUnits, type SourceRecord } from '../shared/source-record';
import { AlertsLogWriteError, type AlertsLog } from './alerts-log';
import { processBatch, type OutputUnit } from './core';
import type { SpeedLayerEnv } from './env';
import { EMPTY_RULE_STATE, parseRuleState, type RuleState, type SpeedRuleParameters } from './rules';

/**
 * The thin I/O shell around the pure core: decode a Kinesis or MSK event, run
 * the core on each ordered unit of the log, write its outputs to S3 and its alerts to the alerts log,
 * and answer Lambda in the source's own shape with the records to redeliver
 * (and the window state when a Kinesis mapping has a tumbling window).
 */

export interface SpeedLayerDependencies {
  env: Pick<SpeedLayerEnv, 'LAKE_BUCKET_NAME' | 'SPEED_PREFIX' | 'DEAD_LETTER_PREFIX'>;
  s3: S3Client;
  /** The alerts log (Kinesis stream or Kafka topic), made once per container. */
  alertsLog: AlertsLog;
  logger: Logger;
  metrics: Metrics;
  clock?: () => number;
  stateMaxBytes?: number;
  /** R1/R2 parameters (index.ts: from the environment); the product definition's when not given. */
  rules?: SpeedRuleParameters;
}

export type SpeedLayerResponse = KinesisStreamBatchResponse & { state?: RuleState };

const NDJSON = 'application/x-ndjson';

/**
 * Everything between decoding and the response, for one ordered unit's records in log order (a Kinesis
 * shard or a Kafka topic-partition). Source-agnostic: the handler calls it once per unit.
 */
export function createShardBatchProcessor(deps: SpeedLayerDependencies) {
  const { env, s3, alertsLog, logger, metrics } = deps;
  const clock = deps.clock ?? Date.now;
  const layout = { speedPrefix: env.SPEED_PREFIX, deadLetterPrefix: env.DEAD_LETTER_PREFIX };

  /** Write one unit's objects and append its alerts to the alerts log; the unit is durable only if every call succeeded. */
  async function writeUnit(unit: OutputUnit): Promise<boolean> {
    const calls = [
      ...unit.objects.map((object) =>
        s3.send(
          new PutObjectCommand({ Bucket: env.LAKE_BUCKET_NAME, Key: object.key, Body: object.body, ContentType: NDJSON }),
        ),
      ),
      ...(unit.alerts.length > 0 ? [alertsLog.append(unit.alerts)] : []),
    ];
    const outcomes = await Promise.allSettled(calls);
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failures.length > 0) {
      logger.error('Output write failed; the records from this unit on will be redelivered', {
        unit: unit.kind,
        resumeIndex: unit.resumeIndex,
        failedCalls: failures.length,
        error: failures[0].reason as Error,
        // A PutRecords partial failure: which alerts Kinesis refused, and why.
        refusedAlerts: failures.flatMap((f) => (f.reason instanceof AlertsLogWriteError ? f.reason.refused : [])),
      });
    }
    return failures.length === 0;
  }

  /** Returns the records to report as failures and the rule state to carry on. */
  return async function processShardBatch(records: readonly SourceRecord[], ruleState: RuleState, withState: boolean) {
    const result = processBatch({ records, ruleState, now: clock(), layout, stateMaxBytes: deps.stateMaxBytes, rules: deps.rules });

    const written = await Promise.all(result.units.map(writeUnit));
    const firstUnwritten = result.units.find((_, i) => !written[i]);
    // Lambda resumes from the lowest reported record; everything from the first unwritten unit must come again.
    // Malformed records are not reported: their dead letter (with the payload and the reason) is where they go,
    // and reporting them would make Lambda redeliver the rest of their batch RetryAttempts times for nothing.
    const resumeFrom = firstUnwritten?.resumeIndex ?? records.length;
    const failed = records.filter((_, index) => index >= resumeFrom);
    // Redelivered records must not be in the state, or the rules would skip them as duplicates.
    const state = firstUnwritten ? result.stateBefore(resumeFrom) : result.state;

    metrics.addMetric('RecordsIn', MetricUnit.Count, records.length);
    metrics.addMetric('RecordsValid', MetricUnit.Count, result.validCount);
    metrics.addMetric('RecordsDeadLettered', MetricUnit.Count, result.malformed.length);
    metrics.addMetric('DuplicateRecords', MetricUnit.Count, result.viewDuplicates);
    metrics.addMetric('Alerts', MetricUnit.Count, result.alerts.length);
    metrics.addMetric(
      'SegmentsWritten',
      MetricUnit.Count,
      result.units.filter((unit, i) => unit.kind === 'segment' && written[i]).length,
    );
    metrics.addMetric('RecordsRetriedAfterWriteFailure', MetricUnit.Count, records.length - resumeFrom);
    metrics.addMetric('RecordsAlreadyInRuleState', MetricUnit.Count, result.ruleRedelivered);
    if (withState) {
      metrics.addMetric('StateBytes', MetricUnit.Bytes, state.bytes);
      metrics.addMetric('StateCardsEvicted', MetricUnit.Count, state.cardsEvicted);
    }
    logger.info('Batch processed', {
      records: records.length,
      valid: result.validCount,
      deadLettered: result.malformed.map((m) => ({ sequenceNumber: m.record.coordinates.sequenceNumber, reason: m.reason })),
      alerts: result.alerts.map((a) => a.alertId),
      segments: result.segmentCount,
      reportedFailures: failed.length,
      stateBytes: withState ? state.bytes : undefined,
    });
    return { failed, state };
  };
}

export type SpeedLayerEvent = KinesisEvent | MskEvent;

/** The response type follows the event type; Lambda itself only sees JSON. */
export interface SpeedLayerHandler {
  (event: KinesisEvent, context?: Context): Promise<SpeedLayerResponse>;
  (event: MskEvent, context?: Context): Promise<MskBatchResponse>;
}

/**
 * The entry point for both event sources. A Kinesis invocation is one shard, with an optional
 * tumbling window whose state carries the rules across batches; an MSK invocation holds any number
 * of topic-partitions and has no window, so there the rules run on each batch alone.
 */
export function createSpeedLayerHandler(deps: SpeedLayerDependencies): SpeedLayerHandler {
  const { logger, metrics } = deps;
  const processShardBatch = createShardBatchProcessor(deps);

  function readWindowState(window: TumblingWindow): RuleState {
    const parsed = parseRuleState(window.state);
    if (parsed.problem) logger.warn('Unreadable window state; starting the window afresh', { problem: parsed.problem });
    if (window.isWindowTerminatedEarly) logger.warn('Lambda ended the window early (state over its 1 MB limit)');
    return parsed.state;
  }

  async function handler(event: SpeedLayerEvent, context?: Context): Promise<SpeedLayerResponse | MskBatchResponse> {
    if (context) logger.addContext(context);
    metrics.captureColdStartMetric();
    try {
      // A batch that cannot even be decoded is the one case with nothing to report: throw and let Lambda retry.
      // So is an event from a source Tributary does not read (UnsupportedEventSourceError): a misconfigured mapping.
      const { records, window, failureResponse } = decodeEvent(event);

      const ruleState = window ? readWindowState(window) : EMPTY_RULE_STATE;

      // One unit after the other, so that every log line names the unit it is about. Each unit starts from
      // `ruleState`: the window's state for a Kinesis shard (the only unit of its invocation), empty for MSK.
      const failed: SourceRecord[] = [];
      let state = ruleState;
      for (const unit of orderedUnits(records)) {
        logger.appendKeys({
          shardId: unit[0].coordinates.shardId,
          firstSequenceNumber: unit[0].coordinates.sequenceNumber,
          lastSequenceNumber: unit[unit.length - 1].coordinates.sequenceNumber,
          window: window && { start: window.start, end: window.end, final: window.isFinalInvokeForWindow },
        });
        const outcome = await processShardBatch(unit, ruleState, window !== undefined);
        failed.push(...outcome.failed);
        state = outcome.state.state;
      }

      const response = failureResponse(failed);
      // With a tumbling window Lambda treats a response without `state` as a failed invocation.
      return window ? { ...response, state } : response;
    } finally {
      metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  }
  return handler as SpeedLayerHandler;
}
