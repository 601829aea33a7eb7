import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { PlatformConfig } from '../../lib/config';
import { alertLatencyMs, DeliveredAlerts, PATHS, ProducedAtIndex, type AlertPath, type DeliveredAlert } from '../alerts';
import { readBatchRun, servedBatchRun, type BatchRunRecord } from '../batch';
import { LakePrefix } from '../../lib/lake-layout';
import { compareViews, type CompareAnswer } from './compare';
import { isStillOurs, Supervisor } from '../engines';
import type { LocalLog } from '../log';
import { readProgress } from '../run';
import { openLakeSql, sqlString } from '../serving/lake-sql';
import { convertRows, displayText, isNumericColumn, type QueryColumn, type Row } from '../serving/format';
import { servingVersion, type ServingVersion } from '../serving/version';
import { FLINK_PROCESS, flinkLag, flinkLagUnit, type FlinkState } from '../session';
import { sandboxDirs, type SandboxSettings } from '../settings';
import { WORKERS } from '../workers/main';
import { readStatus } from '../workers/status';

/**
 * The sandbox's web console: one local page (127.0.0.1 only) that shows the running architecture (the
 * diagram generated from the CDK app, diagrams/<profile>.mmd, rendered by mermaid in the browser) with
 * live counters per component, the alerts as the notifier delivers them with their latency, and a query
 * box over the DuckDB serving views. Node's http module and a static page, no build step; mermaid is
 * served from the project's node_modules (no CDN).
 *
 *   GET  /                  the page (sandbox/console/static/)
 *   GET  /api/status        processes, worker counters (stale or not), progress and delivered alerts per path
 *   GET  /api/alerts?since= the delivered alerts from index `since` on, with their latency
 *   POST /api/query         {sql} -> columns and at most MAX_ROWS rows, times as ISO-8601 (serving/format.ts)
 *   GET  /api/batch-alerts  the served batch run's alerts (the newest MAX_ALERTS_PER_ANSWER), with their latency
 *   GET  /api/compare       spend per minute from the speed layer, the stream job and the batch layer, and why they differ
 *
 * The diagram is rendered in the browser rather than served as the committed SVG so that its boxes can
 * carry live counters (lines reserved in their labels, filled in each poll); mermaid and uPlot (the
 * Lambda-vs-Kappa chart) are runtime dependencies, served from node_modules.
 */

export const DEFAULT_CONSOLE_PORT = 14580;
/** Rows a query returns at most; the answer says when there were more. */
export const MAX_ROWS = 500;
/** Workers write their status every 2 s: older than this, it is shown as stale. */
export const STALE_AFTER_MS = 10_000;
/** A query is interrupted after this long. */
export const QUERY_TIMEOUT_MS = 30_000;
/** Alerts one /api/alerts answer carries at most (the newest ones). */
const MAX_ALERTS_PER_ANSWER = 200;
/** How long the Flink lag may take before the status answers without it. */
const FLINK_LAG_TIMEOUT_MS = 1500;

const STATIC_DIR = path.join(__dirname, 'static');

export interface ConsoleOptions {
  settings: SandboxSettings;
  config: PlatformConfig;
  /** The configuration profile whose diagram is shown (diagrams/<profile>.mmd). */
  profile: string;
  /** The stream job as the sandbox started it (read on each status, as a replay may change it). */
  flink: () => FlinkState;
  /** The sandbox's own log connection, for the Flink lag on Kafka. */
  log?: LocalLog;
  /** Default DEFAULT_CONSOLE_PORT; 0 picks a free one. */
  port?: number;
}

export interface RunningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

export type ComponentState = 'up' | 'down' | 'stale' | 'off';

export interface ComponentStatus {
  name: string;
  state: ComponentState;
  /** Why it is in that state, for the page. */
  detail?: string;
  pid?: number;
  /** When its worker last wrote its counters, ISO-8601. */
  updatedAt?: string;
  counters?: Record<string, unknown>;
}

export interface ConsoleStatus {
  now: string;
  home: string;
  log: string;
  profile: string;
  servedVersion: number;
  components: ComponentStatus[];
  progress: Awaited<ReturnType<typeof readProgress>>;
  flink: { running: boolean; reason?: string; version?: number };
  alertsDelivered: Record<AlertPath, number>;
  versions: VersionsStatus;
}

/** The stream job's output versions (Kappa replays) and the batch runs (Lambda), and which of each serves. */
export interface VersionsStatus {
  stream: {
    served: ServingVersion;
    /** Each version with data in views/ or a job writing it, oldest first. */
    versions: { version: number; serving: boolean; job: ComponentState | 'none'; lag?: number }[];
  };
  batch: {
    /** The run the lambda_ views read; none before the first. */
    served?: BatchRunRecord;
    /** Every run in batch/, oldest first. */
    runs: string[];
    /** Runs being written now (in the staging folder, not yet renamed into the lake). */
    running: string[];
  };
}

export interface ConsoleAlert {
  index: number;
  path: string;
  rule: string;
  cardId: string;
  alertId: string;
  deliveredAt: string;
  /** Last transaction produced -> delivered to the topic; null when the produce time is unknown. */
  latencyMs: number | null;
  /** Detected -> delivered. */
  notifyMs: number;
}

export interface QueryAnswer {
  columns: (QueryColumn & { numeric: boolean })[];
  /** Each value as one line of text (NULL, lists, times as ISO-8601). */
  rows: string[][];
  rowCount: number;
  truncated: boolean;
  elapsedMs: number;
}

/** Settles with undefined after `ms` if the promise has not settled. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

/**
 * Every process of the home as the supervisor recorded it, and each worker's counters, with a state each.
 * A process that exits is dropped from the record: `known` holds the names seen before (the caller keeps
 * it between calls), so that one which is gone shows as down rather than disappearing from the page.
 */
export function componentStatuses(settings: SandboxSettings, flink: FlinkState, known: Set<string> = new Set(), now = Date.now()): ComponentStatus[] {
  const records = new Supervisor(settings).recorded();
  const statuses: ComponentStatus[] = [];
  for (const record of records) known.add(record.name);
  for (const name of known) {
    if (records.some((r) => r.name === name)) continue;
    statuses.push({ name, state: 'down', detail: `exited; its log: ${path.join(sandboxDirs(settings).logs, `${name}.log`)}` });
  }
  for (const record of records) {
    const alive = isStillOurs(record);
    const status: ComponentStatus = { name: record.name, state: alive ? 'up' : 'down', pid: record.pid };
    if (!alive) status.detail = `not running (log: ${record.logFile})`;
    if ((WORKERS as readonly string[]).includes(record.name)) {
      const worker = readStatus(settings, record.name);
      if (worker) {
        status.updatedAt = new Date(worker.updatedAt).toISOString();
        status.counters = worker.counters;
        if (alive && now - worker.updatedAt > STALE_AFTER_MS) {
          status.state = 'stale';
          status.detail = `no counters for ${((now - worker.updatedAt) / 1000).toFixed(0)} s`;
        }
      } else if (alive) {
        status.state = 'stale';
        status.detail = 'no counters yet';
      }
    }
    statuses.push(status);
  }
  if (!flink.running && !statuses.some((c) => c.name.startsWith(FLINK_PROCESS))) {
    statuses.push({ name: FLINK_PROCESS, state: 'off', detail: flink.reason ?? 'not started' });
  }
  return statuses;
}

function served(options: Pick<ConsoleOptions, 'settings' | 'config'>): number {
  return servingVersion(options.settings, options.config).version;
}

/** The entries `<key>=<value>` of a folder, their values sorted; none if it does not exist. */
function partitionValues(dir: string, key: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => n.startsWith(`${key}=`)).map((n) => n.slice(key.length + 1)).sort();
}

export async function versionsStatus(options: ConsoleOptions, components: ComponentStatus[]): Promise<VersionsStatus> {
  const { settings } = options;
  const dirs = sandboxDirs(settings);
  const servedStream = servingVersion(settings, options.config);
  const jobs = new Map<number, ComponentStatus>();
  for (const c of components) {
    const match = new RegExp(`^${FLINK_PROCESS}-v(\\d+)$`).exec(c.name);
    if (match) jobs.set(Number(match[1]), c);
  }
  const numbers = new Set([...partitionValues(path.join(dirs.lake, LakePrefix.views, 'spend_per_card_minute'), 'v').map(Number), ...jobs.keys(), servedStream.version]);
  const versions = await Promise.all([...numbers].sort((a, b) => a - b).map(async (version): Promise<VersionsStatus['stream']['versions'][number]> => {
    const job = jobs.get(version);
    // Each running job's lag, asking the broker or the job's REST API: bounded, so a slow engine never holds the
    // page. During a replay the new version's falls to 0.
    const lag = job?.state === 'up' ? await within(flinkLag(settings, version, options.log), FLINK_LAG_TIMEOUT_MS) : undefined;
    return { version, serving: version === servedStream.version, job: job?.state ?? 'none', ...(lag === undefined ? {} : { lag }) };
  }));
  const staging = path.join(dirs.home, 'batch-staging');
  return {
    stream: { served: servedStream, versions },
    batch: {
      served: readBatchRun(settings),
      runs: partitionValues(path.join(dirs.lake, LakePrefix.batch, 'spend_per_card_minute'), 'run'),
      running: fs.existsSync(staging) ? fs.readdirSync(staging).sort() : [],
    },
  };
}

/**
 * What the console reads from files that only grow (the SNS stand-in's topic, the runs' produce times), read
 * incrementally: a page polling every 2 s costs what was appended since, not the whole files again.
 */
export interface ConsoleReaders {
  delivered: DeliveredAlerts;
  producedAt: ProducedAtIndex;
}

export function consoleReaders(settings: SandboxSettings): ConsoleReaders {
  return { delivered: new DeliveredAlerts(settings), producedAt: new ProducedAtIndex(settings) };
}

export async function consoleStatus(options: ConsoleOptions, readers: ConsoleReaders, known?: Set<string>): Promise<ConsoleStatus> {
  const flink = options.flink();
  const components = componentStatuses(options.settings, flink, known);
  // The Flink job is running only if its process is (it may have crashed since the sandbox started).
  const flinkUp = flink.running && components.some((c) => c.name.startsWith(FLINK_PROCESS) && c.state === 'up');
  // The files' counters first; the Flink lag (asked once per running job, by versionsStatus) is bounded.
  const progress = await readProgress({ settings: options.settings, flink: { running: false } }).catch(() => ({}));
  const versions = await versionsStatus(options, components);
  const flinkLagNow = flinkUp ? versions.stream.versions.find((v) => v.version === flink.version)?.lag : undefined;
  const alertsDelivered = Object.fromEntries(PATHS.map((p) => [p, 0])) as Record<AlertPath, number>;
  for (const d of safely(() => readers.delivered.refresh(), [])) alertsDelivered[d.alert.detectedBy as AlertPath] += 1;
  return {
    now: new Date().toISOString(),
    home: options.settings.home,
    log: options.settings.log,
    profile: options.profile,
    servedVersion: served(options),
    components,
    progress: { ...progress, flinkLag: flinkLagNow, flinkLagUnit: flinkLagUnit(options.settings) },
    flink: { running: flinkUp, reason: flink.reason, version: flink.version },
    alertsDelivered,
    versions,
  };
}

/** The alerts delivered from index `since` on (the newest MAX_ALERTS_PER_ANSWER of them), and the index to ask from next. */
export async function consoleAlerts(readers: ConsoleReaders, since: number): Promise<{ next: number; alerts: ConsoleAlert[] }> {
  const delivered = readers.delivered.refresh();
  const from = Math.max(0, Math.min(since, delivered.length), delivered.length - MAX_ALERTS_PER_ANSWER);
  const producedAt = from < delivered.length ? readers.producedAt.refresh() : new Map<string, number>();
  const alerts = delivered.slice(from).map((d, i): ConsoleAlert => ({
    index: from + i,
    path: d.alert.detectedBy,
    rule: d.alert.rule,
    cardId: d.alert.cardId,
    alertId: d.alert.alertId,
    deliveredAt: new Date(d.deliveredAt).toISOString(),
    latencyMs: alertLatencyMs(d, producedAt) ?? null,
    notifyMs: d.deliveredAt - d.alert.detectedAt,
  }));
  return { next: delivered.length, alerts };
}

export interface BatchAlerts {
  /** The served run; none before the first. */
  run?: string;
  count: number;
  alerts: { rule: string; cardId: string; alertId: string; detectedAt: string; latencyMs: number | null }[];
}

/** The batch layer's alerts: written by the served run, not delivered by the notifier; their latency is produced -> the run. */
export async function consoleBatchAlerts(options: Pick<ConsoleOptions, 'settings' | 'config'>, readers: ConsoleReaders): Promise<BatchAlerts> {
  const batch = readBatchRun(options.settings);
  if (!batch) return { count: 0, alerts: [] };
  const lake = await openServingLake(options);
  try {
    const where = `FROM batch_alerts WHERE run = ${sqlString(batch.run)}`;
    const [{ n }] = await lake.query(`SELECT count(*) AS n ${where}`);
    const rows = await lake.query(`SELECT alert_id, rule, card_id, detected_at, txn_ids ${where} ORDER BY window_start DESC, alert_id LIMIT ${MAX_ALERTS_PER_ANSWER}`);
    const producedAt = readers.producedAt.refresh();
    return {
      run: batch.run,
      count: Number(n),
      alerts: rows.map((r) => {
        const detectedAt = Number(r.detected_at);
        // Detected by the run stands where delivered stands for the other paths.
        const latency = alertLatencyMs({ alert: { txnIds: r.txn_ids as string[] } as DeliveredAlert['alert'], deliveredAt: detectedAt, messageId: '' }, producedAt);
        return { rule: String(r.rule), cardId: String(r.card_id), alertId: String(r.alert_id), detectedAt: new Date(detectedAt).toISOString(), latencyMs: latency ?? null };
      }),
    };
  } finally {
    lake.close();
  }
}

/** A DuckDB over the lake as it is now, with the serving views at the served version and batch run; close it after. */
function openServingLake(options: Pick<ConsoleOptions, 'settings' | 'config'>) {
  return openLakeSql(sandboxDirs(options.settings).lake, { servedVersion: served(options), batchRun: servedBatchRun(options.settings) });
}

/** The Lambda-vs-Kappa comparison (compare.ts) on the lake as it is now. */
export async function consoleCompare(options: Pick<ConsoleOptions, 'settings' | 'config'>): Promise<CompareAnswer> {
  const lake = await openServingLake(options);
  try {
    const batch = readBatchRun(options.settings);
    return await compareViews(lake, served(options), batch ? { run: batch.run, watermarkMs: batch.watermarkMs } : undefined);
  } finally {
    lake.close();
  }
}

/** Runs one query on a DuckDB opened for it (the views as the lake is now), closed after. */
export async function runConsoleQuery(options: Pick<ConsoleOptions, 'settings' | 'config'>, sql: string): Promise<QueryAnswer> {
  const began = Date.now();
  const lake = await openServingLake(options);
  const timer = setTimeout(() => lake.connection.interrupt(), QUERY_TIMEOUT_MS);
  try {
    // Read one row more than returned, to know whether there were more; stop reading there.
    const reader = await lake.connection.streamAndReadUntil(sql, MAX_ROWS + 1);
    const types = reader.columnTypes();
    const columns = reader.columnNames().map((name, i) => ({ name, type: types[i].toString() }));
    const all = reader.getRowObjectsJson() as Row[];
    const rows = convertRows(columns, all.slice(0, MAX_ROWS)).map((row) => columns.map((c) => displayText(row[c.name])));
    return {
      columns: columns.map((c) => ({ ...c, numeric: isNumericColumn(c) })),
      rows,
      rowCount: rows.length,
      truncated: all.length > MAX_ROWS || !reader.done,
      elapsedMs: Date.now() - began,
    };
  } finally {
    clearTimeout(timer);
    lake.close();
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.mmd': 'text/plain; charset=utf-8',
};

function send(res: http.ServerResponse, status: number, body: string | Buffer, type: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

const sendJson = (res: http.ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');

function sendFile(res: http.ServerResponse, file: string): void {
  fs.readFile(file, (error, data) => {
    if (error) sendJson(res, 404, { error: `not found: ${path.basename(file)}` });
    else send(res, 200, data, CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream');
  });
}

function readBody(req: http.IncomingMessage, limit = 100_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`request body over ${limit} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `compute`, but callers that ask while one is running share its answer. */
function shared<T>(compute: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= compute().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

/** Starts the console on 127.0.0.1 (never another interface: it runs SQL on the lake for whoever asks). */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const files: Record<string, string> = {
    '/': path.join(STATIC_DIR, 'index.html'),
    '/console.js': path.join(STATIC_DIR, 'console.js'),
    '/console.css': path.join(STATIC_DIR, 'console.css'),
    '/vendor/mermaid.min.js': require.resolve('mermaid/dist/mermaid.min.js'),
    '/vendor/uPlot.iife.min.js': require.resolve('uplot/dist/uPlot.iife.min.js'),
    '/vendor/uPlot.min.css': require.resolve('uplot/dist/uPlot.min.css'),
    '/diagram.mmd': path.join(options.settings.repoRoot, 'diagrams', `${options.profile}.mmd`),
  };
  const known = new Set<string>();
  const readers = consoleReaders(options.settings);
  // One status (and one comparison) at a time: concurrent page polls share the one being computed.
  const status = shared(() => consoleStatus(options, readers, known));
  const compare = shared(() => consoleCompare(options));

  let port = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const handle = async () => {
      // Only this page may call it: listening on 127.0.0.1 keeps other machines out, and these keep other web
      // pages in the user's browser out (a DNS-rebound name fails the Host check; a cross-site POST needs
      // application/json, which takes a CORS preflight this server never allows, and carries a foreign Origin).
      const own = [`127.0.0.1:${port}`, `localhost:${port}`];
      if (!own.includes(req.headers.host ?? '')) return sendJson(res, 403, { error: `Host ${req.headers.host ?? '(none)'} is not this console` });
      if (req.headers.origin !== undefined && !own.map((h) => `http://${h}`).includes(req.headers.origin)) {
        return sendJson(res, 403, { error: `Origin ${req.headers.origin} is not this console` });
      }
      if (req.method === 'GET' && files[url.pathname]) return sendFile(res, files[url.pathname]);
      if (req.method === 'GET' && url.pathname === '/api/status') return sendJson(res, 200, await status());
      if (req.method === 'GET' && url.pathname === '/api/compare') return sendJson(res, 200, await compare());
      if (req.method === 'GET' && url.pathname === '/api/batch-alerts') return sendJson(res, 200, await consoleBatchAlerts(options, readers));
      if (req.method === 'GET' && url.pathname === '/api/alerts') {
        const since = Number(url.searchParams.get('since') ?? 0);
        return sendJson(res, 200, await consoleAlerts(readers, Number.isSafeInteger(since) && since >= 0 ? since : 0));
      }
      if (req.method === 'POST' && url.pathname === '/api/query') {
        if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return sendJson(res, 415, { error: 'send the query as application/json: {"sql": "..."}' });
        let sql: unknown;
        try {
          sql = (JSON.parse(await readBody(req)) as { sql?: unknown }).sql;
        } catch (error) {
          return sendJson(res, 400, { error: `expected a JSON body {"sql": "..."}: ${(error as Error).message}` });
        }
        if (typeof sql !== 'string' || !sql.trim()) return sendJson(res, 400, { error: 'no SQL given' });
        try {
          return sendJson(res, 200, await runConsoleQuery(options, sql));
        } catch (error) {
          // DuckDB's own message (parser, binder, catalog) is what the user needs to fix the query.
          return sendJson(res, 400, { error: (error as Error).message ?? String(error) });
        }
      }
      return sendJson(res, 404, { error: `no ${req.method} ${url.pathname}` });
    };
    handle().catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (error as Error)?.message ?? String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_CONSOLE_PORT, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** `read()`, or `fallback` when it throws: a status answer must not fail because one file is mid-rewrite. */
function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}
