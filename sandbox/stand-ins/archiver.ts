import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { defaultConfig } from '../../lib/config/defaults';
import { LakePrefix } from '../../lib/lake-layout';
import type { EventColumn } from '../../lib/schemas';
import type { LogReader, LogRecord } from '../log/types';
import { s3ClientConfig } from '../engines/s3';
import { type SandboxSettings, sandboxDirs } from '../settings';
import { type ArchiveColumn, archiveColumns, partitionKeys, toRow } from './archiver-convert';
import { ParquetEncoder } from './archiver-parquet';
import { platformNames, RAW_TABLE } from '../../lib/names';

/**
 * The Firehose stand-in for the raw archive: what the cloud delivery stream in
 * lib/stacks/archive-stack.ts does, on one machine, through the same S3 API.
 *
 * - Source: the event log, read through a named {@link LogReader} (`raw-archive`) with
 *   positions of its own, as Firehose reads a Kinesis stream or an MSK topic.
 * - Buffering hints: records gather in a buffer until its size reaches `sizeMiB` or its
 *   oldest record has waited `intervalSeconds`, whichever comes first; then the buffer is
 *   delivered. Defaults are the config's `archive` section (300 s / 64 MiB); the sandbox passes
 *   a short interval. https://docs.aws.amazon.com/firehose/latest/dev/buffering-hints.html
 *   (The size counts record bytes as they came off the log, before conversion.)
 * - Dynamic partitioning: `dt`/`hr` from `eventTime` exactly as RAW_PARTITION_QUERY computes
 *   them (UTC, floor of ms/1000), into `raw/dt=<dt>/hr=<hr>/` — the stream's prefix.
 *   https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
 * - Record format conversion: each record is read into the raw Glue table's columns
 *   (`transactionColumns()`, snake_case columns from camelCase keys, as the OpenX JSON SerDe's
 *   columnToJsonKeyMappings) and each partition's rows are written as one Snappy Parquet object.
 *   https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html
 * - Error output prefix: `errors/raw/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hr=!{timestamp:HH}/`,
 *   the timestamp being the arrival time of the oldest record in the error object, as Firehose
 *   evaluates `!{timestamp:...}` (https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html).
 *   A record that is not JSON, or whose eventTime yields no partition, goes to
 *   `processing-failed` (metadata extraction runs before conversion); a JSON record whose values
 *   do not fit the column types goes to `format-conversion-failed`. Each error object is one
 *   JSON document per line, in Firehose's error record shapes (see {@link ProcessingFailedRecord}
 *   and {@link FormatConversionFailedRecord}, and the uncertainty noted there).
 * - Delivery failures (S3 down): retried every `retryDelayMs` (Firehose: every 5 s) for as long
 *   as it takes, reading nothing new meanwhile — Firehose with a Kinesis or MSK source retries
 *   until the records leave the stream's retention. https://docs.aws.amazon.com/firehose/latest/dev/retry.html
 *
 * Object names: `<deliveryStream>-1-<yyyy-MM-dd-HH-mm-ss>-<id>` (`.parquet` for data), like
 * Firehose's `<stream>-<version>-<timestamp>-<random>`, but `id` is a hash of the buffer's first
 * and last log position per unit instead of a random string, and the timestamp is the oldest
 * arrival time in the buffer. Before writing, the buffer's ranges are saved as an intent file;
 * positions are committed through the reader only after every object of the buffer is written,
 * then the intent is removed. A restart after a crash between writing and committing re-reads
 * exactly the saved ranges (not whatever the log holds by then) and overwrites the same keys.
 * So each record is in the archive exactly once — where Firehose itself is at-least-once (a
 * retried delivery can leave duplicates under new random names).
 *
 * Not modelled: per-partition buffers (Firehose buffers each active partition separately; here
 * one buffer is split into partitions when it is delivered, so a flush writes one object per
 * partition present), the 500-active-partitions limit, KMS encryption, CloudWatch metrics and
 * logs (see {@link ArchiverStatus} instead), Kinesis record de-aggregation, S3 multipart uploads.
 */

export type ErrorOutputType = 'processing-failed' | 'format-conversion-failed';

/**
 * A `processing-failed` line. Firehose documents this shape for processing (Lambda) failures;
 * for dynamic partitioning's metadata extraction the code is
 * `DynamicPartitioning.MetadataExtractionFailed` ("Non JSON record provided" for non-JSON).
 * Uncertain: whether the service adds more fields (e.g. a sequence number) to this shape for a
 * Kinesis or MSK source; the stand-in writes the documented ones only.
 * https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-failure-handling.html
 */
export interface ProcessingFailedRecord {
  attemptsMade: number;
  arrivalTimestamp: number;
  errorCode: string;
  errorMessage: string;
  attemptEndingTimestamp: number;
  /** The record's bytes, base64. */
  rawData: string;
}

/**
 * A `format-conversion-failed` line. Firehose's page on conversion errors has carried both
 * `ErrorCode`/`ErrorMessage` and `lastErrorCode`/`lastErrorMessage` over time; the stand-in
 * writes `lastErrorCode`/`lastErrorMessage`, which is what delivered objects have been reported
 * to contain, with `DataFormatConversion.MalformedData` for a value that does not fit its column.
 * `sequenceNumber` is the log position (Kinesis sequence number or Kafka offset).
 * https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion-error-handling.html
 */
export interface FormatConversionFailedRecord {
  attemptsMade: number;
  arrivalTimestamp: number;
  lastErrorCode: string;
  lastErrorMessage: string;
  attemptEndingTimestamp: number;
  rawData: string;
  sequenceNumber: string;
  subSequenceNumber: number;
  dataCatalogTable: {
    catalogId: string;
    databaseName: string;
    tableName: string;
    region: string;
    versionId: string;
    catalogArn: string;
  };
}

export interface ArchiverOptions {
  settings: SandboxSettings;
  /** The log reader the archive consumes through, e.g. `openLog(settings).reader(RAW_ARCHIVE_READER)`. */
  reader: LogReader;
  /** Names the intent file; use the reader's name. Default `raw-archive`. */
  readerName?: string;
  /** Default: the real S3 client against S3Proxy at `http://127.0.0.1:<settings.ports.s3>`. */
  s3?: S3Client;
  /** Default `settings.bucket`. */
  bucket?: string;
  /** Default: the config's `archive` section. Fractions of a second are allowed (the sandbox and tests use short intervals). */
  buffering?: { intervalSeconds?: number; sizeMiB?: number };
  /**
   * The platform's name (the config's `name`): the delivery stream and the Glue database named in
   * format-conversion error records are named from it as the cloud's are (lib/names.ts). Default: the
   * default config's.
   */
  platformName?: string;
  /** Default: the raw table's columns from schemas/transaction.schema.json. */
  columns?: readonly EventColumn[];
  /** How long to wait when the log has nothing new. Default 200 ms. */
  pollIntervalMs?: number;
  /** Records asked for per unit per read. Default 1000. */
  readBatchSize?: number;
  /** Wait between delivery attempts after a failure. Default 5000 ms (Firehose's S3 retry interval). */
  retryDelayMs?: number;
  /** Where the intent file lives. Default `sandboxDirs(settings).positions`. */
  stateDir?: string;
  /** Where DuckDB's temporary files go. Default the OS temp folder. */
  workDir?: string;
  /** Told of each failed delivery attempt (it is retried). */
  onDeliveryError?: (error: Error) => void;
}

export interface ArchiverStatus {
  state: 'created' | 'running' | 'stopping' | 'stopped' | 'aborted' | 'failed';
  /** Records read off the log into buffers (including re-read after a crash). */
  recordsIn: number;
  bufferedRecords: number;
  bufferedBytes: number;
  /** How long the oldest buffered record has waited, ms (0 when empty). */
  bufferAgeMs: number;
  /** Buffers delivered and committed. */
  flushes: number;
  /** Objects written by committed flushes (data and error objects). */
  objectsWritten: number;
  /** Rows in the Parquet objects of committed flushes. */
  rowsArchived: number;
  errors: Record<ErrorOutputType, number>;
  /** Failed delivery attempts (each is retried). */
  deliveryFailures: number;
  lastError?: string;
  lastFlushAt?: number;
  /** Records on the log after the committed positions, summed over units, as of the last refresh. */
  lag?: number;
}

export interface Archiver {
  /** Begin reading and delivering in the background (after finishing any delivery a crash left half done). */
  start(): void;
  /** Stop reading, deliver what is buffered (one attempt), commit, and resolve; rejects if that delivery fails. */
  stop(): Promise<void>;
  /** Stop at once without delivering or committing the buffer — what a crash leaves behind (for tests and `down --kill`). */
  abort(): Promise<void>;
  status(): ArchiverStatus;
  /** Settles when the loop ends: resolved after stop()/abort(), rejected if it failed. */
  readonly done: Promise<void>;
}

/** The reader name the sandbox's archive consumes through. */
export const RAW_ARCHIVE_READER = 'raw-archive';

const MiB = 1024 * 1024;
/** Empty reads in a row after which recovery takes a saved range as gone from the log. */
const RECOVERY_EMPTY_READS = 20;

/** The first and last record of one unit in a buffer, and where reading it started. */
interface UnitRange {
  unit: string;
  /** The position read() was given (exclusive); undefined for the start of the retained log. */
  after?: string;
  first: string;
  last: string;
  count: number;
}

/** What is saved before a buffer's objects are written, so a restart rewrites exactly them. */
interface Intent {
  version: 1;
  name: string;
  ranges: UnitRange[];
}

interface Buffer_ {
  records: LogRecord[];
  bytes: number;
  startedAt: number;
  ranges: Map<string, UnitRange>;
}

function emptyBuffer(): Buffer_ {
  return { records: [], bytes: 0, startedAt: 0, ranges: new Map() };
}

function utcParts(ms: number) {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return {
    date: `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`,
    hour: p(d.getUTCHours()),
    stamp: `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${p(d.getUTCHours())}-${p(d.getUTCMinutes())}-${p(d.getUTCSeconds())}`,
  };
}

/** The S3 client the archiver uses by default: S3Proxy on the settings' port (sandbox/engines/s3.ts), path-style. */
export function sandboxS3Client(settings: SandboxSettings): S3Client {
  return new S3Client({
    ...s3ClientConfig(settings),
    // S3Proxy refuses the SDK's default x-amz-checksum-* headers unless told to ignore unknown
    // headers (the sandbox's S3Proxy is); asking for checksums only where S3 requires them
    // keeps the archiver working against any S3Proxy.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

interface PlannedObject {
  key: string;
  body: Buffer;
  rows: number;
  errorType?: ErrorOutputType;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Create the archiver; call start() to run it. */
export function createArchiver(options: ArchiverOptions): Archiver {
  const { settings, reader } = options;
  const readerName = options.readerName ?? RAW_ARCHIVE_READER;
  const bucket = options.bucket ?? settings.bucket;
  const intervalMs = (options.buffering?.intervalSeconds ?? defaultConfig.archive.bufferingIntervalSeconds) * 1000;
  const sizeBytes = (options.buffering?.sizeMiB ?? defaultConfig.archive.bufferingSizeMiB) * MiB;
  if (!(intervalMs > 0) || !(sizeBytes > 0)) throw new Error('archiver: buffering interval and size must be positive');
  const names = platformNames(options.platformName ?? defaultConfig.name);
  const deliveryStreamName = names.rawArchive;
  const catalog = { databaseName: names.lakeDatabase, tableName: RAW_TABLE };
  const columns: ArchiveColumn[] = archiveColumns(options.columns);
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const readBatchSize = options.readBatchSize ?? 1000;
  const retryDelayMs = options.retryDelayMs ?? 5000;
  const stateDir = options.stateDir ?? sandboxDirs(settings).positions;
  const intentFile = path.join(stateDir, `archiver-${readerName}.intent.json`);
  const ownS3 = options.s3 === undefined;
  const s3 = options.s3 ?? sandboxS3Client(settings);

  const status: ArchiverStatus = {
    state: 'created',
    recordsIn: 0,
    bufferedRecords: 0,
    bufferedBytes: 0,
    bufferAgeMs: 0,
    flushes: 0,
    objectsWritten: 0,
    rowsArchived: 0,
    errors: { 'processing-failed': 0, 'format-conversion-failed': 0 },
    deliveryFailures: 0,
  };

  let buffer = emptyBuffer();
  let stopRequested = false;
  let aborted = false;
  let wake: (() => void) | undefined;
  let encoder: ParquetEncoder | undefined;
  let lastLagRefresh = 0;
  let resolveDone!: () => void;
  let rejectDone!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => undefined); // callers see it through stop(), abort() or by awaiting done themselves
  let started = false;

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });
  }

  function add(unit: string, after: string | undefined, record: LogRecord): void {
    if (buffer.records.length === 0) buffer.startedAt = Date.now();
    buffer.records.push(record);
    buffer.bytes += record.data.length;
    const range = buffer.ranges.get(unit);
    if (range) {
      range.last = record.position;
      range.count++;
    } else {
      buffer.ranges.set(unit, { unit, ...(after !== undefined && { after }), first: record.position, last: record.position, count: 1 });
    }
    status.recordsIn++;
  }

  function objectName(records: readonly LogRecord[], ranges: readonly UnitRange[]): string {
    const oldest = Math.min(...records.map((r) => r.arrivalTime));
    const id = createHash('sha256')
      .update(JSON.stringify([...ranges].sort((a, b) => a.unit.localeCompare(b.unit)).map((r) => [r.unit, r.first, r.last])))
      .digest('hex')
      .slice(0, 32);
    return `${deliveryStreamName}-1-${utcParts(oldest).stamp}-${id}`;
  }

  async function writeIntent(intent: Intent): Promise<void> {
    await fs.promises.mkdir(stateDir, { recursive: true });
    const tmp = `${intentFile}.${process.pid}.tmp`;
    const handle = await fs.promises.open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify(intent, null, 2));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, intentFile);
  }

  async function readIntent(): Promise<Intent | undefined> {
    try {
      return JSON.parse(await fs.promises.readFile(intentFile, 'utf8')) as Intent;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Partition, convert and encode one buffer's records into the objects to write. */
  async function plan(records: readonly LogRecord[], name: string): Promise<PlannedObject[]> {
    const partitions = new Map<string, Record<string, string | null>[]>();
    const failed: Record<ErrorOutputType, Array<{ arrival: number; line: ProcessingFailedRecord | FormatConversionFailedRecord }>> = {
      'processing-failed': [],
      'format-conversion-failed': [],
    };
    for (const record of records) {
      const base = { attemptsMade: 1, arrivalTimestamp: record.arrivalTime };
      const rawData = record.data.toString('base64');
      let value: unknown;
      let parsed = false;
      try {
        value = JSON.parse(UTF8.decode(record.data));
        parsed = true;
      } catch {
        // not UTF-8 or not JSON: metadata extraction cannot read it
      }
      const keys = parsed ? partitionKeys(value) : { ok: false as const, message: 'Non JSON record provided' };
      if (!keys.ok) {
        failed['processing-failed'].push({
          arrival: record.arrivalTime,
          line: {
            ...base,
            errorCode: 'DynamicPartitioning.MetadataExtractionFailed',
            errorMessage: keys.message,
            attemptEndingTimestamp: Date.now(),
            rawData,
          },
        });
        continue;
      }
      const row = toRow(value, columns);
      if (!row.ok) {
        failed['format-conversion-failed'].push({
          arrival: record.arrivalTime,
          line: {
            ...base,
            lastErrorCode: 'DataFormatConversion.MalformedData',
            lastErrorMessage: row.message,
            attemptEndingTimestamp: Date.now(),
            rawData,
            sequenceNumber: record.position,
            subSequenceNumber: 0,
            dataCatalogTable: {
              catalogId: settings.accountId,
              databaseName: catalog.databaseName,
              tableName: catalog.tableName,
              region: settings.region,
              versionId: 'LATEST',
              catalogArn: `arn:aws:glue:${settings.region}:${settings.accountId}:catalog`,
            },
          },
        });
        continue;
      }
      const prefix = `${LakePrefix.raw}/dt=${keys.keys.dt}/hr=${keys.keys.hr}/`;
      const rows = partitions.get(prefix);
      if (rows) rows.push(row.row);
      else partitions.set(prefix, [row.row]);
    }

    const objects: PlannedObject[] = [];
    encoder ??= await ParquetEncoder.create(options.workDir);
    for (const [prefix, rows] of partitions) {
      objects.push({ key: `${prefix}${name}.parquet`, body: await encoder.encode(rows, columns), rows: rows.length });
    }
    for (const type of ['processing-failed', 'format-conversion-failed'] as const) {
      const lines = failed[type];
      if (lines.length === 0) continue;
      const when = utcParts(Math.min(...lines.map((l) => l.arrival)));
      objects.push({
        key: `${LakePrefix.archiveErrors}/${type}/dt=${when.date}/hr=${when.hour}/${name}`,
        body: Buffer.from(lines.map((l) => `${JSON.stringify(l.line)}\n`).join('')),
        rows: lines.length,
        errorType: type,
      });
    }
    return objects;
  }

  /** One delivery attempt (the intent is already saved): objects, commit, intent removed. */
  async function deliver(records: readonly LogRecord[], intent: Intent): Promise<void> {
    const objects = await plan(records, intent.name);
    await Promise.all(objects.map((o) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.body }))));
    for (const range of intent.ranges) await reader.commit(range.unit, range.last);
    await fs.promises.rm(intentFile, { force: true });
    status.flushes++;
    status.lastFlushAt = Date.now();
    for (const o of objects) {
      status.objectsWritten++;
      if (o.errorType) status.errors[o.errorType] += o.rows;
      else status.rowsArchived += o.rows;
    }
  }

  /** Deliver, retrying after failures until it succeeds; gives up (throws) only when stopping or aborted. */
  async function deliverWithRetry(records: readonly LogRecord[], intent: Intent, intentSaved: boolean): Promise<void> {
    let saved = intentSaved;
    for (;;) {
      try {
        if (!saved) {
          await writeIntent(intent);
          saved = true;
        }
        await deliver(records, intent);
        return;
      } catch (error) {
        status.deliveryFailures++;
        status.lastError = (error as Error).message;
        options.onDeliveryError?.(error as Error);
        if (stopRequested || aborted) throw error;
        await sleep(retryDelayMs);
        if (aborted) throw error;
      }
    }
  }

  async function flush(): Promise<void> {
    if (buffer.records.length === 0) return;
    const ranges = [...buffer.ranges.values()];
    const intent: Intent = { version: 1, name: objectName(buffer.records, ranges), ranges };
    await deliverWithRetry(buffer.records, intent, false);
    buffer = emptyBuffer();
  }

  /** A delivery a crash left between writing and committing: re-read exactly its ranges and deliver them again. */
  async function recover(): Promise<void> {
    const intent = await readIntent();
    if (!intent) return;
    const records: LogRecord[] = [];
    for (const range of intent.ranges) {
      let after = range.after;
      let got = 0;
      let empty = 0;
      while (got < range.count) {
        let batch: LogRecord[];
        try {
          batch = await reader.read(range.unit, after, Math.min(readBatchSize, range.count - got));
        } catch (error) {
          // The log unreachable for now (a broker restarting while the archive recovers): try again, as run() does.
          if (stopRequested || aborted) throw error;
          status.lastError = `recovering the flush ${intent.name}: ${(error as Error).message}`;
          await sleep(retryDelayMs);
          continue;
        }
        if (batch.length === 0) {
          // A log may answer empty before it has caught up; only repeated empty answers mean the
          // records left its retention, and then what is left is delivered under the same names.
          if (++empty >= RECOVERY_EMPTY_READS) break;
          await sleep(100);
          continue;
        }
        empty = 0;
        for (const record of batch) {
          records.push(record);
          got++;
          status.recordsIn++;
          if (record.position === range.last) got = range.count;
          if (got >= range.count) break;
        }
        after = batch[batch.length - 1].position;
      }
    }
    await deliverWithRetry(records, intent, true);
  }

  /** For the status display only: a log that cannot answer now leaves the last value. */
  async function refreshLag(force: boolean): Promise<void> {
    if (!force && Date.now() - lastLagRefresh < 1000) return;
    lastLagRefresh = Date.now();
    try {
      let lag = 0;
      for (const unit of await reader.units()) lag += await reader.lag(unit);
      status.lag = lag;
    } catch {
      // the next refresh tries again
    }
  }

  /** Read what each unit has after its cursor into the buffer, delivering whenever the size hint is reached; returns how many. */
  async function readRound(cursors: Map<string, string | undefined>): Promise<number> {
    let got = 0;
    for (const unit of await reader.units()) {
      if (stopRequested) break;
      if (!cursors.has(unit)) cursors.set(unit, await reader.committed(unit));
      const records = await reader.read(unit, cursors.get(unit), readBatchSize);
      for (const record of records) {
        add(unit, cursors.get(unit), record);
        cursors.set(unit, record.position);
        if (buffer.bytes >= sizeBytes) await flush();
      }
      got += records.length;
    }
    return got;
  }

  async function run(): Promise<void> {
    status.state = 'running';
    await recover();
    const cursors = new Map<string, string | undefined>();
    while (!stopRequested) {
      let got = 0;
      try {
        got = await readRound(cursors);
      } catch (error) {
        // A delivery only throws once stopping; anything else is the log being unreachable for now
        // (a restarting broker): keep the buffer and cursors, and try again.
        if (stopRequested || aborted) throw error;
        status.lastError = `reading the log: ${(error as Error).message}`;
        await sleep(retryDelayMs);
        continue;
      }
      if (buffer.records.length > 0 && Date.now() - buffer.startedAt >= intervalMs) await flush();
      await refreshLag(false);
      if (got === 0 && !stopRequested) {
        const untilDue = buffer.records.length > 0 ? Math.max(0, buffer.startedAt + intervalMs - Date.now()) : pollIntervalMs;
        await sleep(Math.min(pollIntervalMs, untilDue));
      }
    }
    if (aborted) return;
    await flush();
    await refreshLag(true);
  }

  async function cleanup(): Promise<void> {
    if (encoder) await encoder.close();
    encoder = undefined;
    if (ownS3) s3.destroy();
  }

  return {
    start() {
      if (started) throw new Error('archiver: already started');
      started = true;
      run().then(
        async () => {
          await cleanup();
          status.state = aborted ? 'aborted' : 'stopped';
          resolveDone();
        },
        async (error: Error) => {
          await cleanup().catch(() => undefined);
          status.state = aborted ? 'aborted' : 'failed';
          status.lastError = error.message;
          if (aborted) resolveDone();
          else rejectDone(error);
        },
      );
    },
    async stop() {
      if (!started) {
        await cleanup();
        return;
      }
      if (!aborted) status.state = 'stopping';
      stopRequested = true;
      wake?.();
      await done;
    },
    async abort() {
      aborted = true;
      stopRequested = true;
      wake?.();
      // A loop that had already failed has nothing left to abort.
      if (started) await done.catch(() => undefined);
    },
    status() {
      return {
        ...status,
        errors: { ...status.errors },
        bufferedRecords: buffer.records.length,
        bufferedBytes: buffer.bytes,
        bufferAgeMs: buffer.records.length > 0 ? Date.now() - buffer.startedAt : 0,
      };
    },
    done,
  };
}

/** Create and start the archiver. */
export function startArchiver(options: ArchiverOptions): Archiver {
  const archiver = createArchiver(options);
  archiver.start();
  return archiver;
}
