import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig, type PlatformConfig } from '../lib/config';

/**
 * The sandbox runs the platform's own configuration: the profile from cdk.json
 * (dev unless told), with `section.key=value` overrides exactly as `cdk -c`
 * takes them, validated by the same schema. So the event source mapping, the
 * archive's buffering and the Flink job's event-time settings are the values a
 * deployment of that profile would get.
 */

/** What the sandbox changes for a short local run; each within the range the cloud accepts. */
export const SANDBOX_OVERRIDES: Record<string, string> = {
  // Firehose's shortest buffering interval with dynamic partitioning, so the raw archive fills within a minute.
  'archive.bufferingIntervalSeconds': '60',
  // The sandbox runs both paths side by side, whatever the profile deploys.
  architecture: 'both',
  // A batch run reads raw/ up to 2 minutes ago: the archive's 60 s buffering, and a minute to spare.
  'batch.settleMinutes': '2',
};

export function sandboxPlatformConfig(
  repoRoot: string,
  options: { profile?: string; overrides?: Record<string, string> } = {},
): { profile: string; config: PlatformConfig } {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const context: Record<string, unknown> = {
    ...cdkJson.context,
    ...(options.profile ? { profile: options.profile } : {}),
    ...SANDBOX_OVERRIDES,
    ...options.overrides,
  };
  return loadConfig({ tryGetContext: (key: string) => context[key], getAllContext: () => context });
}
