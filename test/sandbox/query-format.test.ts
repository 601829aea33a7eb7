import { DuckDBInstance } from '@duckdb/node-api';
import {
  catalogEpochMillisColumns, convertRows, csvField, duckdbTimestampToIso, epochMillisToIso, formatCsv, formatJson, formatTable,
  isEpochMillisColumn, type QueryColumn, type Row,
} from '../../sandbox/serving/format';

/** Columns and rows as DuckDB's runAndReadAll gives them: type text, and getRowObjectsJson values. */
const ALERT_COLUMNS: QueryColumn[] = [
  { name: 'alert_id', type: 'VARCHAR' },
  { name: 'window_start', type: 'BIGINT' },
  { name: 'txn_ids', type: 'VARCHAR[]' },
  { name: 'amount', type: 'DECIMAL(18,2)' },
  { name: 'txn_count', type: 'BIGINT' },
];
const ALERT_ROWS: Row[] = [
  { alert_id: 'R1:card-1:1764921600000', window_start: '1764921600000', txn_ids: ['t1', 't2', 't3'], amount: '12345678901234.56', txn_count: '3' },
  { alert_id: 'R3:card-22:1764921660000', window_start: '1764921660000', txn_ids: [], amount: '0.10', txn_count: '12' },
  { alert_id: null, window_start: null, txn_ids: null, amount: null, txn_count: null },
];

describe('sandbox query output', () => {
  test('epoch milliseconds become ISO-8601 UTC, from a number or an exact BIGINT string', () => {
    expect(epochMillisToIso('1764921600123')).toBe('2025-12-05T08:00:00.123Z');
    expect(epochMillisToIso(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(epochMillisToIso('-1000')).toBe('1969-12-31T23:59:59.000Z');
    // Not a time after all: left alone rather than invented.
    expect(epochMillisToIso('99999999999999999999')).toBe('99999999999999999999');
    expect(epochMillisToIso('abc')).toBe('abc');
  });

  test('which columns are epoch milliseconds: the Glue catalog bigint times, and integer columns named like times', () => {
    const catalog = catalogEpochMillisColumns();
    for (const name of ['event_time', 'window_start', 'window_end', 'session_start', 'session_end', 'detected_at', 'watermark', 'arrival_time', 'received_at']) {
      expect([name, catalog.has(name)]).toEqual([name, true]);
    }
    expect(catalog.has('txn_count')).toBe(false);
    expect(isEpochMillisColumn({ name: 'window_start', type: 'BIGINT' })).toBe(true);
    expect(isEpochMillisColumn({ name: 'last_time', type: 'BIGINT' })).toBe(true); // an alias
    expect(isEpochMillisColumn({ name: 'txn_count', type: 'BIGINT' })).toBe(false);
    expect(isEpochMillisColumn({ name: 'event_time', type: 'VARCHAR' })).toBe(false); // already text
    expect(isEpochMillisColumn({ name: 'window_start', type: 'DOUBLE' })).toBe(false);
  });

  test('DuckDB TIMESTAMP values become ISO-8601 too, every digit of the fraction kept', () => {
    expect(duckdbTimestampToIso('2026-12-05 07:00:00.123456')).toBe('2026-12-05T07:00:00.123456Z');
    expect(duckdbTimestampToIso('2026-12-05 07:00:00+00')).toBe('2026-12-05T07:00:00Z');
    expect(duckdbTimestampToIso('2026-12-05 07:00:00+05:30')).toBe('2026-12-05T07:00:00+05:30');
    expect(duckdbTimestampToIso('infinity')).toBe('infinity');
    const [row] = convertRows([{ name: 'ts', type: 'TIMESTAMP' }, { name: 'tz', type: 'TIMESTAMP WITH TIME ZONE' }],
      [{ ts: '2026-12-05 07:00:00', tz: '2026-12-05 07:00:00+00' }]);
    expect(row).toEqual({ ts: '2026-12-05T07:00:00Z', tz: '2026-12-05T07:00:00Z' });
  });

  test('decimals are printed exactly, beyond what a double holds', () => {
    const table = formatTable(ALERT_COLUMNS, ALERT_ROWS);
    expect(table).toContain('12345678901234.56');
    expect(formatCsv(ALERT_COLUMNS, ALERT_ROWS)).toContain(',12345678901234.56,');
    expect(JSON.parse(formatJson(ALERT_COLUMNS, ALERT_ROWS))[0].amount).toBe('12345678901234.56');
    const wide: QueryColumn[] = [{ name: 'total', type: 'DECIMAL(38,10)' }];
    expect(formatTable(wide, [{ total: '1234567890123456789012345678.0000000001' }])).toContain('1234567890123456789012345678.0000000001');
  });

  test('nulls: NULL in the table, an empty field in CSV, null in JSON', () => {
    const table = formatTable(ALERT_COLUMNS, ALERT_ROWS).split('\n');
    expect(table[4].split(/\s+/)).toEqual(['NULL', 'NULL', 'NULL', 'NULL', 'NULL']);
    expect(formatCsv(ALERT_COLUMNS, ALERT_ROWS).split('\r\n')[3]).toBe(',,,,');
    expect(JSON.parse(formatJson(ALERT_COLUMNS, ALERT_ROWS))[2]).toEqual({ alert_id: null, window_start: null, txn_ids: null, amount: null, txn_count: null });
  });

  test('arrays (txn_ids): [a, b] in the table, JSON text in CSV, an array in JSON', () => {
    expect(formatTable(ALERT_COLUMNS, ALERT_ROWS)).toContain('[t1, t2, t3]');
    expect(formatCsv(ALERT_COLUMNS, ALERT_ROWS)).toContain(',"[""t1"",""t2"",""t3""]",');
    const json = JSON.parse(formatJson(ALERT_COLUMNS, ALERT_ROWS));
    expect(json[0].txn_ids).toEqual(['t1', 't2', 't3']);
    expect(json[1].txn_ids).toEqual([]);
  });

  test('JSON keeps the conversions: times as ISO strings, BIGINT counts as exact strings', () => {
    expect(JSON.parse(formatJson(ALERT_COLUMNS, ALERT_ROWS))[0]).toEqual({
      alert_id: 'R1:card-1:1764921600000', window_start: '2025-12-05T08:00:00.000Z', txn_ids: ['t1', 't2', 't3'], amount: '12345678901234.56', txn_count: '3',
    });
  });

  test('CSV quotes commas, double quotes and line breaks (RFC 4180), and ends lines with CRLF', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    const columns: QueryColumn[] = [{ name: 'reason', type: 'VARCHAR' }, { name: 'raw', type: 'VARCHAR' }];
    expect(formatCsv(columns, [{ reason: 'bad_json', raw: '{"a":1,\n"b"' }])).toBe('reason,raw\r\nbad_json,"{""a"":1,\n""b"""\r\n');
  });

  test('columns are aligned: numbers right, text and times left, two spaces apart', () => {
    const table = formatTable(ALERT_COLUMNS, ALERT_ROWS.slice(0, 2));
    expect(table).toBe([
      'alert_id                  window_start              txn_ids                  amount  txn_count',
      '------------------------  ------------------------  ------------  -----------------  ---------',
      'R1:card-1:1764921600000   2025-12-05T08:00:00.000Z  [t1, t2, t3]  12345678901234.56          3',
      'R3:card-22:1764921660000  2025-12-05T08:01:00.000Z  []                         0.10         12',
      '(2 rows)',
    ].join('\n'));
  });

  test('a newline inside a value does not break the table', () => {
    const table = formatTable([{ name: 'raw', type: 'VARCHAR' }], [{ raw: 'a\nb' }]);
    expect(table.split('\n')).toEqual(['raw', '----', 'a\\nb', '(1 row)']);
  });

  test('with DuckDB itself: its type names and JSON values are what the formatting expects', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    try {
      const connection = await instance.connect();
      const reader = await connection.runAndReadAll(`SELECT 'R1:c:1' AS alert_id, 1764921600000::BIGINT AS window_start, ['t1', 't2'] AS txn_ids,
        12345678901234.56::DECIMAL(18,2) AS amount, 3::BIGINT AS txn_count, TIMESTAMP '2026-12-05 07:00:00.5' AS loaded`);
      const columns = reader.columnNames().map((name, i) => ({ name, type: reader.columnTypes()[i].toString() }));
      const rows = reader.getRowObjectsJson() as Row[];
      expect(JSON.parse(formatJson(columns, rows))).toEqual([{
        alert_id: 'R1:c:1', window_start: '2025-12-05T08:00:00.000Z', txn_ids: ['t1', 't2'], amount: '12345678901234.56', txn_count: '3', loaded: '2026-12-05T07:00:00.5Z',
      }]);
      expect(formatTable(columns, rows).split('\n')[2]).toBe('R1:c:1    2025-12-05T08:00:00.000Z  [t1, t2]  12345678901234.56          3  2026-12-05T07:00:00.5Z');
      connection.closeSync();
    } finally {
      instance.closeSync();
    }
  });
});
