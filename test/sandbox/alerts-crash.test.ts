import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureFlinkJar } from '../../lib/constructs/flink-application/flink-jar';
import { alertRecordSchema } from '../../lambdas/shared/alert';
import { readDeliveredAlerts } from '../../sandbox/alerts';
import type { GeneratedWorkload } from '../../sandbox/generator';
import { openAlertsLog, type LogReader } from '../../sandbox/log';
import { sandboxPlatformConfig } from '../../sandbox/platform-config';
import { makeWorkload, runWorkload, type RunResult } from '../../sandbox/run';
import { flinkProcessName, startFlinkVersion, startSandbox, type Sandbox } from '../../sandbox/session';
import { sandboxDirs } from '../../sandbox/settings';
import { PATH_RULES } from '../../sandbox/summary';
import { REPO, testSettings } from '../helpers/sandbox';

/**
 * Issue 13, "exactly once or idempotent, said plainly", through a crash. Both paths write alerts to the
 * alerts log AT LEAST once: Flink's alerts sink is at-least-once, so a job restored from a checkpoint sends
 * again what it sent since that checkpoint. Subscribers still get each alert EXACTLY once, because the
 * alert notifier is idempotent on `<detectedBy>:<alertId>` (Powertools idempotency on DynamoDB).
 *
 * On Kafka, with real engines: part way through a run with fraud, the Flink job's JVM is SIGKILLed right
 * after it appended a stream alert to the log that its newest completed checkpoint does not cover (the
 * alert reached the log after that checkpoint's `_metadata` was written, so the sink sent it after the
 * checkpoint's barrier), and before the next checkpoint completes. The job is started again as the session
 * starts it; it restores from that checkpoint and re-sends those alerts. The test then checks that the log
 * holds them twice (so the crash really caused redelivery, and the test can fail) while subscribers got
 * every stream incident of the ground truth exactly once, and every speed-layer alert exactly once.
 */

const RATE = 200;
const DURATION_SECONDS = 100;
/** The crash comes once the run is this far in (and a stream alert is then caught after a checkpoint). */
const CRASH_AFTER_SECONDS = 30;
/** How long to wait for such an alert before crashing anyway (the duplicate assertion then says why it fails). */
const CATCH_ALERT_TIMEOUT_MS = 40_000;
const CHECKPOINT_INTERVAL_MS = 5000;
const { config } = sandboxPlatformConfig(REPO);

interface Checkpoint {
  /** `<checkpoints>/<job id>/chk-<n>` */
  dir: string;
  /** When its `_metadata` was written, epoch ms: the checkpoint is complete from then on. */
  completedAt: number;
}

/** The newest complete checkpoint under `root` (the one the job restores from: LaunchOptions.latestCheckpoint). */
function newestCheckpoint(root: string): Checkpoint | undefined {
  let newest: Checkpoint | undefined;
  if (!fs.existsSync(root)) return undefined;
  for (const job of fs.readdirSync(root)) {
    let entries: string[];
    try {
      entries = fs.readdirSync(path.join(root, job));
    } catch {
      continue;
    }
    for (const chk of entries.filter((e) => e.startsWith('chk-'))) {
      try {
        const completedAt = fs.statSync(path.join(root, job, chk, '_metadata')).mtimeMs;
        if (!newest || completedAt > newest.completedAt) newest = { dir: path.join(root, job, chk), completedAt };
      } catch {
        // Not complete yet, or deleted as a newer one completed.
      }
    }
  }
  return newest;
}

interface LoggedAlert {
  detectedBy: string;
  alertId: string;
  /** When the log appended it (the alerts topic uses LogAppendTime). */
  appendedAt: number;
}

/** Reads the alerts log from where it last stopped, per partition. */
class AlertsLogTail {
  private readonly after = new Map<string, string | undefined>();
  constructor(
    private readonly reader: LogReader,
    private readonly prefix: string,
  ) {}

  async next(): Promise<LoggedAlert[]> {
    const out: LoggedAlert[] = [];
    for (const unit of await this.reader.units()) {
      for (;;) {
        const records = await this.reader.read(unit, this.after.get(unit), 1000);
        if (records.length === 0) break;
        for (const r of records) {
          const alert = alertRecordSchema.parse(JSON.parse(r.data.toString('utf8')));
          if (alert.txnIds[0].startsWith(this.prefix)) out.push({ detectedBy: alert.detectedBy, alertId: alert.alertId, appendedAt: r.arrivalTime });
        }
        this.after.set(unit, records[records.length - 1].position);
      }
    }
    return out;
  }
}

interface Crash {
  /** When the crash came, ms after producing began. */
  atMs: number;
  /** The stream alerts the killed job appended after the checkpoint it is restored from. */
  sentAfterCheckpoint: string[];
  /** The checkpoint the restarted job must restore from (newest complete one after the kill). */
  restoreFrom: Checkpoint;
  /** What the restarted job's log says it restored from. */
  restoredFrom?: string;
  restartMs: number;
  /** Crashes it took (a second one only when the first left nothing to re-send). */
  attempts: number;
}

describe('stream alerts through a crash of the Flink job (Kafka)', () => {
  let sandbox: Sandbox;
  let workload: GeneratedWorkload;
  let run: RunResult;
  let crash: Crash;
  let prefix: string;
  let onLog: LoggedAlert[];
  /** The sandbox's temporary home, deleted at the end even when the sandbox did not start. */
  let home: string | undefined;

  /**
   * Waits until the run is CRASH_AFTER_SECONDS in, then for a stream alert appended after the newest
   * complete checkpoint, and SIGKILLs the job's process group at once (the next checkpoint is then at most
   * an interval away; the alerts counted are re-checked against the checkpoint complete after the kill).
   * Then starts the job again, as the session does, and waits until it runs.
   */
  async function crashAndRestore(began: number): Promise<Crash> {
    const { settings, supervisor } = sandbox;
    const version = sandbox.flink.version!;
    const name = flinkProcessName(version);
    const checkpoints = path.join(sandboxDirs(settings).flink, `v${version}`, 'checkpoints');
    await sleep(Math.max(0, began + CRASH_AFTER_SECONDS * 1000 - Date.now()));

    const alertsLog = openAlertsLog(settings, config);
    const seen: LoggedAlert[] = [];
    try {
      const tail = new AlertsLogTail(alertsLog.reader('crash-watch'), prefix);
      for (let attempt = 1; ; attempt++) {
        const deadline = Date.now() + CATCH_ALERT_TIMEOUT_MS;
        for (;;) {
          // The checkpoint first: an alert read afterwards and appended after it is not covered by it.
          const checkpoint = newestCheckpoint(checkpoints);
          const fresh = await tail.next();
          seen.push(...fresh);
          if (checkpoint && fresh.some((a) => a.detectedBy === 'stream' && a.appendedAt > checkpoint.completedAt)) break;
          if (Date.now() > deadline) break;
          await sleep(100);
        }
        const job = supervisor.running().find((r) => r.name === name);
        if (!job) throw new Error(`${name} is not running`);
        process.kill(-job.pid, 'SIGKILL');
        while (supervisor.running().some((r) => r.name === name)) await sleep(50);
        const atMs = Date.now() - began;
        // Whatever reached the log before the kill.
        seen.push(...(await tail.next()));
        const restoreFrom = newestCheckpoint(checkpoints);
        if (!restoreFrom) throw new Error(`no complete checkpoint under ${checkpoints} at the crash`);
        // A lower bound: an alert the sink sent after the checkpoint's barrier but before its `_metadata` was
        // written is re-sent too, and is not counted here.
        const sentAfterCheckpoint = seen.filter((a) => a.detectedBy === 'stream' && a.appendedAt > restoreFrom.completedAt).map((a) => a.alertId);

        const logFile = path.join(sandboxDirs(settings).logs, `${name}.log`);
        const logStart = fs.statSync(logFile).size;
        const restartBegan = Date.now();
        await startFlinkVersion(supervisor, settings, sandbox.config, { version, checkpointIntervalMs: CHECKPOINT_INTERVAL_MS }, ensureFlinkJar().path);
        const restartMs = Date.now() - restartBegan;
        const fd = fs.openSync(logFile, 'r');
        const since = Buffer.alloc(fs.statSync(logFile).size - logStart);
        try {
          fs.readSync(fd, since, 0, since.length, logStart);
        } finally {
          fs.closeSync(fd);
        }
        const restoredFrom = /Restoring from checkpoint (\S+)/.exec(since.toString('utf8'))?.[1];
        // The next checkpoint completing between the alert and the kill (a narrow race) leaves nothing to
        // re-send: crash the restored job once more, as it takes in the rest of the run.
        if (sentAfterCheckpoint.length > 0 || attempt === 2) return { atMs, attempts: attempt, sentAfterCheckpoint, restoreFrom, restoredFrom, restartMs };
      }
    } finally {
      await alertsLog.close();
    }
  }

  beforeAll(async () => {
    const settings = await testSettings('tributary-alerts-crash', { log: 'kafka' });
    home = settings.home;
    workload = makeWorkload(
      {
        seed: 13,
        startTime: Math.floor((Date.now() + 20_000) / 60_000) * 60_000 - 20_000,
        rate: RATE,
        durationSeconds: DURATION_SECONDS,
        rates: { r1: 5, r2: 5, r3: 5 },
      },
      config,
    );
    prefix = `${workload.groundTruth.runId}-`;
    sandbox = await startSandbox(settings, { cards: workload.groundTruth.cards, flinkCheckpointIntervalMs: CHECKPOINT_INTERVAL_MS });
    const began = Date.now();
    const crashed = crashAndRestore(began);
    // A crash that fails must not leave the run waiting for a job that never comes back.
    crashed.catch(() => undefined);
    run = await runWorkload(sandbox, { rate: RATE, durationSeconds: DURATION_SECONDS, seed: 13, workload, stopArchiveWhenCaughtUp: true, out: () => undefined });
    crash = await crashed;

    const alertsLog = openAlertsLog(settings, config);
    try {
      onLog = await new AlertsLogTail(alertsLog.reader('crash-check'), prefix).next();
    } finally {
      await alertsLog.close();
    }
  }, 600_000);

  afterAll(async () => {
    await sandbox?.log.close();
    await sandbox?.supervisor.stopAll();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  }, 120_000);

  const count = (items: ReadonlyArray<{ detectedBy: string; alertId: string }>, detectedBy: string) => {
    const n = new Map<string, number>();
    for (const a of items) if (a.detectedBy === detectedBy) n.set(a.alertId, (n.get(a.alertId) ?? 0) + 1);
    return n;
  };
  const delivered = async () => (await readDeliveredAlerts(sandbox.settings)).filter((d) => d.alert.txnIds[0].startsWith(prefix)).map((d) => d.alert);

  it('kills the job after it sent an alert its last checkpoint does not cover, and the restarted job restores from that checkpoint', () => {
    const duplicates = [...count(onLog, 'stream')].filter(([, n]) => n > 1).length;
    console.log(
      `crash ${(crash.atMs / 1000).toFixed(1)} s into the run (attempt ${crash.attempts}); restarted in ${(crash.restartMs / 1000).toFixed(1)} s from ${crash.restoredFrom}; ` +
        `${crash.sentAfterCheckpoint.length} stream alert(s) sent after that checkpoint; ${duplicates} stream alert(s) twice or more on the log; ` +
        `produce ${run.produceSeconds.toFixed(0)} s, drain ${run.drainSeconds.toFixed(0)} s`,
    );
    expect(run.drained).toBe(true);
    expect(crash.restoredFrom).toBe(crash.restoreFrom.dir);
    expect(crash.sentAfterCheckpoint.length).toBeGreaterThan(0);
  });

  it('re-sends to the alerts log every stream alert sent since the checkpoint: the log holds them twice', () => {
    const n = count(onLog, 'stream');
    expect([...n].filter(([, times]) => times > 1).length).toBeGreaterThan(0);
    for (const id of crash.sentAfterCheckpoint) expect([id, (n.get(id) ?? 0) >= 2]).toEqual([id, true]);
  });

  it('delivers every stream incident of the ground truth to subscribers exactly once', async () => {
    const truth = workload.groundTruth;
    const streamIncidents = truth.incidents.filter((i) => (PATH_RULES.stream as readonly string[]).includes(i.rule)).map((i) => i.alertId);
    expect(streamIncidents.length).toBeGreaterThan(20);
    const onLogN = count(onLog, 'stream');
    const deliveredN = count(await delivered(), 'stream');
    for (const id of streamIncidents) expect([id, onLogN.get(id) !== undefined, deliveredN.get(id)]).toEqual([id, true, 1]);
    // Nothing the stream path sent, confirmed or early, reached subscribers twice; and every alert on the log was delivered.
    expect([...deliveredN].filter(([, times]) => times !== 1)).toEqual([]);
    expect([...deliveredN.keys()].sort()).toEqual([...onLogN.keys()].sort());
  });

  it("delivers the speed layer's alerts exactly once", async () => {
    const onLogN = count(onLog, 'speed');
    const deliveredN = count(await delivered(), 'speed');
    expect(deliveredN.size).toBeGreaterThan(10);
    expect([...deliveredN].filter(([, times]) => times !== 1)).toEqual([]);
    expect([...deliveredN.keys()].sort()).toEqual([...onLogN.keys()].sort());
    const incidents = new Set(workload.groundTruth.incidents.map((i) => i.alertId));
    for (const id of deliveredN.keys()) expect([id, incidents.has(id)]).toEqual([id, true]);
  });
});
