import { replay } from '../replay';
import { servingVersion } from '../serving/version';
import { sqlString } from '../serving/lake-sql';
import { cardMinute, check, compareWithOracle, hms, LessonFailed, MINUTE, money, runTraffic, setUpLesson, withLake, type Lesson, type LessonContext } from './runner';

/**
 * Replay (Kappa reprocessing): a "bug" in the running version, then the fix rolled out as v+1. A card's
 * terminal uploads a transaction minutes late; with the profile's 30 s allowed lateness the stream job
 * leaves it out of its minute. The fix (an allowed lateness of 5 minutes) is rolled out the Kappa way:
 * the same jar with the changed property replays the log from the lesson's start into v+1 while v keeps
 * serving, then serving switches to v+1 and v's job is retired. v+1 counts the transaction, equals the
 * oracle (sandbox/expected) with the new lateness, and v stays in the lake for a rollback.
 */

const FIXED_LATENESS_MS = 5 * MINUTE;

async function run({ sandbox, out }: LessonContext): Promise<void> {
  const context = { sandbox, out };
  const { id, card, start, base, pay } = setUpLesson(context, 'replay');
  const firstPhaseEnd = base + 3 * MINUTE;
  const old = servingVersion(sandbox.settings, sandbox.config).version;
  if (sandbox.flink.version !== old) throw new LessonFailed(`the stream job writes v=${sandbox.flink.version} but v=${old} serves`);

  out(`v=${old} serves. Card ${card} pays 10.00 and 20.00 in the minute ${hms(base)}; its terminal uploads a third payment (30.00, at ${hms(base + 40_000)})`);
  out(`only when the log is at ${hms(firstPhaseEnd)}, 2 min 20 s late. The job's allowed lateness is ${sandbox.config.streamProcessing.allowedLatenessMs / 1000} s: v=${old} leaves it out (the bug).`);
  const { records, producedFrom } = await runTraffic(context, {
    from: start,
    phases: [
      { until: firstPhaseEnd, placed: [{ record: pay('a', 10_000, 10), producedAt: base + 10_000 }, { record: pay('b', 20_000, 20), producedAt: base + 20_000 }] },
      // Past the fixed job's close of the minute too (its end + 5 min + the margin), so v+1 writes it.
      { until: base + MINUTE + FIXED_LATENESS_MS + 2 * MINUTE, placed: [{ record: pay('uploaded-late', 40_000, 30), producedAt: firstPhaseEnd }] },
    ],
  });
  const minute = (version: number) => withLake(context, (lake) => cardMinute(lake, 'views_spend_per_card_minute', card, base, `v = '${version}'`));
  const before = await minute(old);
  out(`v=${old}: the card-minute holds ${before.count} txn ${money(before.cents)}.`);

  // The fix: the same jar, one property changed. The replay reads the log from when the lesson began producing.
  const from = new Date(Math.floor(producedFrom / 1000) * 1000 - 1000).toISOString();
  out(`The fix: Job/allowed.lateness.ms = ${FIXED_LATENESS_MS}. Rolled out as v=${old + 1}: replaying the log from ${from} ...`);
  const fixed = { ...sandbox, config: { ...sandbox.config, streamProcessing: { ...sandbox.config.streamProcessing, allowedLatenessMs: FIXED_LATENESS_MS } } };
  const result = await replay(fixed, { from, reason: `lesson ${id}: allowed lateness ${FIXED_LATENESS_MS} ms`, out });
  // replay() moved the copy's stream job on to v+1; this sandbox runs that job now.
  sandbox.flink = fixed.flink;
  if (!result.ok) throw new LessonFailed(`the replay failed and v=${old} still serves: ${result.error}`);
  const after = await minute(old + 1);
  const served = servingVersion(sandbox.settings, sandbox.config).version;
  const servedRow = await withLake(context, (lake) => lake.query(`SELECT txn_count, total_amount FROM serving_spend_per_card_minute WHERE card_id = ${sqlString(card)} AND window_start = ${base}`));
  const oracle = await compareWithOracle(context, records, { version: old + 1, from: start, allowedLatenessMs: FIXED_LATENESS_MS });

  out('');
  out(`Versions of the card-minute ${hms(base)}:  v=${old}: ${before.count} txn ${money(before.cents)}   v=${old + 1}: ${after.count} txn ${money(after.cents)}`);
  out(`Serving: v=${served} (serving_spend_per_card_minute shows ${servedRow.map((r) => `${r.txn_count} txn ${r.total_amount}`).join(', ') || 'no row'}); v=${old} stays in the lake: \`npm run sandbox -- serve --version ${old}\` rolls back.`);
  out(`v=${old + 1} against the oracle with the new lateness: ${oracle.closed} card-minutes closed, ${oracle.wrong.length} differ.`);
  out(`Why: the log keeps every event, so a new version can recompute the past from it with the fixed code or settings, beside the`);
  out(`old one, and take over only once it has caught up. The readers switch in one step and never see a mix of versions.`);

  check(before.count === 2 && before.cents === 30_00, `v=${old} leaves the late upload out`, () => `${before.count} txn ${money(before.cents)}`);
  check(after.count === 3 && after.cents === 60_00, `v=${old + 1} counts it`, () => `${after.count} txn ${money(after.cents)}`);
  check(served === old + 1 && servedRow.length === 1 && Number(servedRow[0].txn_count) === 3, `serving switched to v=${old + 1}`, () => `v=${served}, ${JSON.stringify(servedRow)}`);
  check(oracle.closed > 20 && oracle.wrong.length === 0, `v=${old + 1} equals the oracle`, () => `${oracle.closed} closed, differing: ${oracle.wrong.slice(0, 10).join('; ')}`);
  out(`Point holds: the fix, replayed as v=${old + 1}, changed the past result, equals the oracle and serves; v=${old} is kept.`);
}

export const replayLesson: Lesson = { name: 'replay', title: 'Replay: a fix rolled out as v+1', run, ownSandbox: true };
