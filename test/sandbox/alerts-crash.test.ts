import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkpointsDir, killFlink, newestCheckpoint, type Checkpoint } from '../../sandbox/chaos';
import type { GeneratedWorkload } from '../../sandbox/generator';
import { openAlertsLog } from '../../sandbox/log';
import { sandboxPlatformConfig } from '../../sandbox/platform-config';
import { runWorkload, type RunResult } from '../../sandbox/run';
import { startSandbox, type Sandbox } from '../../sandbox/session';
import { PATH_RULES } from '../../sandbox/summary';
import { AlertsLogTail, countAlerts as count, deliveredAlerts, readAlertsLog, type LoggedAlert } from '../helpers/run-outputs';
import { planShortRun, REPO, testSettings } from '../helpers/sandbox';

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
    const { settings } = sandbox;
    const version = sandbox.flink.version!;
    const checkpoints = checkpointsDir(settings, version);
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
        // The kill and the restart as `sandbox chaos kill-flink` does them.
        const crash = await killFlink(sandbox, { version });
        const atMs = crash.killedAt - began;
        // Whatever reached the log before the kill (the restarted job's own sends come after it).
        seen.push(...(await tail.next()));
        const restoreFrom = crash.restoreFrom;
        if (!restoreFrom) throw new Error(`no complete checkpoint under ${checkpoints} at the crash`);
        // A lower bound: an alert the sink sent after the checkpoint's barrier but before its `_metadata` was
        // written is re-sent too, and is not counted here.
        const sentAfterCheckpoint = seen
          .filter((a) => a.detectedBy === 'stream' && a.appendedAt > restoreFrom.completedAt && a.appendedAt <= crash.killedAt)
          .map((a) => a.alertId);
        // The next checkpoint completing between the alert and the kill (a narrow race) leaves nothing to
        // re-send: crash the restored job once more, as it takes in the rest of the run.
        if (sentAfterCheckpoint.length > 0 || attempt === 2) {
          return { atMs, attempts: attempt, sentAfterCheckpoint, restoreFrom, restoredFrom: crash.restoredFrom, restartMs: crash.restartMs };
        }
      }
    } finally {
      await alertsLog.close();
    }
  }

  beforeAll(async () => {
    const settings = await testSettings('tributary-alerts-crash', { log: 'kafka' });
    home = settings.home;
    ({ workload, prefix } = planShortRun(settings, config, { seed: 13, rate: RATE, durationSeconds: DURATION_SECONDS }));
    sandbox = await startSandbox(settings, { cards: workload.groundTruth.cards, flinkCheckpointIntervalMs: CHECKPOINT_INTERVAL_MS });
    const began = Date.now();
    const crashed = crashAndRestore(began);
    // A crash that fails must not leave the run waiting for a job that never comes back.
    crashed.catch(() => undefined);
    run = await runWorkload(sandbox, { rate: RATE, durationSeconds: DURATION_SECONDS, seed: 13, workload, stopArchiveWhenCaughtUp: true, out: () => undefined });
    crash = await crashed;

    onLog = await readAlertsLog(settings, config, prefix, 'crash-check');
  }, 600_000);

  afterAll(async () => {
    await sandbox?.log.close();
    await sandbox?.supervisor.stopAll();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  }, 120_000);

  const delivered = () => deliveredAlerts(sandbox.settings, prefix);

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
