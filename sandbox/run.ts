import * as fs from 'node:fs';
import * as path from 'node:path';
import { LakePrefix, SPEED_DEAD_LETTER_PREFIX } from '../lib/lake-layout';
import type { PlatformConfig } from '../lib/config';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateWorkload, readRecordedFile, writeRun, type GeneratedWorkload, type Workload, type WorkloadOptions } from './generator';
import { ProducedAt } from './alerts';
import { produceAtRate } from './produce';
import { flinkLag, flinkLagUnit, LOCAL_CHECKPOINT_INTERVAL_MS, type Sandbox } from './session';
import { sandboxDirs } from './settings';
import { formatSummary, summarizeRun, type RunSummary } from './summary';
import { readStatus } from './workers/status';

/**
 * One run through a started sandbox: make (or read) the workload, write it and
 * its ground truth under `runs/`, put it on the log at the set rate while
 * showing live progress, wait until every path has taken in all of it, and
 * summarize.
 */

export interface RunOptions {
  rate: number;
  durationSeconds: number;
  seed: number;
  /** Produce the records of this NDJSON file instead of a generated workload. */
  fromFile?: string;
  /** Event time of the first record; default now. */
  startTime?: number;
  /** A workload made beforehand (so its cards could be loaded before the stream job started). */
  workload?: Workload;
  /** Stop the raw archive once every path has read everything, so it delivers its buffer at once (a run that ends). */
  stopArchiveWhenCaughtUp?: boolean;
  /** How long to wait for every path to catch up after producing; default 240 s. */
  drainTimeoutSeconds?: number;
  out?: (line: string) => void;
}

/**
 * A generated workload whose last seconds carry no fraud: the stream job's rules trail the newest
 * event by the out-of-orderness and the allowed lateness, so an incident there would stay undecided
 * until more traffic came. The margin covers the watermark's 1 s steps and partitions read unevenly.
 */
export function makeWorkload(
  options: Pick<RunOptions, 'rate' | 'durationSeconds' | 'seed' | 'startTime'> & Pick<WorkloadOptions, 'rates'>,
  config: PlatformConfig,
): GeneratedWorkload {
  const stream = config.streamProcessing;
  return generateWorkload({
    seed: options.seed,
    startTime: options.startTime ?? Date.now(),
    rate: options.rate,
    durationSeconds: options.durationSeconds,
    rates: options.rates,
    maxOutOfOrdernessMs: stream.maxOutOfOrdernessMs,
    allowedLatenessMs: stream.allowedLatenessMs,
    fraudFreeTailSeconds: (stream.maxOutOfOrdernessMs + stream.allowedLatenessMs) / 1000 + 10,
  });
}

interface Progress {
  speedLag?: number;
  speedRead?: number;
  archiveLag?: number;
  archiveBuffered?: number;
  archiveRows?: number;
  flinkLag?: number;
  /** records (Kafka) or ms behind the stream's end (Kinesis). */
  flinkLagUnit?: string;
  deadLettered?: number;
  alerts?: number;
}

const sumLag = (units: unknown): number | undefined => {
  if (!units || typeof units !== 'object') return undefined;
  let total = 0;
  for (const unit of Object.values(units as Record<string, { lag?: number }>)) {
    if (typeof unit.lag !== 'number') return undefined;
    total += unit.lag;
  }
  return total;
};

export async function readProgress(sandbox: Pick<Sandbox, 'settings' | 'flink'> & Partial<Pick<Sandbox, 'log'>>): Promise<Progress> {
  const speed = readStatus(sandbox.settings, 'speed-layer')?.counters as Record<string, unknown> | undefined;
  const archive = readStatus(sandbox.settings, 'raw-archive')?.counters as Record<string, unknown> | undefined;
  const lag = sandbox.flink.running && sandbox.flink.version !== undefined ? await flinkLag(sandbox.settings, sandbox.flink.version, sandbox.log).catch(() => undefined) : undefined;
  return {
    speedLag: sumLag(speed?.units),
    speedRead: speed?.recordsRead as number | undefined,
    deadLettered: countFiles(path.join(sandboxDirs(sandbox.settings).lake, SPEED_DEAD_LETTER_PREFIX)),
    alerts: countFiles(path.join(sandboxDirs(sandbox.settings).lake, LakePrefix.speed, 'alerts')),
    archiveLag: archive?.lag as number | undefined,
    archiveBuffered: archive?.bufferedRecords as number | undefined,
    archiveRows: archive?.rowsArchived as number | undefined,
    flinkLag: lag,
    flinkLagUnit: flinkLagUnit(sandbox.settings),
  };
}

/** Files under a folder of the lake: the speed layer writes one per dead letter and one per alert. */
function countFiles(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith('.')).length;
}

const show = (value: number | undefined) => (value === undefined ? '?' : String(value));

export function progressLine(sent: number, total: number, p: Progress, flinkRunning: boolean): string {
  return [
    `in ${sent}/${total}`,
    `speed: read ${show(p.speedRead)} lag ${show(p.speedLag)} alerts ${show(p.alerts)} dead-lettered ${show(p.deadLettered)}`,
    `archive: rows ${show(p.archiveRows)} buffered ${show(p.archiveBuffered)} lag ${show(p.archiveLag)}`,
    flinkRunning ? `flink: lag ${show(p.flinkLag)}${p.flinkLagUnit === 'ms' ? ' ms' : ''}` : 'flink: off',
  ].join(' | ');
}

/** Every path has read every record; the archive may still hold some in its buffer (its lag counts them until delivered). */
function caughtUp(p: Progress, flinkRunning: boolean): boolean {
  return p.speedLag === 0 && p.archiveLag !== undefined && p.archiveLag === p.archiveBuffered && (!flinkRunning || p.flinkLag === 0);
}

/** ...and the archive has delivered them. */
function drained(p: Progress, flinkRunning: boolean): boolean {
  return caughtUp(p, flinkRunning) && p.archiveBuffered === 0;
}

export interface RunResult {
  runDir: string;
  workload: Workload;
  summary: RunSummary;
  produceSeconds: number;
  drainSeconds: number;
  drained: boolean;
}

export async function runWorkload(sandbox: Sandbox, options: RunOptions): Promise<RunResult> {
  const out = options.out ?? ((line: string) => console.log(line));
  const workload = options.workload ?? (options.fromFile ? await readRecordedFile(options.fromFile) : makeWorkload(options, sandbox.config));
  const runName = workload.groundTruth.known ? workload.groundTruth.runId : `recorded-${Date.now()}`;
  const runDir = path.join(sandboxDirs(sandbox.settings).runs, runName);
  await writeRun(runDir, workload);
  out(`Producing ${workload.records.length} records at ${options.rate}/s to ${sandbox.settings.log} (run ${runName}, ground truth in ${runDir})`);

  let sent = 0;
  let lastLine = 0;
  const tick = async (force = false) => {
    if (!force && Date.now() - lastLine < 5000) return;
    lastLine = Date.now();
    out(progressLine(sent, workload.records.length, await readProgress(sandbox), sandbox.flink.running));
  };
  const began = Date.now();
  const producedAt = new ProducedAt(runDir);
  await produceAtRate(sandbox.log, workload.records, {
    rate: options.rate,
    onAccepted: (slice, acceptedAt) => producedAt.accepted(slice, acceptedAt),
    onRetry: (error) => out(`The log refused a slice (${error.message}); sending it again.`),
    onProgress: (progress) => {
      sent = progress.sent;
      void tick();
    },
  });
  const produceSeconds = (Date.now() - began) / 1000;

  // Every path has taken everything in once its lag is zero and the archive's buffer is delivered.
  const drainBegan = Date.now();
  const deadline = drainBegan + (options.drainTimeoutSeconds ?? 240) * 1000;
  let progress = await readProgress(sandbox);
  let archiveStopped = false;
  while (!drained(progress, sandbox.flink.running) && Date.now() < deadline) {
    if (options.stopArchiveWhenCaughtUp && !archiveStopped && caughtUp(progress, sandbox.flink.running)) {
      // Everything is read; stopping the archive delivers its buffer now instead of at the buffering interval.
      out('Every path has read everything: stopping the raw archive, which delivers its buffer.');
      await sandbox.supervisor.stop('raw-archive');
      archiveStopped = true;
    } else {
      await sleep(1000);
    }
    progress = await readProgress(sandbox);
    await tick();
  }
  const isDrained = drained(progress, sandbox.flink.running);
  if (isDrained && sandbox.flink.running) {
    // On Kafka the job commits its offsets on a checkpoint; on Kinesis the lag is 0 once it has read every shard
    // to its end. Either way the watermark that follows the last record, and the windows it closes, reach the
    // lake with the next checkpoints.
    const interval = sandbox.flink.checkpointIntervalMs ?? LOCAL_CHECKPOINT_INTERVAL_MS;
    out(`Waiting ${((2 * interval) / 1000).toFixed(0)} s for the stream job's next checkpoints to commit the windows the last watermark closed.`);
    await sleep(2 * interval);
  }
  await tick(true);
  const drainSeconds = (Date.now() - drainBegan) / 1000;
  out(isDrained ? `All paths caught up ${drainSeconds.toFixed(0)} s after the last record.` : `Not every path caught up within the drain timeout; the summary shows where things stand.`);
  const summary = await summarizeRun(sandbox.settings, sandbox.config, workload, sandbox.flink, began, producedAt.times);
  out(formatSummary(summary));
  return { runDir, workload, summary, produceSeconds, drainSeconds, drained: isDrained };
}
