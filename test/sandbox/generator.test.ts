import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../lib/config/defaults';
import { validateTransaction, type Transaction } from '../../lambdas/shared/transaction';
import type { SourceRecord } from '../../lambdas/shared/source-record';
import {
  eventsText,
  generateWorkload,
  readRecordedFile,
  readRun,
  writeRun,
  UNKEYED,
  type GeneratedWorkload,
  type LabelledRecord,
  type WorkloadOptions,
} from '../../sandbox/generator';
import { expectedResults, referenceAlerts, score } from '../../sandbox/expected';

const START = 1_763_762_400_000;
const OOO = defaultConfig.streamProcessing.maxOutOfOrdernessMs;
const LATENESS = defaultConfig.streamProcessing.allowedLatenessMs;

function sourceRecord(data: string): SourceRecord {
  return {
    coordinates: { eventSource: 'test', stream: 'test', shardId: 's', sequenceNumber: '1', partitionKey: 'k', arrivalTime: 0 },
    data: Buffer.from(data, 'utf8'),
    encodedData: Buffer.from(data, 'utf8').toString('base64'),
  };
}

function parse(record: LabelledRecord): Transaction {
  const result = validateTransaction(sourceRecord(record.data));
  if (!result.valid) throw new Error(`not valid: ${record.data}: ${result.detail}`);
  return result.transaction;
}

function countBy(records: readonly LabelledRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records) {
    const name = r.label.kind === 'fraud' ? `fraud-${r.label.rule}` : r.label.kind;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

const base: WorkloadOptions = { seed: 42, startTime: START, rate: 50, eventCount: 20_000 };

describe('generateWorkload: determinism', () => {
  it('gives byte-identical records and ground truth for the same options', () => {
    const a = generateWorkload(base);
    const b = generateWorkload({ ...base });
    expect(eventsText(b.records)).toBe(eventsText(a.records));
    expect(JSON.stringify(b.groundTruth)).toBe(JSON.stringify(a.groundTruth));
    expect(a.records).toHaveLength(20_000);
  });

  it('durationSeconds is the same as the matching event count', () => {
    const byDuration = generateWorkload({ seed: 42, startTime: START, rate: 50, durationSeconds: 400 });
    expect(eventsText(byDuration.records)).toBe(eventsText(generateWorkload(base).records));
  });

  it('gives different output, run ids and txnIds for another seed or another start', () => {
    const a = generateWorkload(base);
    const otherSeed = generateWorkload({ ...base, seed: 43 });
    const otherStart = generateWorkload({ ...base, startTime: START + 1 });
    expect(eventsText(otherSeed.records)).not.toBe(eventsText(a.records));
    const runIds = new Set([a, otherSeed, otherStart].map((w) => w.groundTruth.runId));
    expect(runIds.size).toBe(3);
    const ids = (w: GeneratedWorkload) =>
      new Set(w.records.filter((r) => r.label.kind !== 'malformed').map((r) => parse(r).txnId));
    const idsA = ids(a);
    for (const other of [otherSeed, otherStart]) {
      expect([...ids(other)].filter((id) => idsA.has(id))).toEqual([]);
    }
  });

  it('rejects options it cannot honour', () => {
    expect(() => generateWorkload({ seed: 1, startTime: START, rate: 10 })).toThrow(/exactly one/);
    expect(() => generateWorkload({ ...base, rate: 0 })).toThrow(/rate/);
    expect(() => generateWorkload({ ...base, seed: 1.5 })).toThrow(/seed/);
    expect(() => generateWorkload({ ...base, rates: { late: 600, outOfOrder: 600 } })).toThrow(/more than 1000/);
    expect(() => generateWorkload({ ...base, startTime: 0 })).toThrow(/startTime/);
  });
});

describe('generateWorkload: injection rates', () => {
  const rates = { r1: 3, r2: 3, r3: 3, outOfOrder: 30, late: 10, duplicate: 10, malformed: 10 };
  const workload = generateWorkload({ seed: 7, startTime: START, rate: 100, eventCount: 40_000, rates });
  const counts = countBy(workload.records);
  const incidents = (rule: string) => workload.groundTruth.incidents.filter((i) => i.rule === rule).length;

  it.each([
    ['R1', 3],
    ['R2', 3],
    ['R3', 3],
  ])('%s incidents are about %d per 1000 records', (rule, perThousand) => {
    const expected = (perThousand * 40_000) / 1000;
    expect(incidents(rule)).toBeGreaterThan(expected * 0.75);
    expect(incidents(rule)).toBeLessThan(expected * 1.25);
  });

  it('each incident is one burst of 3 (R1), 2 (R2) or 1 (R3) consecutive records', () => {
    expect(counts['fraud-R1']).toBe(3 * incidents('R1'));
    expect(counts['fraud-R2']).toBe(2 * incidents('R2'));
    expect(counts['fraud-R3']).toBe(incidents('R3'));
    for (const incident of workload.groundTruth.incidents) {
      const positions = workload.records
        .map((r, i) => (r.label.kind === 'fraud' && r.label.incidentId === incident.incidentId ? i : -1))
        .filter((i) => i >= 0);
      expect(positions).toHaveLength(incident.txnIds.length);
      expect(positions[positions.length - 1] - positions[0]).toBe(positions.length - 1);
    }
  });

  it.each([
    ['out-of-order', 30],
    ['late', 10],
    ['duplicate', 10],
    ['malformed', 10],
  ])('%s records are about %d per 1000', (kind, perThousand) => {
    const expected = (perThousand * 40_000) / 1000;
    expect(counts[kind]).toBeGreaterThan(expected * 0.8);
    expect(counts[kind]).toBeLessThan(expected * 1.2);
  });

  it('starts no incident in the fraud-free tail, and still injects them before it', () => {
    const options = { seed: 7, startTime: START, rate: 100, eventCount: 10_000, rates, fraudFreeTailSeconds: 40 };
    const tailed = generateWorkload(options);
    const tailStart = START + (10_000 - 40 * 100) * 10; // base event time of the first record of the tail
    const incidentTimes = tailed.groundTruth.incidents.map((i) => i.windowStart);
    expect(incidentTimes.length).toBeGreaterThan(10);
    expect(Math.max(...incidentTimes)).toBeLessThan(tailStart);
    // Without the tail, the same seed does put incidents there.
    const untailed = generateWorkload({ ...options, fraudFreeTailSeconds: 0 });
    expect(untailed.groundTruth.incidents.some((i) => i.windowStart >= tailStart)).toBe(true);
    expect(() => generateWorkload({ ...options, fraudFreeTailSeconds: -1 })).toThrow('fraudFreeTailSeconds must be >= 0');
  });

  it('all rates zero gives only normal records', () => {
    const zero = { r1: 0, r2: 0, r3: 0, outOfOrder: 0, late: 0, duplicate: 0, malformed: 0 };
    const plain = generateWorkload({ ...base, eventCount: 2_000, rates: zero });
    expect(countBy(plain.records)).toEqual({ normal: 2_000 });
    expect(plain.groundTruth.incidents).toEqual([]);
  });
});

describe('generateWorkload: every label is true', () => {
  const rates = { r1: 4, r2: 4, r3: 4, outOfOrder: 40, late: 15, duplicate: 15, malformed: 20 };
  const workload = generateWorkload({ seed: 99, startTime: START, rate: 20, eventCount: 20_000, rates });
  const homes = new Map(workload.groundTruth.cards.map((c) => [c.cardId, c]));

  it('labels hold relative to the highest event time produced before each record', () => {
    // Collected rather than asserted one by one: 20,000 records.
    const problems: string[] = [];
    const check = (ok: boolean, index: number, what: string) => {
      if (!ok) problems.push(`#${index} ${workload.records[index].label.kind}: ${what}`);
    };
    let max: number | undefined;
    const seen = new Set<string>();
    workload.records.forEach((record, index) => {
      const { label } = record;
      if (label.kind === 'malformed') {
        const result = validateTransaction(sourceRecord(record.data));
        check(!result.valid && result.reason === label.reason, index, `validator says ${JSON.stringify(result)}`);
        return;
      }
      const txn = parse(record);
      check(record.key === txn.cardId, index, 'key is not the cardId');
      switch (label.kind) {
        case 'normal':
        case 'fraud':
          check(max === undefined || txn.eventTime >= max, index, 'behind an earlier event time');
          break;
        case 'out-of-order':
          check(txn.eventTime === (max as number) - label.behindMs, index, 'behindMs is wrong');
          check(label.behindMs >= 1 && label.behindMs <= OOO, index, 'not within the out-of-orderness');
          break;
        case 'late':
          check(txn.eventTime === (max as number) - label.behindMs, index, 'behindMs is wrong');
          check(txn.eventTime < (max as number) - OOO - LATENESS, index, 'not beyond out-of-orderness + lateness');
          break;
        case 'duplicate':
          check(label.originalIndex < index, index, 'original comes later');
          check(record.data === workload.records[label.originalIndex].data, index, 'data differs from the original');
          check(label.of === txn.txnId, index, 'of is not the txnId');
          check(workload.records[label.originalIndex].label.kind === 'normal', index, 'original is not background');
          break;
        default:
          check(false, index, 'unexpected label');
      }
      if (label.kind !== 'duplicate') {
        check(!seen.has(txn.txnId), index, 'txnId reused');
        seen.add(txn.txnId);
      }
      if (label.kind !== 'fraud') {
        const card = homes.get(txn.cardId);
        check(txn.country === card?.homeCountry && txn.customerId === card?.customerId, index, 'not the card at home');
        check(txn.amount >= 20 && txn.amount <= 95, index, `background amount ${txn.amount}`);
      }
      max = Math.max(max ?? txn.eventTime, txn.eventTime);
    });
    expect(problems).toEqual([]);
    expect(seen.size).toBeGreaterThan(19_000);
  });

  it('fraud records are never duplicated, and every incident txn is labelled with its incident', () => {
    const duplicated = new Set(workload.records.flatMap((r) => (r.label.kind === 'duplicate' ? [r.label.of] : [])));
    const fraudIds = new Map<string, string>();
    for (const r of workload.records) {
      if (r.label.kind === 'fraud') fraudIds.set(parse(r).txnId, r.label.incidentId);
    }
    for (const incident of workload.groundTruth.incidents) {
      for (const id of incident.txnIds) {
        expect(fraudIds.get(id)).toBe(incident.incidentId);
        expect(duplicated.has(id)).toBe(false);
      }
      expect(incident.alertId).toBe(`${incident.rule}:${incident.cardId}:${incident.windowStart}`);
    }
  });

  it('every malformation kind occurs, and unparseable records get the fixed key', () => {
    const kinds = new Set(workload.records.flatMap((r) => (r.label.kind === 'malformed' ? [r.label.malformation] : [])));
    expect([...kinds].sort()).toEqual(
      ['bad_channel', 'bad_type', 'missing_field', 'non_positive_amount', 'not_json', 'too_many_decimals', 'truncated_json', 'unknown_field'],
    );
    for (const r of workload.records) {
      if (r.label.kind === 'malformed' && r.label.reason === 'bad_json') expect(r.key).toBe(UNKEYED);
    }
  });
});

describe('generateWorkload: ground truth is exact', () => {
  it('background traffic alone (with out-of-order, late, duplicate and malformed records) triggers no rule', () => {
    const noFraud = { r1: 0, r2: 0, r3: 0, outOfOrder: 50, late: 20, duplicate: 30, malformed: 20 };
    const workload = generateWorkload({ seed: 5, startTime: START, rate: 100, eventCount: 20_000, cards: 50, customers: 20, rates: noFraud });
    for (const partitions of [1, 4]) {
      expect(expectedResults(workload.records, { partitions }).stream.outputs.alerts).toEqual([]);
    }
    // Even a path that kept the late events (each txnId once) would find nothing.
    const expected = expectedResults(workload.records, { partitions: 1 });
    expect(referenceAlerts(expected.valid.filter((d) => d.first).map((d) => d.transaction))).toEqual([]);
  });

  it.each([
    // Few cards: incidents compete for them (a card rests 5 min after R2), so fewer are injected.
    ['default cards', 11, {}, 150],
    ['default cards, slow rate', 12, { rate: 0.5 }, 150],
    ['few busy cards', 13, { cards: 12, customers: 5 }, 15],
    ['fast rate', 14, { rate: 5_000 }, 150],
  ])('every incident is found exactly once and nothing else (%s)', (_name, seed, extra, atLeast) => {
    const rates = { r1: 5, r2: 5, r3: 5, outOfOrder: 40, late: 10, duplicate: 20, malformed: 10 };
    const workload = generateWorkload({ seed, startTime: START, rate: 50, eventCount: 15_000, rates, ...extra });
    expect(workload.groundTruth.incidents.length).toBeGreaterThanOrEqual(atLeast);
    const [onePartition, fourPartitions] = [1, 4].map((partitions) => expectedResults(workload.records, { partitions }));
    for (const expected of [onePartition, fourPartitions]) {
      expect(expected.stream.ambiguous).toEqual([]);
      const result = score(expected.stream.outputs.alerts, workload.groundTruth);
      expect(result.missed).toEqual([]);
      expect(result.falsePositives).toEqual([]);
      expect(result.overall.precision).toBe(1);
      expect(result.overall.recall).toBe(1);
      for (const rule of ['R1', 'R2', 'R3'] as const) expect(result.perRule[rule].recall).toBe(1);
      expect(expected.stream.outputs.alerts.map((a) => a.alertId).sort()).toEqual(
        workload.groundTruth.incidents.map((i) => i.alertId).sort(),
      );
    }
    // The ground truth does not hinge on the late events being dropped: a path that kept them
    // (each txnId once) must find exactly the same alerts.
    const everyTxnOnce = onePartition.valid.filter((d) => d.first).map((d) => d.transaction);
    const withLate = score(referenceAlerts(everyTxnOnce), workload.groundTruth);
    expect([withLate.missed, withLate.falsePositives]).toEqual([[], []]);
  });

  it('R3 spikes hold whether or not a path drops the late events (late-heavy workload, few cards)', () => {
    // A late event would move a card's mean if a path counted it; the generator keeps spikes off such cards.
    const rates = { r1: 0, r2: 0, r3: 30, late: 100, outOfOrder: 0, duplicate: 0, malformed: 0 };
    for (const seed of [0, 1]) {
      const workload = generateWorkload({ seed, startTime: START, rate: 20, eventCount: 10_000, cards: 30, customers: 10, rates });
      const expected = expectedResults(workload.records, { partitions: 1 });
      expect(workload.groundTruth.incidents.length).toBeGreaterThan(50);
      expect(score(expected.stream.outputs.alerts, workload.groundTruth).overall).toMatchObject({ precision: 1, recall: 1 });
      const keptLate = referenceAlerts(expected.valid.filter((d) => d.first).map((d) => d.transaction));
      expect(score(keptLate, workload.groundTruth).overall).toMatchObject({ precision: 1, recall: 1 });
    }
  });

  it('late records are clearly late and out-of-order records clearly on time, on one partition or several', () => {
    const workload = generateWorkload({ seed: 21, startTime: START, rate: 100, eventCount: 10_000, rates: { late: 20, outOfOrder: 50 } });
    const txnIdAt = (i: number) => parse(workload.records[i]).txnId;
    for (const partitions of [1, 4]) {
      const expected = expectedResults(workload.records, { partitions, partitionSkewMs: 30_000 });
      const verdicts = new Map(expected.stream.lateness.map((e) => [e.txnId, e.verdict]));
      workload.records.forEach((r, i) => {
        if (r.label.kind === 'late') expect(verdicts.get(txnIdAt(i))).toBe('late');
        if (r.label.kind === 'out-of-order' || r.label.kind === 'normal' || r.label.kind === 'fraud') {
          expect(verdicts.get(txnIdAt(i))).toBe('on-time');
        }
      });
    }
  });
});

describe('run files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tributary-run-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writeRun then readRun gives the same workload, and the same bytes when written again', async () => {
    const workload = generateWorkload({ ...base, eventCount: 3_000, rates: { malformed: 50, duplicate: 50 } });
    const written = await writeRun(dir, workload);
    const back = await readRun(dir);
    expect(back).toEqual(workload);
    const again = path.join(dir, 'again');
    const rewritten = await writeRun(again, back);
    expect(await readFile(rewritten.events)).toEqual(await readFile(written.events));
    expect(await readFile(rewritten.groundTruth)).toEqual(await readFile(written.groundTruth));
  });

  it('readRun names the file and line of a broken record', async () => {
    await writeRun(dir, generateWorkload({ ...base, eventCount: 3 }));
    const events = path.join(dir, 'events.ndjson');
    await writeFile(events, `${await readFile(events, 'utf8')}{"key":"k","label":{"kind":"bogus"},"data":"x"}\n`);
    await expect(readRun(dir)).rejects.toThrow(/events\.ndjson:4/);
  });

  it('readRecordedFile keys by cardId when parseable, labels every record recorded, and knows no ground truth', async () => {
    const file = path.join(dir, 'recorded.ndjson');
    const good = generateWorkload({ ...base, eventCount: 2, rates: { malformed: 0 } }).records.map((r) => r.data);
    await writeFile(file, `${good[0]}\r\n\nnot json at all\n{"cardId":42}\n${good[1]}\n`);
    const workload = await readRecordedFile(file);
    expect(workload.records.map((r) => r.data)).toEqual([good[0], 'not json at all', '{"cardId":42}', good[1]]);
    expect(workload.records.map((r) => r.key)).toEqual([JSON.parse(good[0]).cardId, UNKEYED, UNKEYED, JSON.parse(good[1]).cardId]);
    expect(workload.records.every((r) => r.label.kind === 'recorded')).toBe(true);
    expect(workload.groundTruth.known).toBe(false);
    await writeRun(path.join(dir, 'replay'), workload);
    expect(await readRun(path.join(dir, 'replay'))).toEqual(workload);
  });
});
