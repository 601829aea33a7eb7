import type { PlatformConfig } from './config/schema';
import type { FlinkAlertsSink } from './constructs/event-log/alerts-log';
import type { CardFraudRules } from '../products/card-fraud';
import { CARD_PROFILES_PREFIX } from './lake-layout';

/**
 * The Flink job's `Job`, `Alerts` and `Rules` property groups (flink-apps/property-groups.json)
 * from the platform config: one definition for Managed Flink (StreamProcessingStack,
 * lake root `s3://<bucket>`, the alerts log's `flinkSink()`) and the sandbox's local run
 * (`file:///<lake folder>`, the local alerts topic or stream), and the `Rules` group from the
 * product definition. The source's groups come from the event log, which knows how it is read.
 */
export function streamJobPropertyGroups(
  config: PlatformConfig,
  lakeRoot: string,
  alerts: FlinkAlertsSink,
  rules: CardFraudRules,
): Record<'Job' | 'Alerts' | 'Rules', Record<string, string>> {
  const stream = config.streamProcessing;
  const root = lakeRoot.replace(/\/+$/, '');
  return {
    Job: {
      'lake.root': root,
      'output.version': String(stream.outputVersion),
      'profiles.path': `${root}/${CARD_PROFILES_PREFIX}/`,
      'dedupe.ttl.hours': String(stream.dedupeTtlHours),
      'watermark.max-out-of-orderness.ms': String(stream.maxOutOfOrdernessMs),
      'watermark.idleness.ms': String(stream.idlenessMs),
      'allowed-lateness.ms': String(stream.allowedLatenessMs),
    },
    // Alerts go to the alerts log as they fire (at least once, flushed promptly); the alerts view in the lake
    // stays the exactly-once history, committed on each checkpoint.
    Alerts: { ...alerts },
    Rules: flinkRuleProperties(rules),
  };
}

/**
 * The product's rule parameters as the job's `Rules` group (flink-apps/property-groups.json), so the
 * deployed application shows them and a change to the definition reaches the job without a code change.
 */
export function flinkRuleProperties(rules: CardFraudRules): Record<string, string> {
  return {
    'r1.large-above.cents': String(rules.R1.largeAboveCents),
    'r1.within.ms': String(rules.R1.withinMs),
    'r2.within.ms': String(rules.R2.withinMs),
    'r3.min-history': String(rules.R3.minHistory),
    'r3.factor': String(rules.R3.factor),
  };
}
