import { lakeTables } from '../../lib/lake-catalog';

/**
 * How `sandbox query` prints a result: a plain-text table for people, `--json` and `--csv` for scripts.
 * Pure functions over the columns (name and DuckDB type) and the rows as DuckDB's exact JSON values
 * (`getRowObjectsJson`: BIGINT, HUGEINT and DECIMAL come as strings, lists as arrays, structs as objects).
 *
 * The lake keeps times as epoch milliseconds (bigint) in every path, so that JSON, Parquet and DuckDB
 * agree (schemas/views.json); here they are shown as ISO-8601 UTC. Decimals are printed digit for digit.
 */

/** A result column: its name and its DuckDB type as DuckDB writes it, e.g. `BIGINT`, `DECIMAL(18,2)`, `VARCHAR[]`. */
export interface QueryColumn {
  readonly name: string;
  readonly type: string;
}

/** A value as DuckDB's JSON conversion gives it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type Row = Record<string, JsonValue | undefined>;

/** Names that say "a point in time": *_time, *_at, window_/session_ start and end, watermark. */
const TIME_NAME = /(^|_)(time|at|start|end)$|^watermark$/;

/**
 * The lake's epoch-millisecond columns, from the Glue catalog (lib/lake-catalog.ts; the serving views
 * expose the same columns): the bigint columns that the column comment calls epoch ms or whose name
 * names a time. Counts (`txn_count`) and other bigints are not among them.
 */
export function catalogEpochMillisColumns(): Set<string> {
  return new Set(lakeTables().flatMap((table) => table.columns)
    .filter((c) => c.type === 'bigint' && (/epoch (ms|milli)/i.test(c.comment ?? '') || TIME_NAME.test(c.name)))
    .map((c) => c.name));
}

const CATALOG_EPOCH_MILLIS = catalogEpochMillisColumns();

const INTEGER_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const NUMBER_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/;

/**
 * Whether a column holds epoch milliseconds: an integer column named like one of the catalog's time
 * columns, or (for an alias such as `max(event_time) AS last_time`) named like a time.
 */
export function isEpochMillisColumn(column: QueryColumn, catalog: ReadonlySet<string> = CATALOG_EPOCH_MILLIS): boolean {
  return INTEGER_TYPE.test(column.type) && (catalog.has(column.name) || TIME_NAME.test(column.name));
}

/** Whether a column is printed right-aligned: numbers (times are shown as text). */
export function isNumericColumn(column: QueryColumn): boolean {
  return NUMBER_TYPE.test(column.type) && !isEpochMillisColumn(column);
}

/** Latest instant a JavaScript Date holds, in ms. */
const MAX_DATE_MS = 8.64e15;

/** Epoch milliseconds (a number or DuckDB's exact string) as ISO-8601 UTC; anything else is returned as it is. */
export function epochMillisToIso(value: JsonValue | undefined): JsonValue | undefined {
  if (typeof value !== 'number' && typeof value !== 'string') return value;
  const text = String(value);
  if (!/^-?\d+$/.test(text)) return value;
  const ms = Number(text);
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_DATE_MS) return value;
  return new Date(ms).toISOString();
}

/**
 * DuckDB's TIMESTAMP text (`2026-12-05 07:00:00.123456`, UTC) or TIMESTAMP WITH TIME ZONE text
 * (`... +00`, `... +05:30`) as ISO-8601, keeping every digit of the fraction.
 */
export function duckdbTimestampToIso(value: JsonValue | undefined): JsonValue | undefined {
  if (typeof value !== 'string') return value;
  const match = /^(-?\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:([+-])(\d{2})(?::?(\d{2}))?)?$/.exec(value);
  if (!match) return value; // infinity, -infinity
  const [, date, time, sign, hours, minutes] = match;
  const offset = sign === undefined || (hours === '00' && (minutes ?? '00') === '00') ? 'Z' : `${sign}${hours}:${minutes ?? '00'}`;
  return `${date}T${time}${offset}`;
}

/** One value as the output shows it: times as ISO-8601, everything else exactly as DuckDB gave it. */
export function convertValue(column: QueryColumn, value: JsonValue | undefined): JsonValue | undefined {
  if (value === null || value === undefined) return value;
  if (isEpochMillisColumn(column)) return epochMillisToIso(value);
  if (/^TIMESTAMP(_S|_MS|_NS| WITH TIME ZONE)?$/.test(column.type)) return duckdbTimestampToIso(value);
  return value;
}

/** The rows with their values converted (convertValue), keys in column order. */
export function convertRows(columns: readonly QueryColumn[], rows: readonly Row[]): Row[] {
  return rows.map((row) => Object.fromEntries(columns.map((column) => [column.name, convertValue(column, row[column.name])])));
}

/** A converted value as one line of text: NULL for null, lists as `[a, b]`, structs as JSON. */
export function displayText(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  if (Array.isArray(value)) return `[${value.map((item) => (typeof item === 'string' ? item : displayText(item))).join(', ')}]`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/**
 * A plain-text table: a header, a rule, one line per row, columns two spaces apart, numbers
 * right-aligned and everything else left-aligned, then the row count.
 */
export function formatTable(columns: readonly QueryColumn[], rows: readonly Row[]): string {
  if (columns.length === 0) return '(no columns)';
  const converted = convertRows(columns, rows);
  const cells = converted.map((row) => columns.map((column) => displayText(row[column.name])));
  const widths = columns.map((column, i) => Math.max(column.name.length, ...cells.map((line) => line[i].length)));
  const right = columns.map(isNumericColumn);
  const line = (texts: string[]) => texts
    .map((text, i) => (right[i] ? text.padStart(widths[i]) : text.padEnd(widths[i])))
    .join('  ')
    .trimEnd();
  const count = `(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`;
  return [line(columns.map((c) => c.name)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), count].join('\n');
}

/** A CSV field, quoted (RFC 4180) when it holds a comma, a double quote, a CR or an LF. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * RFC 4180 CSV: a header line, CRLF line ends, null as an empty field, lists and structs as JSON text;
 * times as ISO-8601, decimals exact.
 */
export function formatCsv(columns: readonly QueryColumn[], rows: readonly Row[]): string {
  const text = (value: JsonValue | undefined) => {
    if (value === null || value === undefined) return '';
    if (typeof value === 'object') return JSON.stringify(value);
    return String(value);
  };
  const lines = [
    columns.map((c) => csvField(c.name)).join(','),
    ...convertRows(columns, rows).map((row) => columns.map((c) => csvField(text(row[c.name]))).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** The rows as a JSON array, values converted (times as ISO-8601; BIGINT and DECIMAL stay exact strings). */
export function formatJson(columns: readonly QueryColumn[], rows: readonly Row[]): string {
  return JSON.stringify(convertRows(columns, rows), null, 2);
}
