import type { PlatformConfig } from './config/schema';
import { CARD_PROFILES_PREFIX } from './lake-layout';

/**
 * The Flink job's `Job` and `Alerts` property groups (flink-apps/property-groups.json)
 * from the platform config: one definition for Managed Flink (StreamProcessingStack,
 * lake root `s3://<bucket>`) and the sandbox's local run (`file:///<lake folder>`).
 * The source's groups come from the event log, which knows how it is read.
 */
export function streamJobPropertyGroups(config: PlatformConfig, lakeRoot: string): Record<'Job' | 'Alerts', Record<string, string>> {
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
    // Alerts are served from the alerts view in the lake, committed exactly once per checkpoint.
    Alerts: { sink: 'none' },
  };
}
