import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { kinesisDecoder, type KinesisEvent } from '../../lambdas/shared/kinesis';
import { mskDecoder, type MskEvent } from '../../lambdas/shared/msk';
import { Supervisor, startKafka, startKinesis } from '../../sandbox/engines';
import { KafkaLog, KinesisLog, openLog, type LocalLog, type LogRecord } from '../../sandbox/log';
import { defaultSettings, sandboxDirs, type LogKind, type SandboxSettings } from '../../sandbox/settings';
import { EventSourceMapping, eventFormatFor, sandboxArns } from '../../sandbox/stand-ins/event-source-mapping';
import { freePorts } from '../helpers/sandbox';

/**
 * The two LocalLog implementations against the REAL engines (a Kafka 4.1 broker in KRaft mode and
 * kinesis-local), started by sandbox/engines in a temporary home on free ports and stopped afterwards.
 */

const REPO = path.resolve(__dirname, '..', '..');
const N = 240;
const KEYS = 12;


let home: string;
let base: SandboxSettings;
let supervisor: Supervisor;
const timings: Record<string, number> = {};

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-log-'));
  const [kafka, kafkaController, kinesis, kinesisTls, s3, sns, dynamodb] = await freePorts(7);
  base = defaultSettings(REPO, { home, shards: 3, ports: { kafka, kafkaController, kinesis, kinesisTls, s3, sns, dynamodb } });
  supervisor = new Supervisor(base, { stopTimeoutMs: 10_000 });
  const began = Date.now();
  await Promise.all([startKafka(supervisor, base), startKinesis(supervisor, base)]);
  timings.enginesStartMs = Date.now() - began;
}, 180_000);

afterAll(async () => {
  await supervisor?.stopAll();
  // eslint-disable-next-line no-console
  console.log(`log integration timings (ms): ${JSON.stringify(timings)}`);
  fs.rmSync(home, { recursive: true, force: true });
}, 60_000);

/** N records over KEYS keys; each payload names its key and its index within the key. */
function keyedRecords(tag: string) {
  const perKey = new Map<string, number>();
  return Array.from({ length: N }, (_, i) => {
    const key = `card-${tag}-${(i * 7) % KEYS}`;
    const index = perKey.get(key) ?? 0;
    perKey.set(key, index + 1);
    return { key, data: JSON.stringify({ key, index }) };
  });
}

async function readAll(log: LocalLog, readerName: string, unit: string, chunk = 50): Promise<LogRecord[]> {
  const reader = log.reader(readerName);
  const out: LogRecord[] = [];
  let after: string | undefined;
  try {
    for (;;) {
      const records = await reader.read(unit, after, chunk);
      if (records.length === 0) return out;
      out.push(...records);
      after = records[records.length - 1].position;
    }
  } finally {
    await reader.close();
  }
}

describe.each<LogKind>(['kinesis', 'kafka'])('%s log', (kind) => {
  let settings: SandboxSettings;
  let log: LocalLog;
  const produced = keyedRecords(kind);

  beforeAll(async () => {
    settings = { ...base, log: kind, streamName: `it-${kind}` };
    log = openLog(settings);
    expect(log).toBeInstanceOf(kind === 'kinesis' ? KinesisLog : KafkaLog);
    const began = Date.now();
    await log.ensureCreated();
    await log.ensureCreated(); // a second call finds it and returns
    timings[`${kind}.ensureCreatedMs`] = Date.now() - began;
  }, 60_000);

  afterAll(async () => {
    await log?.close();
  });

  it('has one ordered unit per shard/partition', async () => {
    const reader = log.reader('units');
    const units = await reader.units();
    await reader.close();
    expect(units).toEqual(kind === 'kinesis' ? ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002'] : ['0', '1', '2']);
  });

  it('accepts N keyed records and a reader reads every one back, each key on one unit in produce order', async () => {
    const began = Date.now();
    await log.produce(produced);
    timings[`${kind}.produce${N}Ms`] = Date.now() - began;

    const readBegan = Date.now();
    const reader = log.reader('check');
    const units = await reader.units();
    await reader.close();
    const byUnit = new Map<string, LogRecord[]>();
    for (const unit of units) byUnit.set(unit, await readAll(log, 'check', unit));
    timings[`${kind}.readAllMs`] = Date.now() - readBegan;

    const all = [...byUnit.values()].flat();
    expect(all).toHaveLength(N);
    const unitOfKey = new Map<string, string>();
    const indexesOfKey = new Map<string, number[]>();
    for (const [unit, records] of byUnit) {
      records.forEach((record, i) => {
        expect(record.unit).toBe(unit);
        if (i > 0) expect(BigInt(record.position) > BigInt(records[i - 1].position)).toBe(true);
        expect(Math.abs(record.arrivalTime - Date.now())).toBeLessThan(120_000);
        const payload = JSON.parse(record.data.toString('utf8')) as { key: string; index: number };
        expect(payload.key).toBe(record.key);
        expect(unitOfKey.get(record.key) ?? unit).toBe(unit);
        unitOfKey.set(record.key, unit);
        indexesOfKey.set(record.key, [...(indexesOfKey.get(record.key) ?? []), payload.index]);
      });
    }
    expect(indexesOfKey.size).toBe(KEYS);
    for (const indexes of indexesOfKey.values()) expect(indexes).toEqual(indexes.map((_, i) => i));
    // The keys spread over more than one unit.
    expect(new Set(unitOfKey.values()).size).toBeGreaterThan(1);
  });

  it('commits a position; a new reader of the same name resumes after it, and another name starts from the beginning', async () => {
    const first = log.reader('resume');
    const unit = (await first.units())[0];
    const everything = await readAll(log, 'everything', unit);
    expect(everything.length).toBeGreaterThan(20);
    expect(await first.committed(unit)).toBeUndefined();
    expect(await first.lag(unit)).toBe(everything.length);

    const head = await first.read(unit, undefined, 20);
    expect(head.map((r) => r.position)).toEqual(everything.slice(0, 20).map((r) => r.position));
    await first.commit(unit, head[19].position);
    expect(await first.committed(unit)).toBe(head[19].position);
    expect(await first.lag(unit)).toBe(everything.length - 20);
    await first.close();

    const second = log.reader('resume');
    const committed = await second.committed(unit);
    expect(committed).toBe(head[19].position);
    const next = await second.read(unit, committed, 5);
    expect(next.map((r) => r.position)).toEqual(everything.slice(20, 25).map((r) => r.position));
    await second.commit(unit, everything[everything.length - 1].position);
    expect(await second.lag(unit)).toBe(0);
    expect(await second.read(unit, everything[everything.length - 1].position, 10)).toEqual([]);
    await second.close();

    const other = log.reader('someone-else');
    expect(await other.committed(unit)).toBeUndefined();
    await other.close();

    if (kind === 'kafka') {
      // At the interface a position is the record's offset; the group holds Kafka's next offset.
      const admin = new Kafka({ brokers: [`127.0.0.1:${settings.ports.kafka}`], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const [topic] = await admin.fetchOffsets({ groupId: 'resume', topics: [settings.streamName] });
      await admin.disconnect();
      const group = topic.partitions.find((p) => p.partition === Number(unit))!;
      expect(BigInt(group.offset)).toBe(BigInt(everything[everything.length - 1].position) + 1n);
    } else {
      // The checkpoint file, whole and alone (no temporary files left by the atomic rewrite).
      const dir = sandboxDirs(settings).positions;
      expect(fs.readdirSync(dir).filter((f) => f.startsWith('resume.'))).toEqual([`resume.kinesis.${settings.streamName}.json`]);
      const saved = JSON.parse(fs.readFileSync(path.join(dir, `resume.kinesis.${settings.streamName}.json`), 'utf8'));
      expect(saved).toEqual({ [unit]: everything[everything.length - 1].position });
    }
  });

  it('feeds the event source mapping stand-in, whose events the speed layer decoders read, and checkpoints it all', async () => {
    const reader = log.reader('speed-layer-it');
    const units = await reader.units();
    const seen = new Map<string, number[]>();
    const mapping = new EventSourceMapping({
      reader,
      format: eventFormatFor(settings),
      handler: async (event) => {
        const records = kind === 'kinesis' ? kinesisDecoder.decode(event as KinesisEvent) : mskDecoder.decode(event as MskEvent);
        for (const record of records) {
          const { key, index } = JSON.parse(record.data.toString('utf8')) as { key: string; index: number };
          expect(record.coordinates.partitionKey).toBe(key);
          seen.set(key, [...(seen.get(key) ?? []), index]);
        }
        return { batchItemFailures: [] };
      },
      options: {
        batchSize: 100,
        maxBatchingWindowSeconds: 0,
        retryAttempts: 1,
        maxRecordAgeSeconds: -1,
        tumblingWindowSeconds: 0,
        startingPosition: 'TRIM_HORIZON',
        timeoutSeconds: 30,
        bisectBatchOnFunctionError: true,
        reportBatchItemFailures: true,
        pollIntervalMs: 50,
      },
      onFailureDir: sandboxDirs(settings).onFailure,
      functionArn: sandboxArns(settings).functionArn,
    });
    const began = Date.now();
    await mapping.start();
    const deadline = Date.now() + 60_000;
    while ([...seen.values()].flat().length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await mapping.stop();
    timings[`${kind}.mappingAllMs`] = Date.now() - began;
    expect([...seen.values()].flat()).toHaveLength(N);
    for (const indexes of seen.values()) expect(indexes).toEqual(indexes.map((_, i) => i));
    const status = await mapping.status();
    expect(status.recordsRead).toBe(N);
    for (const unit of units) expect(status.units[unit].lag).toBe(0);
    await reader.close();
  });
});

describe('Kinesis PutRecords partial failures', () => {
  /**
   * kinesis-local accepts every entry, so a partial failure cannot be provoked from it directly. A small HTTP
   * proxy in front of it rejects some entries of each PutRecords request the way Kinesis does (the entry is
   * not forwarded; its result carries ErrorCode ProvisionedThroughputExceededException) and forwards the
   * rest, so the real client, the real produce() and the real kinesis-local do everything else.
   */
  let proxy: http.Server;
  let requests = 0;
  let rejected = 0;

  beforeAll(async () => {
    proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        const target = String(req.headers['x-amz-target'] ?? '');
        let failAt: number[] = [];
        let total = 0;
        if (target.endsWith('.PutRecords')) {
          requests++;
          const parsed = JSON.parse(body.toString('utf8')) as { Records: unknown[] };
          total = parsed.Records.length;
          // Reject every third entry of the first 5 requests (the first entry too, so the first key must wait).
          if (requests <= 5) failAt = parsed.Records.map((_, i) => i).filter((i) => i % 3 === 0);
          rejected += failAt.length;
          parsed.Records = parsed.Records.filter((_, i) => !failAt.includes(i));
          body = Buffer.from(JSON.stringify(parsed));
        }
        const upstream = http.request(
          { host: '127.0.0.1', port: base.ports.kinesis, path: req.url, method: req.method, headers: { ...req.headers, 'content-length': String(body.length) } },
          (up) => {
            const out: Buffer[] = [];
            up.on('data', (c: Buffer) => out.push(c));
            up.on('end', () => {
              let answer = Buffer.concat(out);
              if (failAt.length > 0 && up.statusCode === 200) {
                const parsed = JSON.parse(answer.toString('utf8')) as { FailedRecordCount: number; Records: unknown[] };
                const accepted = [...parsed.Records];
                parsed.Records = Array.from({ length: total }, (_, i) =>
                  failAt.includes(i) ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' } : accepted.shift(),
                );
                parsed.FailedRecordCount = failAt.length;
                answer = Buffer.from(JSON.stringify(parsed));
              }
              const headers: http.OutgoingHttpHeaders = { ...up.headers, 'content-length': String(answer.length) };
              delete headers['x-amz-crc32'];
              res.writeHead(up.statusCode ?? 500, headers);
              res.end(answer);
            });
          },
        );
        upstream.on('error', (error) => {
          res.writeHead(502);
          res.end(String(error));
        });
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('retries only the rejected entries and keeps every key in produce order', async () => {
    const proxyPort = (proxy.address() as net.AddressInfo).port;
    const settings: SandboxSettings = { ...base, log: 'kinesis', streamName: 'it-partial', ports: { ...base.ports, kinesis: proxyPort } };
    const log = new KinesisLog(settings, { retryBaseMs: 1 });
    await log.ensureCreated();
    const records = keyedRecords('partial').slice(0, 60);
    await log.produce(records);
    expect(rejected).toBeGreaterThan(0);

    const reader = log.reader('partial');
    const all: LogRecord[] = [];
    for (const unit of await reader.units()) {
      let after: string | undefined;
      for (;;) {
        const page = await reader.read(unit, after, 100);
        if (page.length === 0) break;
        all.push(...page);
        after = page[page.length - 1].position;
      }
    }
    await reader.close();
    await log.close();
    // Each record exactly once (nothing rejected was lost, nothing accepted was sent twice), in per-key order.
    expect(all.map((r) => r.data.toString()).sort()).toEqual(records.map((r) => r.data).sort());
    const indexes = new Map<string, number[]>();
    for (const record of all) indexes.set(record.key, [...(indexes.get(record.key) ?? []), (JSON.parse(record.data.toString()) as { index: number }).index]);
    for (const list of indexes.values()) expect(list).toEqual(list.map((_, i) => i));
  });
});
