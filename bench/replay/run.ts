/**
 * Kappa replay throughput on the sandbox (Kafka): how fast the Flink job re-reads the log into a new
 * version, in events per second and as a multiple of the rate the live job was fed, in one run.
 *
 *   1. A sandbox of its own (temporary home, free ports); a generated workload produced at the live
 *      rate (default 1,000 records/s for 60 s); the live job keeps up (see bench/README.md, `e2e`).
 *   2. `replay --from <before the run>` into v=2: the time from the replay job RUNNING to its consumer
 *      group having committed every record, with 1 s checkpoints so commits show progress finely.
 *   3. replay rate = records on the log / that time; ratio = replay rate / live rate.
 *
 * Run: `npm run bench -- replay`, or `npx ts-node --transpile-only bench/replay/run.ts [--rate n] [--duration s]`.
 * Writes bench/results/replay.json. One run on whatever machine runs it: compare the ratio across runs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateWorkload } from '../../sandbox/generator';
import { sandboxPlatformConfig } from '../../sandbox/platform-config';
import { runWorkload } from '../../sandbox/run';
import { ensureFlinkJar } from '../../lib/constructs/flink-application/flink-jar';
import { flinkLag, flinkProcessName, startFlinkVersion, startSandbox, type Sandbox } from '../../sandbox/session';
import { REPO, testSettings } from '../../test/helpers/sandbox';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
};
const LIVE_RATE = arg('rate', 1000);
const DURATION = arg('duration', 60);
const CHECKPOINT_MS = 1000;
const RESULT = path.join(REPO, 'bench', 'results', 'replay.json');

async function main(): Promise<void> {
  const { config } = sandboxPlatformConfig(REPO);
  const settings = await testSettings('tributary-bench-replay', { log: 'kafka' });
  const loadBefore = loadavg()[0];
  const workload = generateWorkload({ seed: 3, startTime: Date.now(), rate: LIVE_RATE, durationSeconds: DURATION });
  let sandbox: Sandbox | undefined;
  try {
    sandbox = await startSandbox(settings, { cards: workload.groundTruth.cards, flinkCheckpointIntervalMs: CHECKPOINT_MS });
    const replayFrom = new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    console.log(`Live: ${workload.records.length} records at ${LIVE_RATE}/s ...`);
    const live = await runWorkload(sandbox, { rate: LIVE_RATE, durationSeconds: DURATION, seed: 3, workload, stopArchiveWhenCaughtUp: true, out: () => undefined });
    const liveRate = workload.records.length / live.produceSeconds;
    if (!live.drained) throw new Error('the live run did not catch up; the replay would race it');

    console.log(`Replay from ${replayFrom} into v=2 ...`);
    const jar = ensureFlinkJar().path;
    await startFlinkVersion(sandbox.supervisor, settings, config, { version: 2, startTimestamp: replayFrom, checkpointIntervalMs: CHECKPOINT_MS }, jar);
    const running = Date.now();
    let caughtUp: number | undefined;
    while (Date.now() - running < 600_000) {
      const lag = await flinkLag(settings, 2).catch(() => undefined);
      // The group's first commit comes with the first checkpoint; until then the lag is the whole log.
      if (lag === 0) {
        caughtUp = Date.now();
        break;
      }
      await sleep(250);
    }
    if (caughtUp === undefined) throw new Error('the replay did not catch up within 600 s');
    await sandbox.supervisor.stop(flinkProcessName(2));
    const replaySeconds = (caughtUp - running) / 1000;
    const replayRate = workload.records.length / replaySeconds;
    const result = {
      benchmark: 'replay',
      date: new Date().toISOString(),
      machine: {
        cores: availableParallelism(),
        node: process.version,
        java: (spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr || '').split('\n')[0].trim(),
        loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadavg()[0].toFixed(2)) },
      },
      parameters: { liveRate: LIVE_RATE, durationSeconds: DURATION, records: workload.records.length, checkpointIntervalMs: CHECKPOINT_MS, log: 'kafka (4 partitions)' },
      live: { produceSeconds: Number(live.produceSeconds.toFixed(1)), achievedRate: Math.round(liveRate), drainSeconds: Number(live.drainSeconds.toFixed(1)) },
      replay: { secondsFromRunningToCaughtUp: Number(replaySeconds.toFixed(1)), eventsPerSecond: Math.round(replayRate) },
      ratio: { replayOverLiveRate: Number((replayRate / liveRate).toFixed(2)) },
      notes: [
        'Baseline: the rate the live job was fed in the same run (it kept up: the live run drained before the replay started).',
        'The replay time runs from the job reaching RUNNING (its start-up, ~3 s here, is excluded) to its consumer group committing the last offset; commits come with checkpoints, every 1 s here, so the figure is up to ~1 s high.',
        'The live job was still running (idle) during the replay, as in the cloud, where v=n serves until the switch.',
      ],
    };
    fs.mkdirSync(path.dirname(RESULT), { recursive: true });
    fs.writeFileSync(RESULT, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`Live ${Math.round(liveRate)}/s for ${workload.records.length} records; replay ${Math.round(replayRate)} events/s (${replaySeconds.toFixed(1)} s), ${result.ratio.replayOverLiveRate}x the live rate. Written to ${path.relative(REPO, RESULT)}`);
  } finally {
    await sandbox?.log.close();
    await sandbox?.supervisor.stopAll();
    fs.rmSync(settings.home, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
