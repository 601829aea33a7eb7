import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { injectFault, type FaultName, type FaultReport } from '../../../sandbox/chaos';
import { sandboxPlatformConfig } from '../../../sandbox/platform-config';
import { runWorkload, type RunResult } from '../../../sandbox/run';
import { openLakeSql, type LakeSql } from '../../../sandbox/serving/lake-sql';
import { startSandbox, type Sandbox } from '../../../sandbox/session';
import type { OnFailureRecord } from '../../../sandbox/stand-ins/event-source-mapping';
import { sandboxDirs } from '../../../sandbox/settings';
import {
  checkArchive,
  countAlerts,
  deliveredAlerts,
  expectAlertsDeliveredOnce,
  expectFlinkViews,
  expectSpeedDeadLetters,
  expectSpeedLakeAlerts,
  expectSpeedView,
  expectStreamDeadLetters,
  expectStreamLakeAlerts,
  type Archived,
} from '../../helpers/run-outputs';
import { planShortRun, REPO, testSettings, type PlannedRun } from '../../helpers/sandbox';

/**
 * Issue 16, the fault suite: one seeded workload through the whole sandbox on Kafka with real engines, while
 * sandbox/chaos.ts injects each fault in turn (the same module `npm run sandbox -- chaos <fault>` uses). Every
 * output is then compared with the exact recomputation from the produced records (sandbox/expected), which is
 * what the same workload gives without faults (test/sandbox/e2e.test.ts holds the sandbox to it): one shared
 * baseline instead of a second run, and one run for all faults, to stay within CI's time.
 *
 * What each managed service guarantees under the fault, and what the stand-in does, is in docs/faults.md
 * (with the AWS pages): Managed Flink restarts from its latest checkpoint
 * (https://docs.aws.amazon.com/managed-flink/latest/java/how-fault.html); a Lambda event source mapping on
 * Kinesis or MSK is at least once and retries a batch after a function error
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html, "at least once");
 * Firehose is at least once and may deliver duplicates
 * (https://docs.aws.amazon.com/firehose/latest/dev/basic-deliver.html, "Duplicated records").
 *
 * The lake is a small tmpfs of its own, so that filling it is a real ENOSPC for S3Proxy and the Flink job
 * without touching the machine's disk.
 */

const RATE = 200;
const DURATION_SECONDS = 110;
const CHECKPOINT_INTERVAL_MS = 5000;
const LAKE_SIZE = '256m';
const { config } = sandboxPlatformConfig(REPO);

/**
 * When each fault begins, seconds after producing began. The Flink job's kill runs on its own (its restart
 * takes 15-25 s), after the full disk, which it must ride out too; the others one after another, each after
 * the one before has recovered.
 */
const FLINK_SCHEDULE: Schedule = [{ fault: 'kill-flink', atSeconds: 40 }];
const SCHEDULE: Schedule = [
  { fault: 'kill-speed-layer', atSeconds: 10 },
  { fault: 'fill-disk', atSeconds: 18, downMs: 8000 },
  { fault: 'restart-s3', atSeconds: 32, downMs: 5000 },
  // Waits for the archive's first flush: its 60 s buffering interval from the first record.
  { fault: 'kill-archiver', atSeconds: 45 },
  { fault: 'restart-log', atSeconds: 75, downMs: 5000 },
];
type Schedule = ReadonlyArray<{ fault: FaultName; atSeconds: number; downMs?: number }>;

describe('faults on the sandbox (Kafka): every output equals the run without them', () => {
  let sandbox: Sandbox;
  let plan: PlannedRun;
  let run: RunResult;
  let lake: LakeSql;
  let home: string | undefined;
  let lakeDir: string | undefined;
  /** Why the lake's tmpfs could not be mounted (the disk-full test then fails saying so). */
  let mountError: string | undefined;
  const reports = new Map<FaultName, FaultReport | Error>();

  const report = (fault: FaultName): FaultReport => {
    const r = reports.get(fault);
    if (r instanceof Error) throw new Error(`${fault} failed: ${r.message}`);
    if (!r) throw new Error(`${fault} was not injected (the run ended first?)`);
    return r;
  };

  /** Set once the run is over (or failed): no fault starts after it. */
  let runOver = false;

  async function injectOnSchedule(began: number, schedule: Schedule): Promise<void> {
    for (const step of schedule) {
      await sleep(Math.max(0, began + step.atSeconds * 1000 - Date.now()));
      if (runOver) return;
      if (step.fault === 'fill-disk' && mountError) {
        reports.set(step.fault, new Error(`the lake has no tmpfs of its own, so its disk cannot be filled: ${mountError}`));
        continue;
      }
      try {
        reports.set(step.fault, await injectFault(sandbox, step.fault, { downMs: step.downMs, waitMs: 60_000 }));
      } catch (error) {
        reports.set(step.fault, error as Error);
      }
    }
  }

  beforeAll(async () => {
    const settings = await testSettings('tributary-faults', { log: 'kafka' });
    home = settings.home;
    lakeDir = sandboxDirs(settings).lake;
    fs.mkdirSync(lakeDir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${LAKE_SIZE}`, 'tmpfs', lakeDir], { stdio: 'pipe' });
    } catch (error) {
      mountError = `mount -t tmpfs -o size=${LAKE_SIZE} tmpfs ${lakeDir} was refused (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}); the suite must run as root (CI does)`;
      lakeDir = undefined;
    }
    plan = planShortRun(settings, config, { seed: 16, rate: RATE, durationSeconds: DURATION_SECONDS });
    sandbox = await startSandbox(settings, { cards: plan.workload.groundTruth.cards, flinkCheckpointIntervalMs: CHECKPOINT_INTERVAL_MS });
    const lines: string[] = [];
    const began = Date.now();
    const faults = Promise.all([injectOnSchedule(began, FLINK_SCHEDULE), injectOnSchedule(began, SCHEDULE)]);
    try {
      run = await runWorkload(sandbox, { rate: RATE, durationSeconds: DURATION_SECONDS, seed: 16, workload: plan.workload, stopArchiveWhenCaughtUp: true, out: (line) => lines.push(line) });
    } finally {
      runOver = true;
      await faults;
      // The run's own account of the faults (retries, progress), for whoever reads a failure.
      console.log(lines.join('\n'));
    }
    lake = await openLakeSql(sandboxDirs(settings).lake);
    for (const [fault, r] of reports) {
      console.log(r instanceof Error ? `${fault}: FAILED ${r.message}` : `${fault}: at ${((r.injectedAt - began) / 1000).toFixed(1)} s, back after ${((r.recoveredAt - r.injectedAt) / 1000).toFixed(1)} s ${JSON.stringify(r.details)}`);
    }
  }, 900_000);

  afterAll(async () => {
    lake?.close();
    await sandbox?.log.close();
    await sandbox?.supervisor.stopAll();
    if (lakeDir) {
      try {
        execFileSync('umount', [lakeDir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', lakeDir], { stdio: 'pipe' });
      }
    }
    if (home) fs.rmSync(home, { recursive: true, force: true });
  }, 120_000);

  it('drains every path after all the faults', () => {
    console.log(`produce ${run.produceSeconds.toFixed(0)} s, drain ${run.drainSeconds.toFixed(0)} s`);
    expect(run.drained).toBe(true);
  });

  it('kill -9 of the Flink job: the job restarts from its newest checkpoint', () => {
    const crash = report('kill-flink').details;
    expect(crash.restoreFrom).toBeDefined();
    expect(crash.restoredFrom).toBe((crash.restoreFrom as { dir: string }).dir);
  });

  it('Kafka broker stopped and started again', () => {
    expect(report('restart-log').details.downMs).toBeGreaterThanOrEqual(5000);
  });

  it('speed layer killed after an S3 write of a batch: the batch is delivered again and rewritten under the same key', () => {
    const { details } = report('kill-speed-layer');
    const file = details.writtenBeforeKill as string;
    // Lambda's ESM retries a batch whose invocation did not return; the handler's object names are the segment's first record.
    expect(fs.statSync(file).mtimeMs).toBeGreaterThan(details.killedAt as number);
  });

  it('raw archive killed in the middle of a flush: the flush is delivered again under the same names', () => {
    const { details } = report('kill-archiver');
    expect(details.intentAfterKill).toBe(true);
    const objects = details.objectsBeforeKill as string[];
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) expect([o, fs.statSync(o).mtimeMs > (details.killedAt as number)]).toEqual([o, true]);
  });

  it('S3Proxy stopped and started again', () => {
    expect(report('restart-s3').details.downMs).toBeGreaterThanOrEqual(5000);
  });

  it('the disk under the lake filled until writes failed, then freed', () => {
    if (mountError) throw new Error(mountError);
    const { details } = report('fill-disk');
    expect(details.filledBytes).toBeGreaterThan(0);
    expect(details.freeWhileFull).toBe(0);
    // Which writers meet the full disk in those seconds depends on timing (docs/faults.md); S3Proxy's log says.
    const refused = fs.readFileSync(`${sandboxDirs(sandbox.settings).logs}/s3proxy.log`, 'utf8').split('No space left on device').length - 1;
    console.log(`fill-disk: S3Proxy logged ${refused} write(s) refused with ENOSPC`);
  });

  let archived: Archived;
  it('archives every valid record at least once, and reports the duplicates', async () => {
    archived = await checkArchive(lake, plan.prefix, plan.expected);
    console.log(`archive: ${archived.duplicates} duplicate row(s) of ${archived.duplicated.length} record(s) (Firehose may deliver duplicates; the stand-in rewrites a flush under the same names)`);
    expect(archived.missing).toEqual([]);
  });

  it('rejects every malformed record with its reason in the stream job', () => expectStreamDeadLetters(lake, plan.expected));

  it('writes Flink views equal to the run without faults', () => expectFlinkViews(lake, plan.expected, plan.prefix, config));

  it('raises the stream alerts of the run without faults', () => expectStreamLakeAlerts(lake, plan.workload, plan.prefix));

  it('delivers every stream alert to subscribers exactly once, though the log may hold some twice', () =>
    expectAlertsDeliveredOnce(sandbox.settings, config, lake, plan.workload, plan.prefix, { logAtLeastOnce: true, paths: ['stream'] }));

  it('raises no false speed alert, and delivers each speed alert to subscribers once', async () => {
    // Recall is not asserted: a restarted speed layer starts its rules' memory afresh, and see the known defect below.
    await expectSpeedLakeAlerts(lake, plan.workload, plan.prefix, 0);
    const delivered = countAlerts(await deliveredAlerts(sandbox.settings, plan.prefix), 'speed');
    expect([...delivered].filter(([, times]) => times !== 1)).toEqual([]);
    const incidents = new Set(plan.workload.groundTruth.incidents.map((i) => i.alertId));
    for (const id of delivered.keys()) expect([id, incidents.has(id)]).toEqual([id, true]);
  });

  /**
   * The speed path loses nothing: the speed view exact, every malformed record dead-lettered. Except for a
   * known defect (docs/faults.md, F4): its mapping retries a failed batch `speedLayer.retryAttempts` times (3;
   * the configuration allows no -1, "until the records expire") and then sends the batch's metadata to the
   * on-failure destination and moves on, as Lambda does after MaximumRetryAttempts
   * (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html). Whether the S3 faults
   * here outlast those retries depends on timing: in some runs about 20 batches went there, in others none.
   * With none, the exact check holds. With some, their transactions are missing from the speed view (the raw
   * archive and the batch layer have them), and what is checked is that the loss is recorded, not silent:
   * the on-failure destination holds a record per batch given up. Fixing F4 makes the exact check hold always.
   */
  it('the speed path loses nothing, or (known defect F4) records every batch it gave up on in the on-failure destination', async () => {
    const givenUp = run.summary.speed.onFailureBatches;
    if (givenUp === 0) {
      await expectSpeedView(lake, plan.expected);
      await expectSpeedDeadLetters(lake, plan.expected);
      return;
    }
    console.log(`KNOWN DEFECT F4 (docs/faults.md): the speed layer gave up on ${givenUp} batch(es) during the S3 faults; the speed view lacks their transactions`);
    // The records of the batches given up, from the on-failure destination's records (the ESM's BatchInfo).
    const dir = sandboxDirs(sandbox.settings).onFailure;
    let recordsGivenUp = 0;
    for (const name of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      if (!fs.statSync(`${dir}/${name}`).isFile()) continue;
      const record = JSON.parse(fs.readFileSync(`${dir}/${name}`, 'utf8')) as OnFailureRecord;
      recordsGivenUp += Number((record.KafkaBatchInfo ?? record.KinesisBatchInfo)?.batchSize);
    }
    // Each transaction missing from the speed view is in a batch given up: the loss is recorded, never silent.
    const [served] = await lake.query(`SELECT sum(txn_count) AS n FROM speed_spend_per_card_minute`);
    const distinctValid = new Set(plan.expected.valid.map((d) => d.transaction.txnId)).size;
    console.log(`speed view: ${served.n} transactions of ${distinctValid}; ${recordsGivenUp} records in the batches given up`);
    expect(recordsGivenUp).toBeGreaterThan(0);
    expect(distinctValid - Number(served.n)).toBeLessThanOrEqual(recordsGivenUp);
  });
});
