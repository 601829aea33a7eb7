import { runBatch } from '../batch';
import { sqlString } from '../serving/lake-sql';
import { cardMinute, check, hms, MINUTE, runTraffic, sameTotals, setUpLesson, showTotals, withLake, type Lesson, type LessonContext, type Totals } from './runner';

/**
 * Lambda vs Kappa: one card-minute seen through every layer, twice. Right after its transactions are read,
 * and again after the log has moved on (bringing a redelivered copy of one of them) and the batch layer
 * has run. The speed layer answers at once but adds a copy it meets in a later batch; the stream job
 * answers only once its watermark closes the minute, and exactly; the batch layer recomputes it exactly
 * from the archive after the fact. The Lambda serving view (lambda_) shows the speed layer's number until
 * a batch run covers the minute, then the batch layer's; the Kappa serving view (serving_) is the stream job's.
 */

const LAYERS = ['speed', 'stream', 'batch', 'lambda', 'kappa'] as const;
type Layer = (typeof LAYERS)[number];
const LAYER_NAMES: Record<Layer, string> = {
  speed: 'speed layer     speed_spend_per_card_minute',
  stream: 'stream job      views_spend_per_card_minute',
  batch: 'batch layer     batch_spend_per_card_minute',
  lambda: 'Lambda serving  lambda_spend_per_card_minute',
  kappa: 'Kappa serving   serving_spend_per_card_minute',
};

async function run({ sandbox, out }: LessonContext): Promise<void> {
  const context = { sandbox, out };
  const { card, start, base, pay } = setUpLesson(context, 'lambda-kappa');
  const a = pay('a', 10_000, 10);
  const b = pay('b', 20_000, 20);
  const end = base + 4 * MINUTE;
  const batchWatermark = base + 3 * MINUTE;

  const read = () =>
    withLake(context, async (lake) => {
      const sum = (table: string, where?: string) => cardMinute(lake, table, card, base, where);
      const batchRun = (await lake.query(`SELECT max(run) AS run FROM batch_spend_per_card_minute`))[0]?.run;
      return {
        speed: await sum('speed_spend_per_card_minute'),
        stream: await sum('views_spend_per_card_minute', `v = '${sandbox.flink.version}'`),
        batch: batchRun ? await sum('batch_spend_per_card_minute', `run = ${sqlString(String(batchRun))}`) : { count: 0, cents: 0 },
        lambda: await sum('lambda_spend_per_card_minute'),
        kappa: await sum('serving_spend_per_card_minute'),
      } satisfies Record<Layer, Totals>;
    });
  const table = (title: string, found: Record<Layer, Totals>) => {
    out(title);
    for (const layer of LAYERS) out(`  ${LAYER_NAMES[layer].padEnd(48)} ${showTotals(found[layer])}`);
  };

  out(`Card ${card}: a (10.00) and b (20.00) in the minute ${hms(base)}; later the log delivers a second copy of a (same bytes, same txnId), as an at-least-once producer does after a timeout.`);
  let early: Record<Layer, Totals> | undefined;
  let late: Record<Layer, Totals> | undefined;
  await runTraffic(context, {
    from: start,
    archive: true,
    phases: [
      { until: base + 30_000, placed: [{ record: a, producedAt: base + 10_000 }, { record: b, producedAt: base + 20_000 }] },
      { until: end, placed: [{ record: a, producedAt: base + 40_000 }] },
    ],
    afterPhase: async (i) => {
      if (i === 0) {
        early = await read();
        return;
      }
      out(`Running the batch layer over the raw archive up to ${hms(batchWatermark)} ...`);
      await runBatch(sandbox.settings, sandbox.config, { watermarkMs: batchWatermark });
      late = await read();
    },
  });
  if (!early || !late) throw new Error('the lesson read no results');

  out('');
  table(`1. Just after a and b were read (the log at ${hms(base + 30_000)}, the minute not over yet):`, early);
  out('   The speed layer already has the minute: it adds up each batch as it comes. The stream job has nothing yet: it writes a');
  out('   window once its watermark passes the end plus the allowed lateness. Lambda serving shows the speed layer (no batch run covers the minute).');
  table(`2. After the log moved on to ${hms(end)} (with the copy of a) and a batch run up to ${hms(batchWatermark)}:`, late);
  out('   The speed layer counted the copy: it removes a duplicate only within one batch. The stream job deduplicates by txnId');
  out('   in keyed state, the batch layer by txn_id over the whole archive: both are exact. Lambda serving now shows the batch');
  out('   layer for the minute (it is before the batch watermark): the batch layer corrects the speed layer after the fact.');
  out('   Kappa serves the stream job alone: one code path, exact, and as late as its watermark.');

  const exact = { count: 2, cents: 30_00 };
  check(sameTotals(early.speed, exact) && sameTotals(early.lambda, exact), 'early, the speed layer (and Lambda serving) already count a and b', () => `${showTotals(early!.speed)} / ${showTotals(early!.lambda)}`);
  check(early.stream.count === 0 && early.kappa.count === 0, 'early, the stream job has not written the open minute', () => showTotals(early!.stream));
  check(sameTotals(late.speed, { count: 3, cents: 40_00 }), 'the speed layer counts the redelivered copy', () => showTotals(late!.speed));
  for (const layer of ['stream', 'batch', 'lambda', 'kappa'] as const) {
    check(sameTotals(late[layer], exact), `later, ${LAYER_NAMES[layer]} is exact`, () => showTotals(late![layer]));
  }
  out('Point holds: the speed layer is fast and approximate, the batch layer makes the Lambda view exact later; the Kappa stream job is exact once its window closes.');
}

export const lambdaKappaLesson: Lesson = { name: 'lambda-kappa', title: 'Lambda vs Kappa', run };
