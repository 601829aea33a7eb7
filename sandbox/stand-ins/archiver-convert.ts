import { type EventColumn, transactionColumns } from '../../lib/schemas';

/**
 * The two per-record steps of the raw archive's Firehose stream, as pure functions:
 *
 * 1. Dynamic partitioning's metadata extraction, {@link partitionKeys}: the same keys the cloud
 *    stream's jq query (`RAW_PARTITION_QUERY` in lib/stacks/archive-stack.ts) extracts,
 *    `dt = .eventTime / 1000 | floor | strftime("%Y-%m-%d")` and `hr = ... strftime("%H")`, UTC.
 *    A record that is not JSON, or whose `eventTime` is not a number (jq cannot divide a string
 *    or null by 1000), cannot be partitioned.
 *    https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
 *
 * 2. Record format conversion's deserialization, {@link toRow}: the OpenX JSON SerDe reading a
 *    JSON object into the raw Glue table's columns, each snake_case column from its camelCase
 *    key (the stream's `columnToJsonKeyMappings`, case-sensitive). Missing keys become NULL,
 *    keys that are not columns are dropped, a value that does not fit its column's type fails
 *    the record. https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html
 *
 * Where the stand-in is stricter than Hive's SerDe may be (uncertain, not measured against the
 * service): a decimal with more fractional digits than the column's scale, or more integer
 * digits than precision - scale, fails here; Hive's HiveDecimal would round it or make it NULL.
 * Integers beyond 2^53 fail here because JavaScript's JSON parser cannot hold them exactly.
 */

export interface PartitionKeys {
  dt: string;
  hr: string;
}

export type PartitionResult = { ok: true; keys: PartitionKeys } | { ok: false; message: string };

function jqType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

function jqShow(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.length > 11 ? `${text.slice(0, 10)}...` : text;
}

/** What RAW_PARTITION_QUERY yields for one parsed JSON value, or why jq would fail on it. */
export function partitionKeys(value: unknown): PartitionResult {
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, message: `Cannot index ${jqType(value)} with "eventTime"` };
  }
  const eventTime = value === null ? null : (value as Record<string, unknown>).eventTime ?? null;
  if (typeof eventTime !== 'number') {
    return { ok: false, message: `${jqType(eventTime)} (${jqShow(eventTime)}) and number (1000) cannot be divided` };
  }
  const date = new Date(Math.floor(eventTime / 1000) * 1000);
  const year = date.getUTCFullYear();
  // jq's strftime goes through gmtime; outside four-digit years the prefix would not be a date Athena's projection reads.
  if (Number.isNaN(date.getTime()) || year < 0 || year > 9999) {
    return { ok: false, message: `eventTime ${eventTime} gives no date strftime can format` };
  }
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return {
    ok: true,
    keys: { dt: `${pad(year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`, hr: pad(date.getUTCHours()) },
  };
}

/** A Glue column type the stand-in converts, and the DuckDB type it is written as. */
export interface ColumnType {
  glue: string;
  duckdb: string;
  /** The value as canonical text for DuckDB to CAST exactly, NULL, or an Error saying why it does not fit. */
  convert(value: unknown): string | null | Error;
}

const INTEGER_RANGES: Record<string, [bigint, bigint, string]> = {
  tinyint: [-(2n ** 7n), 2n ** 7n - 1n, 'TINYINT'],
  smallint: [-(2n ** 15n), 2n ** 15n - 1n, 'SMALLINT'],
  int: [-(2n ** 31n), 2n ** 31n - 1n, 'INTEGER'],
  bigint: [-(2n ** 63n), 2n ** 63n - 1n, 'BIGINT'],
};

const NUMBER_TEXT = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A number's digits as [sign, integer digits, fraction digits], exponent applied, or undefined if not a number. */
function decimalParts(text: string): [string, string, string] | undefined {
  const match = NUMBER_TEXT.exec(text.trim());
  if (!match || (match[2] ?? '') + (match[3] ?? '') === '') return undefined;
  let int = match[2] ?? '';
  let frac = match[3] ?? '';
  const exp = Number(match[4] ?? 0);
  if (Math.abs(exp) > 400) return undefined;
  if (exp > 0) {
    frac = frac.padEnd(exp, '0');
    int += frac.slice(0, exp);
    frac = frac.slice(exp);
  } else if (exp < 0) {
    int = int.padStart(-exp, '0');
    frac = int.slice(int.length + exp) + frac;
    int = int.slice(0, int.length + exp);
  }
  int = int.replace(/^0+/, '');
  frac = frac.replace(/0+$/, '');
  const sign = match[1] === '-' && (int !== '' || frac !== '') ? '-' : '';
  return [sign, int, frac];
}

/** The text a JSON number or numeric string stands for; JSON numbers print exactly when they have <= 15 significant digits. */
function numericText(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'string') return value;
  return undefined;
}

function mismatch(value: unknown, glue: string): Error {
  const shown = JSON.stringify(value);
  return new Error(`cannot convert ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown} to ${glue}`);
}

/** The converter for one Glue type; throws for a type the stand-in does not convert (a schema the sandbox cannot archive). */
export function columnType(glue: string): ColumnType {
  const type = glue.trim().toLowerCase();
  if (type === 'string' || /^varchar\(\d+\)$/.test(type) || /^char\(\d+\)$/.test(type)) {
    return {
      glue,
      duckdb: 'VARCHAR',
      convert: (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'string') return v;
        // OpenX reads a JSON number or boolean into a string column as its text.
        if (typeof v === 'number' || typeof v === 'boolean') return String(v);
        return mismatch(v, glue);
      },
    };
  }
  if (type in INTEGER_RANGES) {
    const [min, max, duckdb] = INTEGER_RANGES[type];
    return {
      glue,
      duckdb,
      convert: (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'number' && !Number.isSafeInteger(v)) return mismatch(v, glue);
        const text = typeof v === 'number' ? String(v) : typeof v === 'string' && /^[+-]?\d+$/.test(v.trim()) ? v.trim() : undefined;
        if (text === undefined) return mismatch(v, glue);
        const n = BigInt(text);
        return n < min || n > max ? mismatch(v, glue) : n.toString();
      },
    };
  }
  const decimal = /^decimal\((\d+)\s*,\s*(\d+)\)$/.exec(type);
  if (decimal) {
    const precision = Number(decimal[1]);
    const scale = Number(decimal[2]);
    return {
      glue,
      duckdb: `DECIMAL(${precision},${scale})`,
      convert: (v) => {
        if (v === null || v === undefined) return null;
        const text = numericText(v);
        const parts = text === undefined ? undefined : decimalParts(text);
        if (!parts) return mismatch(v, glue);
        const [sign, int, frac] = parts;
        if (frac.length > scale || int.length > precision - scale) return mismatch(v, glue);
        return `${sign}${int || '0'}${frac ? `.${frac}` : ''}`;
      },
    };
  }
  if (type === 'double' || type === 'float') {
    return {
      glue,
      duckdb: type === 'double' ? 'DOUBLE' : 'FLOAT',
      convert: (v) => {
        if (v === null || v === undefined) return null;
        const text = numericText(v);
        return text !== undefined && decimalParts(text) ? text.trim() : mismatch(v, glue);
      },
    };
  }
  if (type === 'boolean') {
    return {
      glue,
      duckdb: 'BOOLEAN',
      convert: (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === 'boolean') return String(v);
        if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase();
        return mismatch(v, glue);
      },
    };
  }
  throw new Error(`The archiver stand-in does not convert Glue type '${glue}'`);
}

/** One raw-table column, ready to convert. */
export interface ArchiveColumn extends EventColumn {
  converter: ColumnType;
}

/** The raw table's columns from the event schema (`transactionColumns()`), each with its converter. */
export function archiveColumns(columns: readonly EventColumn[] = transactionColumns()): ArchiveColumn[] {
  return columns.map((column) => ({ ...column, converter: columnType(column.type) }));
}

export type RowResult = { ok: true; row: Record<string, string | null> } | { ok: false; message: string };

/** The record as a row of the table (canonical text per column, or NULL), or why the SerDe would reject it. */
export function toRow(value: unknown, columns: readonly ArchiveColumn[]): RowResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: `a ${jqType(value)} is not a JSON object a row can be read from` };
  }
  const record = value as Record<string, unknown>;
  const row: Record<string, string | null> = {};
  for (const column of columns) {
    const converted = column.converter.convert(Object.prototype.hasOwnProperty.call(record, column.jsonKey) ? record[column.jsonKey] : undefined);
    if (converted instanceof Error) {
      return { ok: false, message: `column ${column.name} (JSON key '${column.jsonKey}'): ${converted.message}` };
    }
    row[column.name] = converted;
  }
  return { ok: true, row };
}
