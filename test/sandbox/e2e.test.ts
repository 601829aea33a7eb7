import * as fs from 'node:fs';
import { sandboxPlatformConfig } from '../../sandbox/platform-config';
import { runWorkload, type RunResult } from '../../sandbox/run';
import { openLakeSql, type LakeSql } from '../../sandbox/serving/lake-sql';
import { startSandbox, type Sandbox } from '../../sandbox/session';
import { sandboxDirs, type LogKind } from '../../sandbox/settings';
import { planShortRun, REPO, testSettings, type PlannedRun } from '../helpers/sandbox';
import { checkArchive, expectAlertsDeliveredOnce, expectDeadLetters, expectFlinkViews, expectLakeAlerts, expectSpeedView } from '../helpers/run-outputs';

/**
 * The whole sandbox, end to end, on each event log: real engines, the real
 * handler behind the event source mapping stand-in, the archive stand-in, the
 * Flink job (the same jar on either log), and the lake read back through DuckDB. A short run with fraud, out-of-order, late,
 * duplicate and malformed records, checked against an exact recomputation
 * from the produced records (sandbox/expected).
 */

const RATE = 200;
const DURATION_SECONDS = 60;
const { config } = sandboxPlatformConfig(REPO);

describe.each<LogKind>(['kafka', 'kinesis'])('the sandbox end to end on %s', (log) => {
  let sandbox: Sandbox;
  let plan: PlannedRun;
  let run: RunResult;
  let lake: LakeSql;

  beforeAll(async () => {
    const settings = await testSettings(`tributary-e2e-${log}`, { log });
    plan = planShortRun(settings, config, { seed: 11, rate: RATE, durationSeconds: DURATION_SECONDS });
    sandbox = await startSandbox(settings, { cards: plan.workload.groundTruth.cards, flinkCheckpointIntervalMs: 5000 });
    run = await runWorkload(sandbox, { rate: RATE, durationSeconds: DURATION_SECONDS, seed: 11, workload: plan.workload, stopArchiveWhenCaughtUp: true, out: () => undefined });
    lake = await openLakeSql(sandboxDirs(settings).lake);
  }, 600_000);

  afterAll(async () => {
    lake?.close();
    await sandbox?.log.close();
    await sandbox?.supervisor.stopAll();
    if (sandbox) fs.rmSync(sandbox.settings.home, { recursive: true, force: true });
  }, 120_000);

  it('runs the Flink job, and every path drains', () => {
    expect(run.drained).toBe(true);
    expect(sandbox.flink).toMatchObject({ running: true });
  });

  it('archives every valid event exactly as often as it was produced', async () => {
    const archived = await checkArchive(lake, plan.prefix, plan.expected);
    expect(archived.missing).toEqual([]);
    expect(archived.duplicated).toEqual([]);
  });

  it('dead-letters every malformed record with its reason, in the speed layer and the stream job', () => expectDeadLetters(lake, plan.expected));

  it('serves a speed view whose every card-minute is the exact sum of its deliveries', () => expectSpeedView(lake, plan.expected));

  it('writes Flink views equal to the exact recomputation for every window the watermark closed', () => expectFlinkViews(lake, plan.expected, plan.prefix, config));

  // The speed layer misses only a burst its batches or tumbling windows cut apart; the generator's bursts span milliseconds.
  it('raises alerts that match the ground truth: exactly in the stream job, never falsely in the speed layer', () => expectLakeAlerts(lake, plan.workload, plan.prefix, 0.9));

  it('puts every alert on the alerts log and delivers it to subscribers exactly once per path', () =>
    expectAlertsDeliveredOnce(sandbox.settings, config, lake, plan.workload, plan.prefix, { logAtLeastOnce: false }));
});
