import type { PlatformConfig } from '../../lib/config/schema';
import {
  type CostLine, DEFAULT_WORKLOAD, type Estimate, estimate, eventSourceInvocations, kinesisShardsNeeded, kmsKeys, roundedBytes, SECONDS_PER_MONTH,
} from '../../lib/cost/model';
import { PRICES } from '../../lib/cost/prices';
import { loadProfiles } from '../../lib/cost/profiles';
import { DOC_RATES } from '../../lib/cost/render';

/**
 * The arithmetic of lib/cost/model.ts against numbers worked out by hand. Common to all cases:
 * a month is 730 h = 2,628,000 s; 1 GiB = 1,073,741,824 B; events of 1,024 B.
 */

const profiles = loadProfiles();
const profile = (name: string): PlatformConfig => {
  const config = profiles.get(name);
  if (!config) throw new Error(`no profile ${name}`);
  return config;
};
const at = (name: string, rate: number): Estimate => estimate(name, profile(name), { ...DEFAULT_WORKLOAD, rate });
const line = (e: Estimate, service: string, item: string | RegExp): CostLine => {
  const found = e.lines.find((l) => l.service === service && (typeof item === 'string' ? l.item === item : item.test(l.item)));
  if (!found) throw new Error(`no line ${service} / ${item} in ${e.lines.map((l) => `${l.service} / ${l.item}`).join('; ')}`);
  return found;
};
const sum = (e: Estimate, service: string, items: string[]): number => items.reduce((total, item) => total + (line(e, service, item).usd ?? NaN), 0);

describe('cost model', () => {
  test('Kinesis on-demand at 1,000 events/s (dev)', () => {
    // stream:    730 h x $0.04                                             =  $29.20
    // data in:   1,000/s x 1,024 B x 2,628,000 s = 2,691,072,000,000 B
    //            = 2,506.2561 GiB x $0.08                                  = $200.5005
    // data out:  speed layer, Firehose and Flink share the stream (dev has no fan-out):
    //            3 x 2,506.2561 GiB x $0.04                                = $300.7507
    // retention: 168 h, so 144 h beyond the included 24 h: 1,024,000 B/s x 3,600 s = 3.4332 GiB an hour,
    //            x 144 h = 494.3848 GiB-month x $0.10                      =  $49.4385
    // total                                                                = $579.8897
    const e = at('dev', 1000);
    expect(line(e, 'Kinesis Data Streams', 'events stream (on-demand)').usd).toBeCloseTo(29.2, 4);
    expect(line(e, 'Kinesis Data Streams', 'data in').usd).toBeCloseTo(200.5005, 3);
    expect(line(e, 'Kinesis Data Streams', 'data out').usd).toBeCloseTo(300.7507, 3);
    expect(line(e, 'Kinesis Data Streams', 'retention 24 h - 7 days').usd).toBeCloseTo(49.4385, 3);
    expect(sum(e, 'Kinesis Data Streams', ['events stream (on-demand)', 'data in', 'data out', 'retention 24 h - 7 days'])).toBeCloseTo(579.8897, 3);
  });

  test('Kinesis provisioned at 1,000 events/s (prod: 4 shards, 720 h, fan-out for the speed layer and Flink)', () => {
    // needs max(ceil(0.977 MiB/s), ceil(1,000/1,000), ceil(1 shared reader x 0.977 / 2)) = 1 shard of 4.
    // shards:    4 x 730 h x ($0.015 shard + $0.02 retention to 7 days + 2 x $0.015 fan-out consumers) = $189.80
    // PUT units: 2,628,000,000 records (one unit each, < 25 KB) = 2,628 M x $0.014                    =  $36.792
    // fan-out:   2 consumers x 2,506.2561 GiB x $0.013                                                =  $65.1627
    // long-term: (720 - 168) h x 3.4332 GiB an hour = 1,895.1416 GiB-month x $0.023                   =  $43.5883
    const e = at('prod', 1000);
    expect(line(e, 'Kinesis Data Streams', /^events stream/).usd).toBeCloseTo(189.8, 4);
    expect(line(e, 'Kinesis Data Streams', 'PUT payload units').usd).toBeCloseTo(36.792, 4);
    expect(line(e, 'Kinesis Data Streams', 'enhanced fan-out data out').usd).toBeCloseTo(65.1627, 3);
    expect(line(e, 'Kinesis Data Streams', 'retention beyond 7 days').usd).toBeCloseTo(43.5883, 3);
  });

  test('a provisioned stream short of shards is flagged, not priced (prod at 10,000 events/s needs 10 shards)', () => {
    // 10,000 x 1,024 B = 9.77 MiB/s in: 10 shards at 1 MB/s; 10,000 records/s: 10 shards at 1,000/s.
    expect(kinesisShardsNeeded(10000, 1024, 1)).toBe(10);
    const shards = line(at('prod', 10000), 'Kinesis Data Streams', /^events stream/);
    expect(shards.status).toBe('over-capacity');
    expect(shards.usd).toBeNull();
    expect(shards.note).toContain('need 10 shards');
  });

  test('Managed Flink: KPUs = parallelism / parallelismPerKpu + 1 orchestration KPU', () => {
    // dev: parallelism 1 / 1 = 1 KPU (+1) x 730 h x $0.11 = $160.60; 1,000/s needs ceil(1,000 / 3,800) = 1 KPU.
    expect(line(at('dev', 1000), 'Managed Service for Apache Flink', 'stream job').usd).toBeCloseTo(160.6, 4);
    // prod: 4 / 2 = 2 KPUs, autoscaling; 10,000/s needs ceil(10,000 / 3,800) = 3, so (3 + 1) x 730 x $0.11 = $321.20.
    const prod = line(at('prod', 10000), 'Managed Service for Apache Flink', 'stream job');
    expect(prod.usd).toBeCloseTo(321.2, 4);
    expect(prod.note).toBe('autoscaled to 3 KPUs');
    // dev without autoscaling at 10,000/s: flagged.
    const dev = line(at('dev', 10000), 'Managed Service for Apache Flink', 'stream job');
    expect(dev.status).toBe('over-capacity');
    expect(dev.note).toContain('needs 3 KPUs');
  });

  test('speed-layer Lambda at 1,000 events/s (dev)', () => {
    // on-demand lanes: max(4, ceil(2 x 0.977 MiB/s)) = 4 shards x parallelization 1 = 4; 250 records/s each,
    // polled every second: batches of 250, 4 invocations/s = 10,512,000 a month.
    // duration: 100 ms + 250 x 10.4 µs x 1,769/1,024 = 104.4916 ms; at 1,024 MB: 10,512,000 x 0.1044916 s = 1,098,415.7 GB-s.
    // cost: 10.512 M x $0.20 = $2.1024, + 1,098,415.7 x $0.0000133334 = $14.6456  -> $16.748
    const speed = line(at('dev', 1000), 'Lambda', 'speed layer');
    expect(speed.usd).toBeCloseTo(16.748, 2);
    expect(speed.quantity).toContain('10.51 M invocations of ~250.0 records');
  });

  test('event source batching', () => {
    expect(eventSourceInvocations(0, 4, 500, 0)).toEqual({ batch: 0, invocationsPerSecond: 0 });
    // 10,000/s over 4 lanes gather 2,500 a second each: capped at batches of 500, 20 invocations/s.
    expect(eventSourceInvocations(10000, 4, 500, 0)).toEqual({ batch: 500, invocationsPerSecond: 20 });
    // 2 alerts/s on 1 lane with a 5 s window: batches of 10, 0.2 invocations/s.
    expect(eventSourceInvocations(2, 1, 100, 5)).toEqual({ batch: 10, invocationsPerSecond: 0.2 });
    // 0.1/s: one record per invocation, never less.
    expect(eventSourceInvocations(0.1, 1, 100, 0).batch).toBe(1);
  });

  test('Firehose rounds Kinesis-sourced records up to 5 KB (1,000 events/s, dev)', () => {
    // 2,628,000,000 records x 5,120 B = 13,455,360,000,000 B = 12,531.2805 GiB;
    // ingestion x $0.029 = $363.4071; Parquet conversion x $0.018 = $225.5630.
    const e = at('dev', 1000);
    expect(roundedBytes(1024, 5 * 1024)).toBe(5120);
    expect(line(e, 'Data Firehose', 'ingestion from Kinesis').usd).toBeCloseTo(363.4071, 3);
    expect(line(e, 'Data Firehose', 'Parquet conversion').usd).toBeCloseTo(225.563, 3);
    // From MSK there is no rounding: 2,506.2561 GiB x $0.055 = $137.8441.
    expect(line(at('msk', 1000), 'Data Firehose', 'ingestion from MSK').usd).toBeCloseTo(137.8441, 3);
  });

  test('alerts: DynamoDB writes and SNS publishes at 1,000 events/s (dev, two detecting paths)', () => {
    // 1,000/s x 0.1 % x 2 paths = 2 alerts/s = 5,256,000 a month;
    // DynamoDB: 2 writes each = 10.512 M x $0.625 = $6.57; SNS: 5.256 M x $0.50 = $2.628.
    const e = at('dev', 1000);
    expect(line(e, 'DynamoDB', 'idempotency table (on-demand)').usd).toBeCloseTo(6.57, 4);
    expect(line(e, 'SNS', 'alert publishes').usd).toBeCloseTo(2.628, 4);
  });

  test('MSK provisioned: disks that cannot hold the retention are flagged (msk at 1,000 events/s)', () => {
    // (1,024,000 B/s events + 2 alerts/s x 512 B) x 168 h x 3,600 s x RF 3 / 3 brokers = 577.36 GiB, + 20 % = 692.8 GiB > 200 GiB.
    const storage = line(at('msk', 1000), 'Amazon MSK', /^broker storage/);
    expect(storage.status).toBe('over-capacity');
    expect(storage.quantity).toBe('693 GiB needed per broker');
    // Brokers: 3 x 730 h x $0.204 = $446.76.
    expect(line(at('msk', 1000), 'Amazon MSK', /brokers$/).usd).toBeCloseTo(446.76, 4);
  });

  test('MSK Serverless: partitions short of the rate are flagged (msk-serverless at 100,000 events/s)', () => {
    // 100,000 x 1,024 B = 97.66 MiB/s at 5 MiB/s per partition: 20 partitions, the topic has 6.
    const partitions = line(at('msk-serverless', 100000), 'Amazon MSK', /^Serverless partitions/);
    expect(partitions.status).toBe('over-capacity');
    expect(partitions.note).toContain('needs 20 partitions');
    // At 1,000/s: cluster 730 x $0.75 = $547.50; partitions (6 + 2) x 730 x $0.0015 = $8.76.
    const e = at('msk-serverless', 1000);
    expect(line(e, 'Amazon MSK', 'Serverless cluster').usd).toBeCloseTo(547.5, 4);
    expect(line(e, 'Amazon MSK', /^Serverless partitions/).usd).toBeCloseTo(8.76, 4);
  });

  test('the batch layer is flagged when one INSERT chunk would pass the scan cutoff (prod at 1,000 events/s)', () => {
    // 100 days x 86,400 s x 1,024,000 B x 25 % Parquet x 50 % of the columns = 1,105,920,000,000 B = 1,030 GiB > 100 GiB cutoff.
    const batch = line(at('prod', 1000), 'Athena', /^batch layer/);
    expect(batch.status).toBe('over-capacity');
    expect(batch.quantity).toBe('1,030 GB per 100-day INSERT chunk');
  });

  test('KMS keys per profile', () => {
    // dev (Kinesis, kappa): 2 log keys + 5 + 3 stream-processing = 10; prod (both) 11; msk 9; msk-serverless 8.
    expect(['dev', 'prod', 'msk', 'msk-serverless'].map((name) => kmsKeys(profile(name)))).toEqual([10, 11, 9, 8]);
  });

  test.each([...profiles.keys()])('profile %s: totals add up, lines are whole, and the same lines at every rate', (name) => {
    const estimates = DOC_RATES.map((rate) => at(name, rate));
    for (const e of estimates) {
      const priced = e.lines.filter((l) => l.usd !== null).reduce((total, l) => total + (l.usd ?? 0), 0);
      expect(e.totalUsd).toBeCloseTo(priced, 6);
      for (const l of e.lines) {
        if (l.usd !== null) expect(l.usd).toBeGreaterThanOrEqual(0);
        else expect(l.note).toBeTruthy();
        for (const key of l.prices) expect(PRICES[key]).toBeDefined();
      }
    }
    const shape = (e: Estimate): string[] => e.lines.map((l) => `${l.service} / ${l.item}`);
    for (const e of estimates) expect(shape(e)).toEqual(shape(estimates[0]));
  });

  test('a month is 730 hours', () => {
    expect(SECONDS_PER_MONTH).toBe(2628000);
  });
});
