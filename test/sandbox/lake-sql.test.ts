import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lakeTables } from '../../lib/lake-catalog';
import { duckdbType, openLakeSql, type LakeSql } from '../../sandbox/serving/lake-sql';

/**
 * The sandbox's DuckDB serving layer: every Glue table is a view of the same name and columns,
 * and the named Athena queries run unchanged on it.
 */

const QUERIES = path.join(__dirname, '..', '..', 'lib', 'serving', 'queries');
const now = Date.now();
const hourOf = (ms: number) => {
  const iso = new Date(ms).toISOString();
  return { dt: iso.slice(0, 10), hr: iso.slice(11, 13) };
};

function writeLines(file: string, rows: object[]) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

describe('the lake through DuckDB', () => {
  let lake: string;
  let sql: LakeSql;

  beforeAll(async () => {
    lake = fs.mkdtempSync(path.join(os.tmpdir(), 'lake-sql-'));
    const { dt, hr } = hourOf(now);
    const minute = now - (now % 60000);
    // Two speed-layer batches' partial sums for one card-minute, one for another card.
    writeLines(path.join(lake, `speed/spend_per_card_minute/dt=${dt}/hr=${hr}/s0-1-5.json`), [
      { card_id: 'card-1', window_start: minute, txn_count: 2, total_amount: 150.25 },
      { card_id: 'card-2', window_start: minute, txn_count: 1, total_amount: 10 },
    ]);
    writeLines(path.join(lake, `speed/spend_per_card_minute/dt=${dt}/hr=${hr}/s0-6-9.json`), [
      { card_id: 'card-1', window_start: minute, txn_count: 1, total_amount: 0.75 },
    ]);
    writeLines(path.join(lake, `speed/alerts/dt=${dt}/hr=${hr}/R1_card-1_${minute}.json`), [
      { alert_id: `R1:card-1:${minute}`, rule: 'R1', card_id: 'card-1', customer_id: 'c-1', window_start: minute, txn_ids: ['a', 'b', 'c'], detected_by: 'speed', detected_at: now },
    ]);
    writeLines(path.join(lake, `deadletter/speed/dt=${dt}/hr=${hr}/s0-3.json`), [
      { reason: 'bad_json', detail: 'Unexpected token', errors: [], event_source: 'aws:kinesis', stream: 's', shard_id: 's0', sequence_number: '3', partition_key: 'k', arrival_time: now, data_base64: 'e30=' },
      { reason: 'schema_violation', detail: 'amount', errors: [{ path: '/amount', message: 'must be > 0' }], event_source: 'aws:kinesis', stream: 's', shard_id: 's0', sequence_number: '4', partition_key: 'k', arrival_time: now, data_base64: 'e30=' },
    ]);
    // Raw: three rows of two distinct transactions, written as Parquet by DuckDB itself.
    const rawDir = path.join(lake, `raw/dt=${dt}/hr=${hr}`);
    fs.mkdirSync(rawDir, { recursive: true });
    const writer = await openLakeSql(lake);
    await writer.connection.run(`COPY (SELECT * FROM (VALUES
        ('t1', 'card-1', 'c-1', 'm', 12.34::DECIMAL(12,2), 'EUR', 'DE', 'POS', ${now}::BIGINT, 1),
        ('t1', 'card-1', 'c-1', 'm', 12.34::DECIMAL(12,2), 'EUR', 'DE', 'POS', ${now}::BIGINT, 1),
        ('t2', 'card-2', 'c-2', 'm', 99.99::DECIMAL(12,2), 'EUR', 'FR', 'ECOM', ${now}::BIGINT, 1))
        AS t(txn_id, card_id, customer_id, merchant_id, amount, currency, country, channel, event_time, schema_version))
      TO '${rawDir}/part-0.parquet' (FORMAT parquet)`);
    // An in-progress file of Flink's sink is not data yet.
    fs.writeFileSync(path.join(rawDir, '.part-1.parquet.inprogress'), 'not parquet');
    writer.close();
    sql = await openLakeSql(lake);
  });

  afterAll(() => {
    sql.close();
    fs.rmSync(lake, { recursive: true, force: true });
  });

  it('has a view for every Glue table, with its columns and partition keys', async () => {
    for (const table of lakeTables()) {
      const rows = await sql.query(`DESCRIBE ${table.tableName}`);
      expect(rows.map((r) => r.column_name)).toEqual([...table.columns.map((c) => c.name), ...table.partitions.map((p) => p.name)]);
      expect(rows.slice(0, table.columns.length).map((r) => r.column_type)).toEqual(table.columns.map((c) => duckdbType(c.type)));
    }
  });

  it('runs every named Athena query unchanged', async () => {
    const results = Object.fromEntries(
      await Promise.all(
        fs.readdirSync(QUERIES).map(async (file) => [file.replace('.sql', ''), await sql.query(fs.readFileSync(path.join(QUERIES, file), 'utf8'))] as const),
      ),
    );
    expect(Object.keys(results).sort()).toEqual(['alerts_last_day', 'big_spenders_today', 'dead_letters_by_reason', 'raw_events_per_hour', 'top_cards_last_hour']);
    expect(results.top_cards_last_hour).toEqual([
      { card_id: 'card-1', txn_count: '3', total_amount: '151.00' },
      { card_id: 'card-2', txn_count: '1', total_amount: '10.00' },
    ]);
    expect(results.raw_events_per_hour).toEqual([{ ...hourOf(now), events: '3', distinct_events: '2' }]);
    expect(results.alerts_last_day).toEqual([{ rule: 'R1', alerts: '1', cards: '1' }]);
    expect(results.dead_letters_by_reason.map((r) => [r.reason, r.records])).toEqual(
      expect.arrayContaining([['bad_json', '1'], ['schema_violation', '1']]),
    );
    expect(results.big_spenders_today).toEqual([]);
  });

  it('keeps amounts exact', async () => {
    expect(await sql.query('SELECT sum(amount) AS total FROM raw_transactions')).toEqual([{ total: '124.67' }]);
  });

  it('maps Glue types, and refuses one it does not know', () => {
    expect(duckdbType('array<struct<path:string,message:string>>')).toBe('STRUCT(path VARCHAR, message VARCHAR)[]');
    expect(duckdbType('decimal(18,2)')).toBe('DECIMAL(18,2)');
    expect(() => duckdbType('map<string,string>')).toThrow("No DuckDB type for Glue type 'map<string,string>'");
  });
});
