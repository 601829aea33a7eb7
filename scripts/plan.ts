/**
 * `npm run plan [-- <profile> [key=value ...]]`: synthesizes a profile offline,
 * checks it with cdk-nag, and prints what `cdk deploy --all` would create,
 * layer by layer. No AWS account or credentials are needed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from '../lib/config';
import { buildPlatform, platformStacks } from '../lib/platform';

const REPO_ROOT = path.resolve(__dirname, '..');

function main(): void {
  const [profile = undefined, ...overrides] = process.argv.slice(2);
  const context = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')).context;
  for (const override of overrides) {
    const [key, ...value] = override.split('=');
    if (!value.length) throw new ConfigError(`Overrides are key=value, got '${override}'.`);
    context[key] = value.join('=');
  }
  if (profile) context.profile = profile;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-plan-'));
  const app = new App({ outdir, context });
  const loaded = loadConfig(app.node);
  const platform = buildPlatform(app, loaded.profile, loaded.config);
  const started = Date.now();
  app.synth();
  const { config } = loaded;

  const stacks = platformStacks(platform);
  console.log(`Tributary, profile '${loaded.profile}': ${stacks.length} stacks, synthesized offline in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`  architecture ${config.architecture}, data on delete: ${config.dataRemoval}, alarms ${config.observability.alarmsEnabled ? 'on' : 'off'}`);
  console.log(`  event log: ${platform.eventLog.eventLog.description}`);
  console.log(`  speed layer: batches of ${config.speedLayer.batchSize}, window ${config.speedLayer.maxBatchingWindowSeconds} s, ` +
    `${config.speedLayer.retryAttempts} retries, tumbling window ${config.speedLayer.tumblingWindowSeconds ? `${config.speedLayer.tumblingWindowSeconds} s where the log supports one` : 'off'}`);
  const notifier = config.alerts.notifier;
  console.log(`  alerts log: ${platform.eventLog.eventLog.alerts.description}; the notifier delivers to the SNS topic ${config.name}-alerts ` +
    `(batches of ${notifier.batchSize}, window ${notifier.maxBatchingWindowSeconds} s, ${notifier.retryAttempts} retries)`);
  const flink = config.streamProcessing;
  if (platform.streamProcessing) {
    console.log(`  stream processing: Flink 2.2 on Managed Service for Apache Flink, parallelism ${flink.parallelism}${flink.autoScaling ? ' (autoscaling)' : ''}, ` +
      `checkpoints every ${flink.checkpointIntervalSeconds} s, views v=${flink.outputVersion}, ` +
      (flink.startOnDeploy ? `started on deploy (${flink.restoreOnStart === 'latest-snapshot' ? 'from the latest snapshot' : 'empty state'})` : 'not started on deploy'));
  }
  if (platform.batchLayer) {
    console.log(`  batch layer: a run every ${config.batch.scheduleHours} h, watermark ${config.batch.settleMinutes} min before its start, ` +
      `runs expire after ${config.batch.expireRunsAfterDays} days; served by the lambda_ views`);
  }
  console.log(`  raw archive: Parquet every ${config.archive.bufferingIntervalSeconds} s or ${config.archive.bufferingSizeMiB} MiB`);
  console.log(`  serving: Athena engine v3, scan cutoff ${config.serving.bytesScannedCutoffPerQueryMiB} MiB per query\n`);

  for (const stack of stacks) {
    const template = JSON.parse(fs.readFileSync(path.join(outdir, stack.templateFile), 'utf8'));
    const counts = new Map<string, number>();
    for (const resource of Object.values<{ Type: string }>(template.Resources)) counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`${stack.stackName} (${total} resources): ${stack.templateOptions.description ?? ''}`);
    for (const [type, count] of [...counts].sort()) console.log(`    ${String(count).padStart(3)}  ${type}`);
  }
  console.log('\ncdk-nag AwsSolutions: no unacknowledged findings.');
  // Warnings do not stop a synth, so they are easy to miss: print each one in full.
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  const warnings = report.pluginReports.flatMap((r: { violations: { ruleName: string; description: string }[] }) => r.violations);
  for (const warning of warnings) console.log(`\nWARNING (${warning.ruleName}):\n  ${warning.description}`);
  console.log(`Templates: ${outdir}`);
  console.log(`Deploy with: npx cdk deploy --all -c profile=${loaded.profile}`);
}

try {
  main();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
