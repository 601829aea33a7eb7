import type { InvalidReason } from '../../lambdas/shared/transaction';
import type { LabelledRecord } from '../generator';
import { sqlString } from '../serving/lake-sql';
import { cardMinute, CLOSE_MARGIN_MS, check, hms, MINUTE, runTraffic, sameTotals, setUpLesson, showTotals, withLake, type Lesson, type LessonContext } from './runner';

/**
 * Poison records: six malformed records of one card among four valid ones in one minute. Each path
 * dead-letters every bad record with its reason and goes on: no batch is retried forever, no job
 * restarts, and all four valid neighbours are counted.
 */

interface Poison {
  label: string;
  data: string;
  /** What the speed layer's validator (lambdas/shared/transaction.ts) must say. */
  reason: InvalidReason;
}

async function run({ sandbox, out }: LessonContext): Promise<void> {
  const context = { sandbox, out };
  const { id, card, start, base, pay } = setUpLesson(context, 'poison');
  const valid = [11, 12, 13, 14].map((amount, i) => pay(`ok${i + 1}`, (i + 1) * 10_000, amount));
  const good = JSON.parse(valid[0].data) as Record<string, unknown>;
  const variant = (label: string, change: Record<string, unknown>, drop?: string) => {
    const fields: Record<string, unknown> = { ...good, txnId: `${id}-${label}`, ...change };
    if (drop) delete fields[drop];
    return JSON.stringify(fields);
  };
  const poison: Poison[] = [
    { label: 'not-json', data: `not json at all ${id}`, reason: 'bad_json' },
    { label: 'truncated', data: variant('truncated', {}).slice(0, 60), reason: 'bad_json' },
    { label: 'missing-field', data: variant('missing-field', {}, 'merchantId'), reason: 'schema_violation' },
    { label: 'negative-amount', data: variant('negative-amount', { amount: -5 }), reason: 'schema_violation' },
    { label: 'three-decimals', data: variant('three-decimals', { amount: 1.234 }), reason: 'schema_violation' },
    { label: 'bad-channel', data: variant('bad-channel', { channel: 'FAX' }), reason: 'schema_violation' },
  ];
  const poisonRecord = (p: Poison): LabelledRecord => ({ key: card, data: p.data, label: { kind: 'recorded' } });

  out(`Card ${card}: four valid transactions (11.00, 12.00, 13.00, 14.00) in the minute ${hms(base)}, and between them six records that are not Transactions:`);
  for (const p of poison) out(`  ${p.label.padEnd(16)} ${p.data.length > 90 ? `${p.data.slice(0, 90)}...` : p.data}`);
  // Each poison record right after a valid one, all on the card's partition, so each sits among valid neighbours.
  const placed = [
    ...valid.map((record, i) => ({ record, producedAt: base + (i + 1) * 10_000 })),
    ...poison.map((p, i) => ({ record: poisonRecord(p), producedAt: base + (Math.min(i, 3) + 1) * 10_000 + 1 })),
  ];
  await runTraffic(context, { from: start, phases: [{ until: base + MINUTE + CLOSE_MARGIN_MS, placed }] });

  const v = sandbox.flink.version;
  const found = await withLake(context, async (lake) => ({
    speedDead: await lake.query(`SELECT reason, detail, data_base64 FROM deadletter_speed WHERE partition_key = ${sqlString(card)}`),
    streamDead: await lake.query(`SELECT "raw", reason FROM views_dead_letter WHERE v = '${v}' AND contains("raw", ${sqlString(id)})`),
    stream: await cardMinute(lake, 'views_spend_per_card_minute', card, base, `v = '${v}'`),
    speed: await cardMinute(lake, 'speed_spend_per_card_minute', card, base),
  }));
  const speedReason = new Map(found.speedDead.map((r) => [Buffer.from(String(r.data_base64), 'base64').toString('utf8'), r]));
  const streamReason = new Map(found.streamDead.map((r) => [String(r.raw), String(r.reason)]));

  out('');
  out(`Dead letters: ${found.speedDead.length} from the speed layer (deadletter_speed), ${found.streamDead.length} from the stream job (views_dead_letter):`);
  for (const p of poison) {
    const speed = speedReason.get(p.data);
    out(`  ${p.label.padEnd(16)} speed layer: ${speed ? `${speed.reason} (${String(speed.detail).slice(0, 70)})` : 'MISSING'}`);
    out(`  ${''.padEnd(16)} stream job:  ${streamReason.get(p.data)?.slice(0, 90) ?? 'MISSING'}`);
  }
  const { stream, speed } = found;
  out(`The valid neighbours: stream job ${showTotals(stream)}, speed layer ${showTotals(speed)} (want 4 txn 50.00).`);
  out('Why: a record that can never be processed is set aside with its reason, where a person can look at it, instead of failing its batch.');
  out('A failed batch would be retried (on Lambda, until the record expires; in Flink, by restarting the job) and hold up every valid record behind it.');

  for (const p of poison) {
    check(speedReason.get(p.data)?.reason === p.reason, `the speed layer dead-letters '${p.label}' as ${p.reason}`, () => JSON.stringify(speedReason.get(p.data) ?? 'not dead-lettered'));
    check(streamReason.has(p.data), `the stream job dead-letters '${p.label}'`, () => 'not in views_dead_letter');
  }
  check(found.speedDead.length === poison.length && found.streamDead.length === poison.length, 'nothing else is dead-lettered', () => `speed ${found.speedDead.length}, stream ${found.streamDead.length}`);
  for (const [layer, s] of [['stream job', stream], ['speed layer', speed]] as const) {
    check(sameTotals(s, { count: 4, cents: 50_00 }), `the ${layer} counts every valid neighbour`, () => showTotals(s));
  }
  out('Point holds: every poison record is dead-lettered with its reason by both paths, and every valid record around them is counted.');
}

export const poisonLesson: Lesson = { name: 'poison', title: 'Poison records', run };
