import { runBatch } from '../batch';
import { sqlString } from '../serving/lake-sql';
import { cardMinute, check, hms, MINUTE, runTraffic, sameTotals, setUpLesson, showTotals, withLake, type Lesson, type LessonContext, type Totals } from './runner';

/**
 * Watermarks and late data: one card-minute gets two on-time transactions, one that arrives 20 s behind
 * the newest events (out of order beyond the watermark's 5 s bound, but within the 30 s allowed lateness)
 * and one that arrives minutes after its minute closed. The stream job counts the first three in the
 * window and routes the last to late_events with the watermark it met; the speed layer and the batch
 * layer, which wait for no watermark, count all four.
 */

async function run({ sandbox, out }: LessonContext): Promise<void> {
  const context = { sandbox, out };
  const { maxOutOfOrdernessMs, allowedLatenessMs } = sandbox.config.streamProcessing;
  const { id, card, start, base, pay } = setUpLesson(context, 'late');
  const a = pay('a', 10_000, 10);
  const b = pay('b', 20_000, 20);
  // 20 s behind the events around it: behind the watermark (newest - 5 s), not behind it by the allowed lateness.
  const slow = pay('slow', 50_000, 30);
  // Sent once the log has moved 4 minutes on: far behind the watermark.
  const late = pay('late', 30_000, 40);
  const firstPhaseEnd = base + 4 * MINUTE;

  out(`Watermark: the stream job's clock of event time, the newest event time it has read minus ${maxOutOfOrdernessMs / 1000} s (its bound on out-of-orderness).`);
  out(`A window is final once the watermark passes its end plus the allowed lateness (${allowedLatenessMs / 1000} s); an event whose time plus the allowed lateness is at or behind the watermark is late.`);
  out(`Card ${card}, the minute ${hms(base)}..${hms(base + MINUTE)}:`);
  out(`  a    ${hms(base + 10_000)}  10.00  on time`);
  out(`  b    ${hms(base + 20_000)}  20.00  on time`);
  out(`  slow ${hms(base + 50_000)}  30.00  sent when the log was at ${hms(base + 70_000)}: 20 s out of order, behind the watermark but within the allowed lateness`);
  out(`  late ${hms(base + 30_000)}  40.00  sent when the log was at ${hms(firstPhaseEnd)}, after every path had read up to there`);
  await runTraffic(context, {
    from: start,
    archive: true,
    phases: [
      { until: firstPhaseEnd, placed: [{ record: a, producedAt: base + 10_000 }, { record: b, producedAt: base + 20_000 }, { record: slow, producedAt: base + 70_000 }] },
      { until: firstPhaseEnd + 2 * MINUTE, placed: [{ record: late, producedAt: firstPhaseEnd }] },
    ],
  });
  out('Running the batch layer over the raw archive up to the end of the first phase ...');
  const batch = await runBatch(sandbox.settings, sandbox.config, { watermarkMs: firstPhaseEnd });

  const v = sandbox.flink.version;
  const found = await withLake(context, async (lake) => {
    return {
      stream: await cardMinute(lake, 'views_spend_per_card_minute', card, base, `v = '${v}'`),
      speed: await cardMinute(lake, 'speed_spend_per_card_minute', card, base),
      batch: await cardMinute(lake, 'batch_spend_per_card_minute', card, base, `run = '${batch.run}'`),
      lateRows: await lake.query(`SELECT txn_id, event_time, watermark FROM views_late_events WHERE v = '${v}' AND card_id = ${sqlString(card)}`),
    };
  });

  const line = (name: string, s: Totals) => `  ${name.padEnd(44)} ${showTotals(s)}`;
  out('');
  out(`The card-minute ${hms(base)} in each layer:`);
  out(line('stream job (views_spend_per_card_minute)', found.stream));
  out(line('speed layer (speed_spend_per_card_minute)', found.speed));
  out(line(`batch layer (run ${batch.run})`, found.batch));
  out(`The stream job's late_events for the card: ${found.lateRows.length}`);
  for (const r of found.lateRows) {
    const behind = Number(r.watermark) - Number(r.event_time);
    out(`  ${r.txn_id}: event time ${hms(Number(r.event_time))}, watermark ${hms(Number(r.watermark))} when it arrived, ${(behind / 1000).toFixed(0)} s behind (allowed: ${allowedLatenessMs / 1000} s)`);
  }
  out("Why: 'slow' reached the job before the window was final (the job waits for the allowed lateness), so it counts.");
  out("'late' came after the window had been written once and for all: the job does not rewrite it, it sends the event to late_events instead.");
  out('The speed layer adds up whatever arrives, by event time, and the batch layer recomputes from everything archived: both count all four.');

  check(sameTotals(found.stream, { count: 3, cents: 60_00 }), 'the stream window holds a, b and slow, not late', () => `it holds ${showTotals(found.stream)}`);
  check(found.lateRows.length === 1 && found.lateRows[0].txn_id === `${id}-late`, "late_events holds 'late' alone", () => JSON.stringify(found.lateRows));
  check(Number(found.lateRows[0].event_time) + allowedLatenessMs <= Number(found.lateRows[0].watermark), "'late' was behind the watermark by at least the allowed lateness", () => JSON.stringify(found.lateRows[0]));
  for (const [layer, s] of [['speed layer', found.speed], ['batch layer', found.batch]] as const) {
    check(sameTotals(s, { count: 4, cents: 100_00 }), `the ${layer} counts all four`, () => `it holds ${showTotals(s)}`);
  }
  out('Point holds: within the allowed lateness an out-of-order event still counts; after it, the stream view leaves it out and says so in late_events, while the batch layer counts it.');
}

export const lateDataLesson: Lesson = { name: 'late-data', title: 'Watermarks and late data', run };
