import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ensureBucket, startKafka, startKinesis, startS3, Supervisor } from '../../sandbox/engines';
import { openLog, type LocalLog, type LogReader, type LogRecord } from '../../sandbox/log';
import { defaultSettings, type LogKind, sandboxDirs, type SandboxSettings } from '../../sandbox/settings';
import { type Archiver, type ArchiverOptions, createArchiver, RAW_ARCHIVE_READER, sandboxS3Client } from '../../sandbox/stand-ins/archiver';
import { archiveColumns, partitionKeys, toRow } from '../../sandbox/stand-ins/archiver-convert';
import { platformNames, RAW_TABLE } from '../../lib/names';
import { freePorts } from '../helpers/sandbox';

/**
 * The archiver against the sandbox's real S3Proxy (filesystem backend, so the lake is a folder
 * DuckDB reads) through the real S3 client. Most cases read an in-memory log that honours the
 * LogReader contract, so positions and arrival times are exact; the last reads kinesis-local
 * through the sandbox's real log.
 */

/** A log in memory: units of records with numeric positions, and one reader's committed positions. */
class MemoryLog {
  readonly records = new Map<string, LogRecord[]>();
  readonly committedPositions = new Map<string, string>();
  private next = 0;

  constructor(readonly unitNames: string[]) {
    for (const unit of unitNames) this.records.set(unit, []);
  }

  append(unit: string, data: string | Buffer, arrivalTime: number): LogRecord {
    const record: LogRecord = { unit, position: String(++this.next), key: 'k', data: Buffer.from(data), arrivalTime };
    this.records.get(unit)!.push(record);
    return record;
  }

  reader(): LogReader {
    return {
      units: async () => [...this.unitNames],
      read: async (unit, after, max) =>
        this.records
          .get(unit)!
          .filter((r) => after === undefined || Number(r.position) > Number(after))
          .slice(0, max),
      committed: async (unit) => this.committedPositions.get(unit),
      commit: async (unit, position) => {
        this.committedPositions.set(unit, position);
      },
      lag: async (unit) => {
        const committed = this.committedPositions.get(unit);
        return this.records.get(unit)!.filter((r) => committed === undefined || Number(r.position) > Number(committed)).length;
      },
      close: async () => undefined,
    };
  }
}

async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, state?: () => unknown): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${state ? `: ${JSON.stringify(state())}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const HOUR = 3_600_000;
/** 2024-03-10T09:00:00Z */
const T9 = Date.UTC(2024, 2, 10, 9);
/** Arrival on another day and hour than the events, so the error prefix shows it is arrival-based. */
const ARRIVAL = Date.UTC(2024, 2, 11, 5, 30);

function txn(id: string, eventTime: number, amount: number | string, extra: Record<string, unknown> = {}): string {
  // Written as text so amounts keep exactly the digits given.
  const amountText = typeof amount === 'number' ? String(amount) : amount;
  return (
    `{"txnId":"${id}","cardId":"card-1","customerId":"cust-1","merchantId":"m-1","amount":${amountText},` +
    `"currency":"EUR","country":"DE","channel":"POS","eventTime":${eventTime},"schemaVersion":1` +
    Object.entries(extra)
      .map(([k, v]) => `,"${k}":${JSON.stringify(v)}`)
      .join('') +
    '}'
  );
}

describe('archiver conversion rules', () => {
  it('partitions exactly like RAW_PARTITION_QUERY: UTC, floor of ms/1000', () => {
    expect(partitionKeys({ eventTime: T9 + HOUR - 1 })).toEqual({ ok: true, keys: { dt: '2024-03-10', hr: '09' } });
    expect(partitionKeys({ eventTime: T9 + HOUR })).toEqual({ ok: true, keys: { dt: '2024-03-10', hr: '10' } });
    expect(partitionKeys({ eventTime: Date.UTC(2024, 2, 10, 23, 59, 59, 999.9) })).toEqual({ ok: true, keys: { dt: '2024-03-10', hr: '23' } });
    expect(partitionKeys({ eventTime: -1 })).toEqual({ ok: true, keys: { dt: '1969-12-31', hr: '23' } });
    expect(partitionKeys({ eventTime: '1710061200000' })).toEqual({ ok: false, message: 'string ("171006120...) and number (1000) cannot be divided' });
    expect(partitionKeys({})).toEqual({ ok: false, message: 'null (null) and number (1000) cannot be divided' });
    expect(partitionKeys(null)).toEqual({ ok: false, message: 'null (null) and number (1000) cannot be divided' });
    expect(partitionKeys([1])).toEqual({ ok: false, message: 'Cannot index array with "eventTime"' });
    expect(partitionKeys({ eventTime: 1e20 }).ok).toBe(false);
  });

  it('reads values into the Glue types as text DuckDB casts exactly, and refuses what does not fit', () => {
    const columns = archiveColumns();
    const row = (value: Record<string, unknown>) => toRow(value, columns);
    const ok = row(JSON.parse(txn('t', T9, '12.30', { unknownKey: 1 })));
    expect(ok).toEqual({
      ok: true,
      row: {
        txn_id: 't', card_id: 'card-1', customer_id: 'cust-1', merchant_id: 'm-1', amount: '12.3', currency: 'EUR',
        country: 'DE', channel: 'POS', event_time: String(T9), schema_version: '1',
      },
    });
    expect(row({ amount: 9999999999.99 })).toMatchObject({ ok: true, row: { amount: '9999999999.99', txn_id: null } });
    expect(row({ amount: '0.01' })).toMatchObject({ ok: true, row: { amount: '0.01' } });
    expect(row({ amount: 1.5e2 })).toMatchObject({ ok: true, row: { amount: '150' } });
    expect(row({ txnId: 42 })).toMatchObject({ ok: true, row: { txn_id: '42' } });
    expect(row({ amount: 12.345 })).toEqual({ ok: false, message: 'column amount (JSON key \'amount\'): cannot convert 12.345 to decimal(12,2)' });
    expect(row({ amount: 10000000000 })).toMatchObject({ ok: false });
    expect(row({ amount: 'abc' })).toMatchObject({ ok: false });
    expect(row({ schemaVersion: 1.5 })).toMatchObject({ ok: false });
    expect(row({ schemaVersion: 2 ** 31 })).toMatchObject({ ok: false });
    expect(row({ eventTime: 2 ** 60 })).toMatchObject({ ok: false });
    expect(row({ cardId: { nested: true } })).toMatchObject({ ok: false });
  });
});

describe('archiver (S3Proxy, real S3 client, DuckDB read-back)', () => {
  let home: string;
  let settings: SandboxSettings;
  let supervisor: Supervisor;
  let s3: S3Client;
  let duck: DuckDBInstance;
  let db: DuckDBConnection;
  const running: Archiver[] = [];

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-archiver-'));
    const base = defaultSettings(process.cwd(), { home, log: 'kinesis', shards: 2 });
    const ports = { s3: await freePort(), kinesis: await freePort(), kinesisTls: await freePort(), kafka: await freePort(), kafkaController: await freePort() };
    settings = { ...base, ports: { ...base.ports, ...ports } };
    supervisor = new Supervisor(settings, { stopTimeoutMs: 10_000 });
    // Both logs, so the last cases run the archiver over each real reader.
    await Promise.all([startS3(supervisor, settings), startKinesis(supervisor, settings), startKafka(supervisor, settings)]);
    await ensureBucket(settings);
    s3 = sandboxS3Client(settings);
    duck = await DuckDBInstance.create(':memory:');
    db = await duck.connect();
  }, 90_000);

  afterEach(async () => {
    for (const archiver of running.splice(0)) await archiver.abort();
  });

  afterAll(async () => {
    db?.closeSync();
    duck?.closeSync();
    s3?.destroy();
    await supervisor?.stopAll();
    fs.rmSync(home, { recursive: true, force: true });
  });

  /**
   * Every object key under `prefix`, through the S3 API. S3Proxy's filesystem backend also lists
   * each folder as a `.../` key (real S3 has no such objects), so those are left out.
   */
  async function keys(prefix: string): Promise<string[]> {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: prefix }));
    return (out.Contents ?? [])
      .map((o) => o.Key!)
      .filter((k) => !k.endsWith('/'))
      .sort();
  }

  function file(key: string): string {
    return path.join(sandboxDirs(settings).lake, key);
  }

  async function query(sql: string): Promise<Record<string, unknown>[]> {
    return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  }

  function archiver(log: MemoryLog, options: Partial<ArchiverOptions> & { run: string }, reader: LogReader = log.reader()): Archiver {
    const a = createArchiver({
      settings,
      reader,
      s3,
      stateDir: path.join(home, 'positions', options.run),
      pollIntervalMs: 20,
      retryDelayMs: 50,
      ...options,
    });
    running.push(a);
    return a;
  }

  it('writes one Parquet object per dt/hr, every valid record exactly once with exact amounts, and the bad ones to the error prefixes with reasons', async () => {
    const log = new MemoryLog(['0', '1']);
    const bucketPrefix = 'run1';
    const valid: Array<[string, number, string]> = [
      [`${bucketPrefix}-a`, T9 + 1, '0.01'],
      [`${bucketPrefix}-b`, T9 + HOUR - 1, '9999999999.99'],
      [`${bucketPrefix}-c`, T9 + HOUR, '123.45'],
      [`${bucketPrefix}-d`, T9 + HOUR + 59 * 60_000, '19.99'],
      [`${bucketPrefix}-e`, T9 + 30 * 60_000, '0.1'],
    ];
    valid.forEach(([id, time, amount], i) => log.append(String(i % 2), txn(id, time, amount), ARRIVAL + i));
    const notJson = log.append('0', 'this is not json', ARRIVAL + 10);
    const badUtf8 = log.append('1', Buffer.from([0x7b, 0xff, 0x7d]), ARRIVAL + 11);
    const stringTime = log.append('1', txn(`${bucketPrefix}-x`, T9, '1.00').replace(`"eventTime":${T9}`, `"eventTime":"${T9}"`), ARRIVAL + 12);
    const badAmount = log.append('0', txn(`${bucketPrefix}-y`, T9, '"abc"'), ARRIVAL + 13);
    const tooPrecise = log.append('1', txn(`${bucketPrefix}-z`, T9 + HOUR, '1.005'), ARRIVAL + 14);

    const a = archiver(log, { run: 'r1', buffering: { intervalSeconds: 3600 } });
    a.start();
    await waitFor('all records read', () => a.status().recordsIn === 10);
    expect(await keys('raw/dt=2024-03-10/')).toEqual([]);
    await a.stop();

    const name = /raw\/dt=2024-03-10\/hr=09\/(tributary-raw-archive-1-2024-03-11-05-30-00-[0-9a-f]{32})\.parquet$/.exec((await keys('raw/dt=2024-03-10/'))[0])?.[1];
    expect(name).toBeDefined();
    expect(await keys('raw/dt=2024-03-10/')).toEqual([`raw/dt=2024-03-10/hr=09/${name}.parquet`, `raw/dt=2024-03-10/hr=10/${name}.parquet`]);
    expect([...(await keys('errors/raw/format-conversion-failed/dt=2024-03-11/hr=05/')), ...(await keys('errors/raw/processing-failed/dt=2024-03-11/hr=05/'))]).toEqual([
      `errors/raw/format-conversion-failed/dt=2024-03-11/hr=05/${name}`,
      `errors/raw/processing-failed/dt=2024-03-11/hr=05/${name}`,
    ]);

    const rows = await query(
      `SELECT txn_id, CAST(amount AS VARCHAR) AS amount, event_time, schema_version, regexp_extract(filename, 'hr=(\\d+)', 1) AS hr ` +
        `FROM read_parquet('${file('raw/dt=2024-03-10')}/*/*.parquet', filename = true) ORDER BY txn_id`,
    );
    expect(rows).toEqual(
      valid
        .map(([id, time, amount]) => ({
          txn_id: id,
          amount: Number(amount).toFixed(2),
          event_time: String(time),
          schema_version: 1,
          hr: new Date(time).getUTCHours() === 9 ? '09' : '10',
        }))
        .sort((x, y) => x.txn_id.localeCompare(y.txn_id)),
    );
    const schema = await query(`SELECT name, type, logical_type FROM parquet_schema('${file(`raw/dt=2024-03-10/hr=09/${name}.parquet`)}') WHERE name <> 'duckdb_schema'`);
    expect(schema.map((c) => c.name)).toEqual(archiveColumns().map((c) => c.name));
    expect(schema.find((c) => c.name === 'amount')).toMatchObject({ logical_type: 'DecimalType(scale=2, precision=12)' });
    expect(schema.find((c) => c.name === 'event_time')).toMatchObject({ type: 'INT64' });
    expect(schema.find((c) => c.name === 'schema_version')).toMatchObject({ type: 'INT32' });

    const errorLines = (type: string) =>
      fs
        .readFileSync(file(`errors/raw/${type}/dt=2024-03-11/hr=05/${name}`), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const processing = errorLines('processing-failed');
    expect(processing.map((l) => [Buffer.from(l.rawData as string, 'base64'), l.errorCode, l.errorMessage, l.arrivalTimestamp])).toEqual([
      [notJson.data, 'DynamicPartitioning.MetadataExtractionFailed', 'Non JSON record provided', notJson.arrivalTime],
      [badUtf8.data, 'DynamicPartitioning.MetadataExtractionFailed', 'Non JSON record provided', badUtf8.arrivalTime],
      [stringTime.data, 'DynamicPartitioning.MetadataExtractionFailed', 'string ("171006120...) and number (1000) cannot be divided', stringTime.arrivalTime],
    ]);
    for (const l of processing) expect(Object.keys(l).sort()).toEqual(['arrivalTimestamp', 'attemptEndingTimestamp', 'attemptsMade', 'errorCode', 'errorMessage', 'rawData']);
    const conversion = errorLines('format-conversion-failed');
    expect(conversion.map((l) => [Buffer.from(l.rawData as string, 'base64').toString(), l.lastErrorCode, l.lastErrorMessage, l.sequenceNumber])).toEqual([
      [badAmount.data.toString(), 'DataFormatConversion.MalformedData', 'column amount (JSON key \'amount\'): cannot convert "abc" to decimal(12,2)', badAmount.position],
      [tooPrecise.data.toString(), 'DataFormatConversion.MalformedData', 'column amount (JSON key \'amount\'): cannot convert 1.005 to decimal(12,2)', tooPrecise.position],
    ]);
    expect(conversion[0].dataCatalogTable).toMatchObject({ databaseName: 'tributary_lake', tableName: 'raw_transactions', region: 'us-east-1' });

    expect(a.status()).toMatchObject({
      state: 'stopped',
      recordsIn: 10,
      bufferedRecords: 0,
      flushes: 1,
      objectsWritten: 4,
      rowsArchived: 5,
      errors: { 'processing-failed': 3, 'format-conversion-failed': 2 },
      lag: 0,
    });
    expect(log.committedPositions).toEqual(
      new Map([
        ['0', log.records.get('0')!.at(-1)!.position],
        ['1', log.records.get('1')!.at(-1)!.position],
      ]),
    );
  });

  it('holds records until the buffering interval has passed (no early flush), then delivers without being stopped', async () => {
    const log = new MemoryLog(['0']);
    const a = archiver(log, { run: 'r2', buffering: { intervalSeconds: 3 } });
    a.start();
    for (let i = 0; i < 3; i++) log.append('0', txn(`run2-${i}`, T9 + 2 * 24 * HOUR, '5.00'), ARRIVAL);
    await waitFor('records buffered', () => a.status().bufferedRecords === 3);
    const bufferStart = Date.now() - a.status().bufferAgeMs;
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.status()).toMatchObject({ flushes: 0, bufferedRecords: 3 });
    expect(await keys('raw/dt=2024-03-12/')).toEqual([]);
    await waitFor('interval flush', () => a.status().flushes === 1, 10_000);
    const waited = a.status().lastFlushAt! - bufferStart;
    expect(waited).toBeGreaterThanOrEqual(3000 - 5);
    expect(waited).toBeLessThan(4500);
    expect(await keys('raw/dt=2024-03-12/')).toHaveLength(1);
    expect(a.status()).toMatchObject({ state: 'running', bufferedRecords: 0, rowsArchived: 3 });
    await a.stop();
    expect(a.status().flushes).toBe(1); // nothing left to flush: stop writes no empty object
  });

  it('delivers as soon as the buffer reaches the size hint, and stop() flushes the remainder', async () => {
    const log = new MemoryLog(['0']);
    const records = Array.from({ length: 12 }, (_, i) => txn(`run3-${String(i).padStart(2, '0')}`, T9 + 3 * 24 * HOUR, '7.77'));
    const size = Buffer.byteLength(records[0]);
    expect(records.every((r) => Buffer.byteLength(r) === size)).toBe(true);
    // Five records reach the hint, four do not.
    const a = archiver(log, { run: 'r3', buffering: { intervalSeconds: 3600, sizeMiB: (5 * size - 1) / (1024 * 1024) } });
    a.start();
    for (const r of records) log.append('0', r, ARRIVAL);
    await waitFor('all read', () => a.status().recordsIn === 12);
    expect(a.status()).toMatchObject({ flushes: 2, rowsArchived: 10, bufferedRecords: 2, bufferedBytes: 2 * size });
    expect(await keys('raw/dt=2024-03-13/')).toHaveLength(2);
    await a.stop();
    const files = await keys('raw/dt=2024-03-13/');
    expect(files).toHaveLength(3);
    const counts = await query(`SELECT count(*) AS n, count(DISTINCT txn_id) AS d FROM read_parquet('${file('raw/dt=2024-03-13')}/*/*.parquet')`);
    expect(counts).toEqual([{ n: '12', d: '12' }]);
  });

  it('after a crash between writing and committing, a restart rewrites the same keys from the saved ranges (retrying reads the log refuses): each record exactly once', async () => {
    const log = new MemoryLog(['0', '1']);
    const day = T9 + 4 * 24 * HOUR;
    const arrival = ARRIVAL + 2 * HOUR;
    const errorPrefix = 'errors/raw/processing-failed/dt=2024-03-11/hr=07/';
    for (let i = 0; i < 10; i++) log.append(String(i % 2), txn(`run4-${String(i).padStart(2, '0')}`, day + (i % 3) * HOUR, `${i}.25`), arrival);
    log.append('0', 'garbage', arrival);
    const plain = log.reader();
    let commits = 0;
    const crashing: LogReader = {
      ...plain,
      commit: async () => {
        commits++;
        throw new Error('simulated crash before commit');
      },
    };
    const first = archiver(log, { run: 'r4', buffering: { intervalSeconds: 3600 } }, crashing);
    first.start();
    await waitFor('read', () => first.status().recordsIn === 11);
    await expect(first.stop()).rejects.toThrow('simulated crash before commit');
    expect(commits).toBe(1);
    expect(first.status().state).toBe('failed');
    expect(log.committedPositions.size).toBe(0);
    const written = [...(await keys('raw/dt=2024-03-14/')), ...(await keys(errorPrefix))];
    expect(written.filter((k) => k.startsWith('errors/'))).toHaveLength(1);
    expect(written.filter((k) => k.startsWith('raw/'))).toHaveLength(3);
    const mtimes = written.map((k) => fs.statSync(file(k)).mtimeMs);

    // The log grows while the archiver is down: the redelivery must still cover exactly the old buffer.
    for (let i = 10; i < 14; i++) log.append(String(i % 2), txn(`run4-${i}`, day, '1.00'), arrival + HOUR);
    await new Promise((r) => setTimeout(r, 20));
    // The log unreachable for a moment as the restarted archive recovers (a broker restarting, as in the
    // fault suite): it tries again rather than failing.
    const flakyReader = log.reader();
    let refusals = 2;
    const flaky: LogReader = {
      ...flakyReader,
      read: async (unit, after, max) => {
        if (refusals-- > 0) throw new Error('simulated broker restart');
        return flakyReader.read(unit, after, max);
      },
    };
    const second = archiver(log, { run: 'r4', buffering: { intervalSeconds: 3600 } }, flaky);
    second.start();
    await waitFor('redelivered and new records read', () => second.status().flushes === 1 && second.status().recordsIn === 11 + 4);
    for (const [i, k] of written.entries()) expect(fs.statSync(file(k)).mtimeMs).toBeGreaterThan(mtimes[i]); // same keys, rewritten
    await second.stop();

    const rawKeys = await keys('raw/dt=2024-03-14/');
    expect(rawKeys).toEqual(expect.arrayContaining(written.filter((k) => k.startsWith('raw/'))));
    expect(rawKeys).toHaveLength(4); // the three rewritten, plus one for the new buffer
    const counts = await query(
      `SELECT txn_id, count(*) AS n FROM read_parquet('${file('raw/dt=2024-03-14')}/*/*.parquet') GROUP BY txn_id ORDER BY txn_id`,
    );
    expect(counts).toHaveLength(14);
    expect(counts.every((c) => c.n === '1')).toBe(true);
    expect(await keys(errorPrefix)).toEqual(written.filter((k) => k.startsWith('errors/')));
    expect(log.committedPositions.get('0')).toBe(log.records.get('0')!.at(-1)!.position);
    expect(log.committedPositions.get('1')).toBe(log.records.get('1')!.at(-1)!.position);
    expect(fs.readdirSync(path.join(home, 'positions', 'r4'))).toEqual([]);
  });

  it('abort() leaves the buffer undelivered and uncommitted; the next run delivers it', async () => {
    const log = new MemoryLog(['0']);
    for (let i = 0; i < 4; i++) log.append('0', txn(`run5-${i}`, T9 + 5 * 24 * HOUR, '2.50'), ARRIVAL);
    const a = archiver(log, { run: 'r5', buffering: { intervalSeconds: 3600 } });
    a.start();
    await waitFor('read', () => a.status().recordsIn === 4);
    await a.abort();
    expect(a.status().state).toBe('aborted');
    expect(await keys('raw/dt=2024-03-15/')).toEqual([]);
    expect(log.committedPositions.size).toBe(0);
    const b = archiver(log, { run: 'r5', buffering: { intervalSeconds: 3600 } });
    b.start();
    await waitFor('read again', () => b.status().recordsIn === 4);
    await b.stop();
    expect(b.status()).toMatchObject({ rowsArchived: 4, lag: 0 });
  });

  it('names its objects and its error records\' database from the platform\'s name, as the cloud names them (lib/names.ts)', async () => {
    // It used to name the database from the default config whatever the profile: tributary_lake for tributary-dev.
    const names = platformNames('tributary-dev');
    const log = new MemoryLog(['0']);
    log.append('0', txn('run7-bad', T9 + 7 * 24 * HOUR, '"abc"'), ARRIVAL);
    const a = archiver(log, { run: 'r7', platformName: 'tributary-dev', buffering: { intervalSeconds: 3600 } });
    a.start();
    await waitFor('read', () => a.status().recordsIn === 1);
    await a.stop();
    const key = (await keys('errors/raw/format-conversion-failed/dt=2024-03-11/hr=05/')).find((k) => k.includes(`/${names.rawArchive}-1-`));
    expect(key).toBeDefined();
    const [line] = fs.readFileSync(file(key!), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(line.dataCatalogTable).toMatchObject({ databaseName: 'tributary_dev_lake', tableName: RAW_TABLE });
    expect(names.lakeDatabase).toBe('tributary_dev_lake');
  });

  it('keeps retrying a failed delivery and reads nothing new meanwhile', async () => {
    const log = new MemoryLog(['0']);
    const down = sandboxS3Client({ ...settings, ports: { ...settings.ports, s3: await freePort() } });
    const failures: string[] = [];
    const a = archiver(log, { run: 'r6', s3: down, buffering: { intervalSeconds: 0.05 }, onDeliveryError: (e) => failures.push(e.message) });
    a.start();
    log.append('0', txn('run6-0', T9, '1.00'), ARRIVAL);
    await waitFor('several failed attempts', () => a.status().deliveryFailures >= 3);
    log.append('0', txn('run6-1', T9, '1.00'), ARRIVAL);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.status()).toMatchObject({ flushes: 0, recordsIn: 1, bufferedRecords: 1 });
    expect(failures.length).toBeGreaterThanOrEqual(3);
    await expect(a.stop()).rejects.toThrow();
    down.destroy();
    expect(log.committedPositions.size).toBe(0);
  });

  it.each<[LogKind, number]>([
    ['kinesis', 5],
    ['kafka', 6],
  ])('archives from the real %s log (reader raw-archive) on the interval, and survives a crash before commit there too', async (kind, month) => {
    const logSettings = { ...settings, log: kind };
    const log: LocalLog = openLog(logSettings);
    await log.ensureCreated();
    const base = Date.UTC(2024, month, 1, 22, 30);
    const day = (d: number) => `raw/dt=2024-${String(month + 1).padStart(2, '0')}-0${d}`;
    const events = Array.from({ length: 40 }, (_, i) => ({ id: `real-${String(i).padStart(2, '0')}`, time: base + i * 3 * 60_000, amount: `${i + 1}.${String(i).padStart(2, '0')}` }));
    await log.produce([
      ...events.map((e) => ({ key: `card-${e.id.length % 4}-${e.id}`, data: txn(e.id, e.time, e.amount) })),
      { key: 'card-x', data: 'not json at all' },
      { key: 'card-y', data: txn('real-bad', base, '"12,50"') },
    ]);
    // One reader at a time, closed after use: on Kafka a reader is a consumer-group member.
    const firstReader = log.reader(RAW_ARCHIVE_READER);
    const first = createArchiver({ settings: logSettings, reader: firstReader, buffering: { intervalSeconds: 1 }, pollIntervalMs: 50 });
    running.push(first);
    first.start();
    await waitFor('the interval flush of all 42 records', () => first.status().recordsIn === 42 && first.status().bufferedRecords === 0, 30_000, () => first.status());
    expect(first.status()).toMatchObject({ rowsArchived: 40, errors: { 'processing-failed': 1, 'format-conversion-failed': 1 } });
    await first.stop();
    expect(first.status().lag).toBe(0);
    await firstReader.close();

    // A crash between writing and committing, with the real reader's positions on disk.
    const more = Array.from({ length: 10 }, (_, i) => ({ id: `real-more-${i}`, time: base + HOUR, amount: '3.33' }));
    await log.produce(more.map((e) => ({ key: `card-${e.id}`, data: txn(e.id, e.time, e.amount) })));
    const before = await keys(`${day(1)}/hr=23/`);
    const real = log.reader(RAW_ARCHIVE_READER);
    const crashing: LogReader = {
      units: () => real.units(),
      read: (unit, after, max) => real.read(unit, after, max),
      committed: (unit) => real.committed(unit),
      commit: async () => {
        throw new Error('simulated crash before commit');
      },
      lag: (unit) => real.lag(unit),
      close: () => real.close(),
    };
    const second = createArchiver({ settings: logSettings, reader: crashing, buffering: { intervalSeconds: 3600 }, pollIntervalMs: 50 });
    running.push(second);
    second.start();
    await waitFor('the new records', () => second.status().recordsIn === 10, 30_000, () => second.status());
    await expect(second.stop()).rejects.toThrow('simulated crash before commit');
    await real.close();
    const crashedKeys = await keys(`${day(1)}/hr=23/`);
    expect(crashedKeys).toHaveLength(before.length + 1);

    const thirdReader = log.reader(RAW_ARCHIVE_READER);
    const third = createArchiver({ settings: logSettings, reader: thirdReader, buffering: { intervalSeconds: 3600 }, pollIntervalMs: 50 });
    running.push(third);
    third.start();
    await waitFor('the redelivery', () => third.status().flushes === 1, 30_000, () => third.status());
    await third.stop();
    await thirdReader.close();
    expect(await keys(`${day(1)}/hr=23/`)).toEqual(crashedKeys);
    expect(third.status()).toMatchObject({ rowsArchived: 10, lag: 0 });

    const rows = await query(
      `SELECT txn_id, CAST(amount AS VARCHAR) AS amount, count(*) OVER (PARTITION BY txn_id) AS copies ` +
        `FROM read_parquet(['${file(day(1))}/*/*.parquet', '${file(day(2))}/*/*.parquet']) ORDER BY txn_id`,
    );
    const expected = [...events, ...more].map((e) => ({ txn_id: e.id, amount: Number(e.amount).toFixed(2), copies: '1' })).sort((x, y) => x.txn_id.localeCompare(y.txn_id));
    expect(rows).toEqual(expected);
    expect((await keys(`${day(1)}/`)).map((k) => k.split('/')[2])).toEqual(expect.arrayContaining(['hr=22', 'hr=23']));
    expect((await keys(`${day(2)}/`)).map((k) => k.split('/')[2])).toEqual(expect.arrayContaining(['hr=00']));
    await log.close();
  });
});
