import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { ArchiveColumn } from './archiver-convert';

/**
 * Record format conversion's serializer: rows already converted to the raw table's columns
 * (canonical text per value) become one Parquet object, Snappy-compressed as the cloud stream's
 * `parquetSerDe: { compression: 'SNAPPY' }`. DuckDB reads the rows as NDJSON with every column
 * as VARCHAR and CASTs each to its DuckDB type, so a decimal goes from its exact text to
 * DECIMAL(p,s) without passing through a float.
 *
 * Where the file differs from the one Firehose writes (both read the same in Athena and DuckDB):
 * DuckDB stores DECIMAL(12,2) as INT64 with the decimal logical type, where Hive's Parquet
 * writer uses FIXED_LEN_BYTE_ARRAY; row-group sizes and the writer's `created_by` differ.
 */
export class ParquetEncoder {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly dir: string,
  ) {}

  static async create(workDir?: string): Promise<ParquetEncoder> {
    const dir = await fs.promises.mkdtemp(path.join(workDir ?? os.tmpdir(), 'tributary-archiver-'));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    return new ParquetEncoder(instance, connection, dir);
  }

  /** The Parquet bytes of `rows` (at least one) with exactly `columns`, in order. */
  async encode(rows: readonly Record<string, string | null>[], columns: readonly ArchiveColumn[]): Promise<Buffer> {
    if (rows.length === 0) throw new Error('ParquetEncoder.encode: no rows (Firehose writes no empty objects)');
    const stem = path.join(this.dir, `buffer-${process.hrtime.bigint()}`);
    const input = `${stem}.ndjson`;
    const output = `${stem}.parquet`;
    const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
    const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
    try {
      await fs.promises.writeFile(input, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
      const asText = columns.map((c) => `${quote(c.name)}: 'VARCHAR'`).join(', ');
      const select = columns.map((c) => `CAST(${quote(c.name)} AS ${c.converter.duckdb}) AS ${quote(c.name)}`).join(', ');
      await this.connection.run(
        `COPY (SELECT ${select} FROM read_json(${literal(input)}, format = 'newline_delimited', columns = {${asText}})) ` +
          `TO ${literal(output)} (FORMAT parquet, COMPRESSION snappy)`,
      );
      return await fs.promises.readFile(output);
    } finally {
      await fs.promises.rm(input, { force: true });
      await fs.promises.rm(output, { force: true });
    }
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    await fs.promises.rm(this.dir, { recursive: true, force: true });
  }
}
