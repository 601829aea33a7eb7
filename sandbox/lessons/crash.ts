import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { killFlink } from '../chaos';
import { sandboxDirs } from '../settings';
import { sqlString } from '../serving/lake-sql';
import { check, compareWithOracle, LessonFailed, setUpLesson, MINUTE, runTraffic, txn, withLake, type Lesson, type LessonContext } from './runner';

/**
 * Exactly-once under a crash: while the log is being produced, the stream job's JVM is killed with
 * SIGKILL (no chance to flush or say goodbye), then started again as the sandbox starts it. It restores
 * its newest checkpoint (Kafka offsets, open windows, deduplication state) and reads on from the offsets
 * in it; the file sinks commit only what a checkpoint covers. The views come out exactly as the oracle
 * computes them from the records produced: nothing lost, nothing counted twice.
 */

/** How long into the second phase's producing the job is killed (the phase takes about 20 s). */
const KILL_AFTER_MS = 6_000;

interface CrashReport {
  checkpoint: string;
  /** Part files the killed job had started and no checkpoint had committed yet. */
  uncommitted: number;
  restartMs: number;
  restoredFrom?: string;
}

/** Files of the views the sinks are still writing (Flink's in-progress part files start with a dot). */
function inProgressFiles(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.startsWith('.part-')).length;
}

/** kill -9 the stream job and start it again from its newest checkpoint (the `kill-flink` fault of `sandbox chaos`). */
async function killAndRestartStreamJob({ sandbox }: LessonContext): Promise<CrashReport> {
  const version = sandbox.flink.version!;
  const uncommitted = inProgressFiles(path.join(sandboxDirs(sandbox.settings).lake, 'views'));
  const crash = await killFlink(sandbox, { version });
  if (!crash.restoreFrom) throw new LessonFailed('the killed job left no complete checkpoint to restore');
  return { checkpoint: crash.restoreFrom.dir, uncommitted, restartMs: crash.restartMs, restoredFrom: crash.restoredFrom };
}

async function run({ sandbox, out }: LessonContext): Promise<void> {
  const context = { sandbox, out };
  const { id, card, customer, start } = setUpLesson(context, 'crash');
  const middle = start + 6 * MINUTE;
  const end = middle + 8 * MINUTE;
  // One card with a transaction every 20 s across the crash, so its windows are open when the job dies.
  const placed = Array.from({ length: Math.floor((end - start - 2 * MINUTE) / 20_000) }, (_, i) => {
    const eventTime = start + 30_000 + i * 20_000;
    return { producedAt: eventTime, record: txn({ txnId: `${id}-${i}`, cardId: card, customerId: customer, amount: 5 + (i % 7), eventTime }) };
  });
  out(`The log gets ${Math.round((end - start) / MINUTE)} minutes of event time in two phases, with card ${card} spending every 20 s throughout.`);
  out(`About ${KILL_AFTER_MS / 1000} s into the second phase, while the job is reading it, its JVM gets SIGKILL and is started again.`);
  let crash: Promise<CrashReport> | undefined;
  const { records } = await runTraffic(context, {
    from: start,
    phases: [
      { until: middle, placed: placed.filter((p) => p.producedAt < middle) },
      // Slower, so the job is mid-phase when it dies.
      { until: end, placed: placed.filter((p) => p.producedAt >= middle), rate: 25 },
    ],
    afterPhase: async (i) => {
      if (i !== 0) return;
      crash = sleep(KILL_AFTER_MS).then(() => killAndRestartStreamJob(context));
      // A failure surfaces where it is awaited, after the traffic.
      crash.catch(() => undefined);
    },
  });
  if (!crash) throw new Error('the crash was never scheduled');
  const report = await crash;
  const version = sandbox.flink.version!;
  const oracle = await compareWithOracle(context, records, { version, from: start, allowedLatenessMs: sandbox.config.streamProcessing.allowedLatenessMs });
  const cardRows = await withLake(context, (lake) =>
    lake.query(`SELECT card_id, window_start, count(*) AS copies FROM views_spend_per_card_minute WHERE v = '${version}' AND window_start >= ${start} GROUP BY ALL HAVING count(*) > 1`),
  );
  const cardMinutes = await withLake(context, (lake) => lake.query(`SELECT count(*) AS n FROM views_spend_per_card_minute WHERE v = '${version}' AND card_id = ${sqlString(card)}`));

  out('');
  out(`Killed at the newest complete checkpoint ${path.basename(report.checkpoint)}, with ${report.uncommitted} part file(s) in progress that no checkpoint had committed.`);
  out(`Started again in ${(report.restartMs / 1000).toFixed(1)} s; its log says it restored from ${report.restoredFrom ?? '(not found in the log)'}.`);
  out(`Card-minutes the watermark closed in the lesson's event time: ${oracle.closed}; differing from the oracle: ${oracle.wrong.length}; written more than once: ${cardRows.length}.`);
  out(`Card ${card}: ${cardMinutes[0]?.n} card-minutes, each with every transaction once.`);
  out('Why: a checkpoint holds the Kafka offsets and all the state (open windows, deduplication) taken at one barrier. After the crash the job');
  out('goes back to exactly that point and reads the records after it again; what the sinks had written since was never committed');
  out('(in-progress and pending part files), so it is written again, once. At-least-once reading + state and output from the same snapshot = exactly-once results.');

  check(report.restoredFrom === report.checkpoint, 'the restarted job restored the newest checkpoint', () => `restored ${report.restoredFrom}, newest ${report.checkpoint}`);
  check(oracle.closed > 100, 'the comparison covers the windows around the crash', () => `only ${oracle.closed} card-minutes closed`);
  check(oracle.wrong.length === 0 && cardRows.length === 0, 'every card-minute equals the oracle, once', () => [...oracle.wrong.slice(0, 10), ...cardRows.map((r) => `${r.card_id}@${r.window_start} x${r.copies}`)].join('; '));
  out('Point holds: after kill -9 mid-run, the views are exactly what a run without a crash gives.');
}

export const crashLesson: Lesson = { name: 'crash', title: 'Exactly-once under a crash', run, ownSandbox: true };
