import * as fs from 'node:fs';
import * as path from 'node:path';
import { BATCH_VIEWS, type BatchRunPointer, type BatchView, batchViewSql, batchWatermark, batchRunId, batchViewColumns, NO_BATCH_RUN } from '../lib/batch';
import type { PlatformConfig } from '../lib/config';
import { LakePrefix } from '../lib/lake-layout';
import { type LakeSql, openLakeSql, sqlString } from './serving/lake-sql';
import { readPointer, writePointer } from './serving/version';
import { sandboxDirs, type SandboxSettings } from './settings';

/**
 * The sandbox's batch layer: the cloud's scheduled Athena run (docs/batch-layer.md), on DuckDB.
 * The same SQL (lib/batch, in its DuckDB form) recomputes every batch view from raw/ up to the
 * run's watermark into `batch/<view>/run=<id>/dt=<day>/`, then the Lambda serving views are
 * re-pointed at the run in one atomic write of `<home>/serving/batch.json`. DuckDB has no limit
 * on the partitions one statement writes, so each view is one statement, not Athena's chunks of
 * 100 days. A run's files are written beside the lake and moved into it with one rename, so no
 * reader of batch_<view> ever sees half a run either.
 */

export interface BatchRunRecord extends BatchRunPointer {
  readonly startedAt: string;
  /** The run served before this one, kept so a rollback is one switch back. */
  readonly previous?: BatchRunPointer;
  /** Rows written per view. */
  readonly rows: Record<BatchView, number>;
  readonly seconds: number;
}

export function batchPointerFile(settings: SandboxSettings): string {
  return path.join(sandboxDirs(settings).home, 'serving', 'batch.json');
}

/** The batch run the Lambda serving views read: the last one that completed, or none yet. */
export function servedBatchRun(settings: SandboxSettings): BatchRunPointer {
  const record = readBatchRun(settings);
  return record ? { run: record.run, watermarkMs: record.watermarkMs } : NO_BATCH_RUN;
}

export function readBatchRun(settings: SandboxSettings): BatchRunRecord | undefined {
  return readPointer<BatchRunRecord>(batchPointerFile(settings));
}

/**
 * Write one run's batch views under `outDir/<view>/run=<run>/` from the `raw_transactions` of `sql`.
 * Returns the rows written per view.
 */
export async function writeBatchViews(sql: LakeSql, outDir: string, pointer: BatchRunPointer, detectedAtMs: number): Promise<Record<BatchView, number>> {
  const rows = {} as Record<BatchView, number>;
  for (const view of BATCH_VIEWS) {
    const query = batchViewSql(view, { dialect: 'duckdb', rawTable: 'raw_transactions', watermarkMs: pointer.watermarkMs, detectedAtMs });
    const target = path.join(outDir, view, `run=${pointer.run}`);
    fs.mkdirSync(target, { recursive: true });
    const reader = await sql.connection.runAndReadAll(
      `COPY (SELECT ${batchViewColumns(view).join(', ')} FROM (${query})) TO ${sqlString(target)} (FORMAT parquet, PARTITION_BY (dt), OVERWRITE_OR_IGNORE)`,
    );
    rows[view] = Number(reader.getRows()[0]?.[0] ?? 0);
  }
  return rows;
}

export interface BatchOptions {
  /** When the run starts (default now): its id and the alerts' detected_at. */
  readonly now?: number;
  /** Override the watermark (a whole minute, epoch ms); default `now - batch.settleMinutes`, down to the minute. */
  readonly watermarkMs?: number;
}

/** One batch run: plan, recompute every view, then switch the Lambda serving views to it. */
export async function runBatch(settings: SandboxSettings, config: PlatformConfig, options: BatchOptions = {}): Promise<BatchRunRecord> {
  const clock = Date.now();
  const previous = readBatchRun(settings);
  let startedAtMs = options.now ?? clock;
  // Run ids are to the second: two runs within one second take the next one, so every run has its own id.
  if (previous && batchRunId(startedAtMs) <= previous.run) startedAtMs = Date.parse(previous.startedAt) + 1000;
  const pointer: BatchRunPointer = {
    run: batchRunId(startedAtMs),
    watermarkMs: options.watermarkMs ?? batchWatermark(startedAtMs, config.batch.settleMinutes),
  };
  if (previous && pointer.watermarkMs < previous.watermarkMs) {
    throw new Error(
      `The watermark ${new Date(pointer.watermarkMs).toISOString()} is before the served run's (${new Date(previous.watermarkMs).toISOString()}, run ${previous.run}): a batch run never moves it back.`,
    );
  }
  const dirs = sandboxDirs(settings);
  const staging = path.join(dirs.home, 'batch-staging', pointer.run);
  fs.rmSync(staging, { recursive: true, force: true });
  const sql = await openLakeSql(dirs.lake);
  let rows: Record<BatchView, number>;
  try {
    rows = await writeBatchViews(sql, staging, pointer, startedAtMs);
  } finally {
    sql.close();
  }
  // Into the lake, one rename per view (same filesystem): a run appears whole or not at all.
  for (const view of BATCH_VIEWS) {
    const into = path.join(dirs.lake, LakePrefix.batch, view);
    fs.mkdirSync(into, { recursive: true });
    fs.renameSync(path.join(staging, view, `run=${pointer.run}`), path.join(into, `run=${pointer.run}`));
  }
  fs.rmSync(staging, { recursive: true, force: true });
  const record: BatchRunRecord = {
    ...pointer,
    startedAt: new Date(startedAtMs).toISOString(),
    ...(previous ? { previous: { run: previous.run, watermarkMs: previous.watermarkMs } } : {}),
    rows,
    seconds: (Date.now() - clock) / 1000,
  };
  writePointer(batchPointerFile(settings), record);
  return record;
}

export function formatBatch(record: BatchRunRecord): string {
  const lines = [
    `Batch run ${record.run}: raw/ up to ${new Date(record.watermarkMs).toISOString()} recomputed in ${record.seconds.toFixed(1)} s`,
    ...BATCH_VIEWS.map((view) => `  batch_${view.padEnd(24)} ${String(record.rows[view]).padStart(8)} rows`),
    `Lambda serving views (lambda_<view>) now read run ${record.run}${record.previous ? ` (was ${record.previous.run})` : ''}: batch up to the watermark, the speed layer after it.`,
  ];
  return lines.join('\n');
}
