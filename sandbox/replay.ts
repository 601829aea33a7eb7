import { setTimeout as sleep } from 'node:timers/promises';
import { ensureFlinkJar } from '../lib/constructs/flink-application/flink-jar';
import { isStillOurs, type Supervisor } from './engines';
import { openLakeSql } from './serving/lake-sql';
import { servingVersion, switchServingVersion } from './serving/version';
import { flinkConsumerGroup, flinkLag, flinkProcessName, LOCAL_CHECKPOINT_INTERVAL_MS, startFlinkVersion, type Sandbox } from './session';
import { sandboxDirs } from './settings';

/**
 * Kappa reprocessing on the sandbox, the same steps as the cloud's state
 * machine: replay the log from a timestamp into version n+1 with the same jar,
 * wait until it has caught up, switch serving to n+1 atomically, retire n
 * (stop its job, keep its data). Any failure before the switch stops the
 * replay job and leaves n serving.
 */

export interface ReplayOptions {
  /** ISO-8601 UTC instant: the replay reads the log from here (Kafka: the offsets for that time). */
  from: string;
  reason?: string;
  /** Caught up: the replay's lag at most this many records ... */
  caughtUpLag?: number;
  /** ... in this many polls in a row (a poll a second). Default 3. */
  caughtUpPolls?: number;
  /** Give up (and leave n serving) after this long. Default 600 s. */
  timeoutSeconds?: number;
  checkpointIntervalMs?: number;
  out?: (line: string) => void;
}

export interface ReplayStep {
  step: 'start-replay' | 'catch-up' | 'switch' | 'retire';
  at: string;
  detail: string;
}

export interface ReplayResult {
  ok: boolean;
  from: number;
  to: number;
  /** Which version serves now. */
  serving: number;
  steps: ReplayStep[];
  error?: string;
  /** Rows per version of the main views, read after the run. */
  rows: Record<string, Record<number, number>>;
}

export class ReplayError extends Error {
  override name = 'ReplayError';
}

function parseFrom(from: string): string {
  const at = Date.parse(from);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(from) || Number.isNaN(at)) {
    throw new ReplayError(`--from must be an ISO-8601 UTC instant such as 2026-11-22T00:00:00Z, not '${from}'`);
  }
  if (at > Date.now()) throw new ReplayError(`--from ${from} is in the future: there is nothing to replay yet`);
  // The job takes whole seconds; Flink's property is an ISO instant.
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function replay(sandbox: Sandbox, options: ReplayOptions): Promise<ReplayResult> {
  const out = options.out ?? ((line: string) => console.log(line));
  const { settings, config, supervisor } = sandbox;
  const from = parseFrom(options.from);
  const current = servingVersion(settings, config).version;
  const next = current + 1;
  const steps: ReplayStep[] = [];
  const step = (name: ReplayStep['step'], detail: string) => {
    steps.push({ step: name, at: new Date().toISOString(), detail });
    out(`  ${name}: ${detail}`);
  };
  const result = (ok: boolean, serving: number, error?: string) => rowsPerVersion(sandbox, [current, next]).then((rows) => ({ ok, from: current, to: next, serving, steps, error, rows }));

  out(`Replaying the log from ${from} into v=${next}; v=${current} serves until the switch.`);
  const jar = ensureFlinkJar().path;
  const interval = options.checkpointIntervalMs ?? sandbox.flink.checkpointIntervalMs ?? LOCAL_CHECKPOINT_INTERVAL_MS;
  try {
    await startFlinkVersion(supervisor, settings, config, { version: next, startTimestamp: from, checkpointIntervalMs: options.checkpointIntervalMs }, jar);
    step('start-replay', `${flinkProcessName(next)} reads from ${from}, writes views/*/v=${next}/`);
    await waitCaughtUp(sandbox, supervisor, next, options, step);
    // Its last checkpoint commits what the caught-up watermark closed (as for a run's end).
    await sleep(2 * interval);
  } catch (error) {
    await supervisor.stop(flinkProcessName(next));
    const message = (error as Error).message;
    out(`Replay failed: ${message}. v=${current} still serves; the replay job is stopped and v=${next} is left as written.`);
    return result(false, current, message);
  }

  switchServingVersion(settings, { version: next, previous: current, switchedAt: new Date().toISOString(), reason: options.reason });
  step('switch', `serving_* views now read v=${next} (one atomic rename of ${sandboxDirs(settings).home}/serving/version.json)`);
  await supervisor.stop(flinkProcessName(current));
  step('retire', `stopped ${flinkProcessName(current)}; v=${current} data kept for rollback`);
  sandbox.flink = { ...sandbox.flink, running: true, version: next, consumerGroup: settings.log === 'kafka' ? flinkConsumerGroup(next) : undefined, checkpointIntervalMs: interval };
  return result(true, next);
}

async function waitCaughtUp(
  sandbox: Sandbox,
  supervisor: Supervisor,
  version: number,
  options: ReplayOptions,
  step: (name: ReplayStep['step'], detail: string) => void,
): Promise<void> {
  const deadline = Date.now() + (options.timeoutSeconds ?? 600) * 1000;
  const needed = options.caughtUpPolls ?? 3;
  const maxLag = options.caughtUpLag ?? 0;
  const name = flinkProcessName(version);
  let streak = 0;
  let lag: number | undefined;
  while (streak < needed) {
    const record = supervisor.running().find((r) => r.name === name);
    if (!record || !isStillOurs(record)) throw new ReplayError(`the replay job ${name} stopped before it caught up (its log: ${sandboxDirs(sandbox.settings).logs}/${name}.log)`);
    if (Date.now() > deadline) throw new ReplayError(`the replay job did not catch up within ${options.timeoutSeconds ?? 600} s (lag ${lag ?? 'unknown'})`);
    lag = await flinkLag(sandbox.settings, version, sandbox.log).catch(() => undefined);
    streak = lag !== undefined && lag <= maxLag ? streak + 1 : 0;
    await sleep(1000);
  }
  step('catch-up', `lag ${lag} records for ${needed} polls in a row`);
}

/** Rows of the main views per version, for the summary. */
async function rowsPerVersion(sandbox: Sandbox, versions: number[]): Promise<Record<string, Record<number, number>>> {
  const lake = await openLakeSql(sandboxDirs(sandbox.settings).lake);
  try {
    const rows: Record<string, Record<number, number>> = {};
    for (const view of ['spend_per_card_minute', 'alerts', 'late_events']) {
      rows[view] = {};
      for (const v of versions) {
        const [row] = await lake.query(`SELECT count(*) AS n FROM views_${view} WHERE v = '${v}'`);
        rows[view][v] = Number(row.n);
      }
    }
    return rows;
  } finally {
    lake.close();
  }
}

export function formatReplay(result: ReplayResult): string {
  const lines = [
    '',
    `== Replay v=${result.from} -> v=${result.to}: ${result.ok ? 'switched' : 'FAILED, nothing switched'} ==`,
    ...result.steps.map((s) => `  ${s.at}  ${s.step.padEnd(12)} ${s.detail}`),
    ...(result.error ? [`  error: ${result.error}`] : []),
    `  serving: v=${result.serving}`,
    '  rows per version:',
    ...Object.entries(result.rows).map(([view, perVersion]) => `    ${view.padEnd(22)} ${Object.entries(perVersion).map(([v, n]) => `v=${v}: ${n}`).join('   ')}`),
    `  roll back: npm run sandbox -- serve --version ${result.from}`,
    '',
  ];
  return lines.join('\n');
}
