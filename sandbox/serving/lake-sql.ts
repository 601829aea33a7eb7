import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { BATCH_VIEWS, type BatchRunPointer, lambdaViewName, lambdaViewSql } from '../../lib/batch';
import { lakeTables, servingViewName, servingViewSql, versionedTables, type LakeTableSpec } from '../../lib/lake-catalog';

/**
 * The sandbox's Athena: DuckDB over the lake folder, with one view per table of
 * lib/lake-catalog.ts under the same name and columns as the Glue table, so the
 * serving layer's SQL (lib/serving/queries/) runs unchanged. Partition keys are
 * strings, as Glue declares them, read from the `key=value` folders.
 *
 * Athena speaks Trino SQL. The named queries and the batch layer use four Trino
 * functions DuckDB lacks; they are defined here as macros with Trino's meaning for the format
 * specifiers the queries use (%Y %m %d %H mean the same in both). The session
 * runs in UTC, as Athena does.
 */

const TRINO_COMPAT = [
  `SET TimeZone = 'UTC'`,
  `CREATE OR REPLACE MACRO date_format(ts, fmt) AS strftime(ts, fmt)`,
  `CREATE OR REPLACE MACRO to_unixtime(ts) AS epoch(ts)`,
  `CREATE OR REPLACE MACRO from_unixtime(seconds) AS to_timestamp(seconds)`,
  // Both search for the pattern anywhere in the string (anchors make it whole).
  `CREATE OR REPLACE MACRO regexp_like(text, pattern) AS regexp_matches(text, pattern)`,
];

/** Glue (Hive) column types to DuckDB's. */
export function duckdbType(glueType: string): string {
  const type = glueType.trim();
  const array = /^array<(.+)>$/.exec(type);
  if (array) return `${duckdbType(array[1])}[]`;
  const struct = /^struct<(.+)>$/.exec(type);
  if (struct) {
    const fields = struct[1].split(',').map((field) => {
      const [name, fieldType] = field.split(':');
      return `${name} ${duckdbType(fieldType)}`;
    });
    return `STRUCT(${fields.join(', ')})`;
  }
  if (/^decimal\(\d+,\d+\)$/.test(type)) return type.toUpperCase();
  const simple: Record<string, string> = { string: 'VARCHAR', bigint: 'BIGINT', int: 'INTEGER', double: 'DOUBLE', boolean: 'BOOLEAN' };
  const mapped = simple[type];
  if (!mapped) throw new Error(`No DuckDB type for Glue type '${glueType}'`);
  return mapped;
}

/** A SQL string literal. */
export const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

function hasFiles(dir: string, extension: string): boolean {
  if (!fs.existsSync(dir)) return false;
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((name) => {
    const base = path.basename(name);
    return base.endsWith(extension) && !base.startsWith('.');
  });
}

/**
 * The table's typed columns, then its partition keys as strings, read from `files`: a glob or a list of
 * files of the table's format (hive partitions come from their `key=value` folders).
 */
export function tableSelectFrom(table: LakeTableSpec, files: string | readonly string[]): string {
  const columns = table.columns.map((c) => `CAST(${c.name === 'raw' ? '"raw"' : c.name} AS ${duckdbType(c.type)}) AS ${c.name}`);
  const partitions = table.partitions.map((p) => `CAST(${p.name} AS VARCHAR) AS ${p.name}`);
  const paths = typeof files === 'string' ? sqlString(files) : `[${files.map(sqlString).join(', ')}]`;
  const source =
    table.format === 'parquet'
      ? `read_parquet(${paths}, hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`
      : `read_json(${paths}, format = 'newline_delimited', hive_partitioning = true, hive_types_autocast = false, columns = {${[
          ...table.columns.map((c) => `${sqlString(c.name)}: ${sqlString(duckdbType(c.type))}`),
          ...table.partitions.map((p) => `${sqlString(p.name)}: 'VARCHAR'`),
        ].join(', ')}})`;
  return `SELECT ${[...columns, ...partitions].join(', ')} FROM ${source}`;
}

/** The SELECT behind one table's view: every committed file under the table's prefix. */
export function tableSelect(lakeDir: string, table: LakeTableSpec): string {
  const extension = table.format === 'parquet' ? '.parquet' : '.json';
  const dir = path.join(lakeDir, table.prefix);
  if (!hasFiles(dir, extension)) {
    // DuckDB cannot glob an empty folder: an empty table keeps the schema, as Athena would show it.
    const empty = [...table.columns.map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS ${c.name}`), ...table.partitions.map((p) => `CAST(NULL AS VARCHAR) AS ${p.name}`)];
    return `SELECT ${empty.join(', ')} WHERE false`;
  }
  // Hidden files are in-progress parts (Flink's file sink) and temporary uploads: not committed data.
  return tableSelectFrom(table, path.join(dir, '**', `[!.]*${extension}`));
}

export interface LakeSql {
  connection: DuckDBConnection;
  /** Run SQL and return its rows as JSON values: exact, so BIGINT and DECIMAL come back as strings. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

/**
 * Open DuckDB over `lakeDir` (the lake bucket's folder) with every table as a view. The views are
 * made from what is on disk now: open a new one to see tables that were empty before. With
 * `servedVersion`, the Kappa serving views `serving_<view>` read that version; with `batchRun`, the
 * Lambda serving views `lambda_<view>` read that batch run (speed layer only before the first).
 */
export async function openLakeSql(lakeDir: string, options: { servedVersion?: number; batchRun?: BatchRunPointer } = {}): Promise<LakeSql> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  for (const statement of TRINO_COMPAT) await connection.run(statement);
  for (const table of lakeTables()) {
    await connection.run(`CREATE OR REPLACE VIEW ${table.tableName} AS ${tableSelect(lakeDir, table)}`);
  }
  if (options.servedVersion !== undefined) {
    for (const table of versionedTables(lakeTables())) {
      await connection.run(`CREATE OR REPLACE VIEW ${servingViewName(table)} AS ${servingViewSql(undefined, table, Number(options.servedVersion))}`);
    }
  }
  if (options.batchRun !== undefined) {
    for (const view of BATCH_VIEWS) {
      await connection.run(`CREATE OR REPLACE VIEW ${lambdaViewName(view)} AS ${lambdaViewSql(undefined, view, options.batchRun)}`);
    }
  }
  return {
    connection,
    async query(sql: string) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
