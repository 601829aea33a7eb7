/** The handler benchmark's batch and the two things timed on it, shared by the benchmark and its profile. */
import { kinesisDecoder } from '../../lambdas/shared/kinesis';
import { processBatch } from '../../lambdas/speed-layer/core';
import { EMPTY_RULE_STATE } from '../../lambdas/speed-layer/rules';
import { kinesisEvent, mixedBatch } from '../../test/lambdas/fixtures';

export const RECORDS = 10_000;

const event = kinesisEvent(0, mixedBatch(RECORDS, { malformedEvery: 100 }), { window: true });
const layout = { speedPrefix: 'speed', deadLetterPrefix: 'deadletter/speed' };

/** What the handler computes, minus S3/SNS: decode, validate, views, dead letters, rules, state snapshot. */
export function handlerCore(): number {
  const records = kinesisDecoder.decode(event);
  const result = processBatch({ records, ruleState: EMPTY_RULE_STATE, now: Date.now(), layout });
  return result.units.length + result.state.bytes;
}

/** The floor: decode and parse every record, nothing else. */
export function bareParse(): number {
  let parsed = 0;
  for (const record of event.Records) {
    try {
      JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
      parsed += 1;
    } catch {
      // a malformed record: the floor does not even look at it
    }
  }
  return parsed;
}
