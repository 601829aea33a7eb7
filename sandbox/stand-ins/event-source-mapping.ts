import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PlatformConfig } from '../../lib/config';
import type { LogReader, LogRecord } from '../log/types';
import type { LogKind } from '../settings';
import type { EventFormat, WindowFields } from './event-source-mapping-events';
import { EVENT_SOURCE_FAILURE_HANDLING } from '../../lib/names';

export * from './event-source-mapping-events';

/**
 * The sandbox's stand-in for Lambda's event source mapping (ESM): it polls each ordered unit of the log
 * (Kinesis shard / Kafka partition), gathers batches, invokes the speed layer's real handler with the
 * exact event shape (event-source-mapping-events.ts), and honours what AWS documents for the response.
 * The core here is source-agnostic; the event shapes and failure identifiers come from an EventFormat.
 *
 * AWS behaviour it follows, and where each rule comes from:
 * - Polling and batching: "Using Lambda with Kinesis Data Streams"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html, "Polling and batching streams": a shard is
 *   polled at a base rate of once per second; one batch at a time per shard with parallelization factor 1) and
 *   "Lambda event source mappings" → batching (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html#invocation-eventsourcemapping-batching:
 *   records are gathered until the batch size, the batching window or the 6 MB invocation payload is reached).
 *   "Using Lambda with Amazon MSK" (https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html).
 * - Errors: "Retain discarded batch records for a Kinesis Data Streams event source in Lambda"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html): a function error retries
 *   the batch until the records exceed MaximumRecordAgeInSeconds or MaximumRetryAttempts is reached;
 *   BisectBatchOnFunctionError splits a failed batch in two, and "splitting batches doesn't consume the retry
 *   quota"; then the batch's metadata goes to the on-failure destination and the shard moves on.
 *   Kafka: "Configuring error handling controls for Kafka event sources"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html) and
 *   https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html.
 * - Partial batch responses: "Configuring partial batch response with Kinesis Data Streams and Lambda"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html): with
 *   ReportBatchItemFailures, the lowest reported identifier is the checkpoint; an empty or null list (or a null
 *   response) is success; an empty/null identifier, a bad key, or an identifier not in the batch fails the whole
 *   batch; with bisect also on, the batch is split at the reported record and only the rest is retried.
 *   Without ReportBatchItemFailures the list is ignored.
 * - Tumbling windows: "Implementing stateful Kinesis Data Streams processing in Lambda"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html): the `state` a response returns is
 *   passed to the next invocation of the same window and shard; a response without `state` is a failed
 *   invocation; at the window's end a final invocation with `isFinalInvokeForWindow: true` carries the final
 *   state, then the state is dropped; a state over 1 MB ends the window early (`isWindowTerminatedEarly`); if
 *   the final invocation fails, processing of the shard waits until it succeeds. MSK mappings have no window
 *   (as lib/constructs/event-log/msk-event-log.ts does, a configured window is ignored for Kafka).
 *
 * Where this stand-in differs from AWS (deliberately, or because AWS does not document the detail):
 * - One ordered unit per invocation, for MSK too: AWS may put several topic-partitions in one MSK event. The
 *   handler treats each topic-partition separately either way.
 * - Windows are aligned to multiples of the window length since the epoch and assigned by the record's arrival
 *   time (Kinesis ApproximateArrivalTimestamp); a window closes when a record of a later window is read or the
 *   clock passes its end with nothing left to read. The window state lives in memory: after a restart a window
 *   resumes from `{}` (AWS keeps it). After an early termination the rest of the same window starts from `{}`.
 * - A partial batch response counts as one retry of the records from the reported one on; a thrown error,
 *   a timeout, a malformed response, or (with a window) a response without `state` are whole-batch failures.
 * - A timed-out handler cannot be killed inside one Node process: its promise is abandoned (its writes may
 *   still land), where Lambda would stop the execution environment.
 * - Record age is checked before every invocation; expired records are left out wherever they are in the
 *   batch and reported together (condition `RecordAgeExceeded`; AWS's exact condition string for Kinesis is
 *   not in the pages above, Kafka's page lists `RetryAttemptsExhausted` and `MaximumPayloadSizeExceeded`).
 *   When no invocation has happened yet for the expired records, `responseContext` is null.
 * - `approximateInvokeCount` counts every invocation that carried the reported records, bisected ones included.
 * - The 6 MB payload limit is approximated from the base64 size of the data plus a fixed overhead per record.
 * - Retries wait `retryDelayMs`; AWS's backoff is not documented.
 */

export interface EventSourceMappingOptions {
  /** Records per invocation (1-10000). */
  batchSize: number;
  /** How long to gather records before invoking; fractions allowed here (tests). */
  maxBatchingWindowSeconds: number;
  /** Retries of a failed batch; -1 is infinite (the project's config forbids it, AWS's default). */
  retryAttempts: number;
  /** Records older than this (by arrival time) are not sent; -1 is infinite. */
  maxRecordAgeSeconds: number;
  /** 0: no tumbling window. Ignored for event sources without windows (MSK). */
  tumblingWindowSeconds: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** The function timeout; a longer invocation is a function error. */
  timeoutSeconds: number;
  bisectBatchOnFunctionError: boolean;
  reportBatchItemFailures: boolean;
  /** Pause between polls of an empty unit. Default 1000 ms (Kinesis' base rate). */
  pollIntervalMs?: number;
  /** Pause before retrying a failed batch. Default 1000 ms. */
  retryDelayMs?: number;
}

/**
 * How long the stand-in pauses after an empty read of a unit. Kinesis: Lambda polls each shard at a base rate of
 * once per second (with-kinesis.html, "Polling and batching streams"). MSK: Lambda's pollers are Kafka consumers
 * that keep fetching, the broker holding each fetch until records come; 100 ms stands in for that without
 * loading the broker with empty reads (each empty read here is a watermark request).
 */
export function pollIntervalFor(log: LogKind): number {
  return log === 'kinesis' ? 1000 : 100;
}

/** The deployed mappings' failure handling (lib/names.ts), in the stand-in's option names. */
const failureHandling = {
  bisectBatchOnFunctionError: EVENT_SOURCE_FAILURE_HANDLING.bisectBatchOnError,
  reportBatchItemFailures: EVENT_SOURCE_FAILURE_HANDLING.reportBatchItemFailures,
};

/** The mapping's settings as lib/stacks/speed-layer-stack.ts deploys them (bisect and partial responses on). */
export function mappingOptionsFromConfig(speedLayer: PlatformConfig['speedLayer'], log: LogKind): EventSourceMappingOptions {
  return {
    batchSize: speedLayer.batchSize,
    maxBatchingWindowSeconds: speedLayer.maxBatchingWindowSeconds,
    retryAttempts: speedLayer.retryAttempts,
    maxRecordAgeSeconds: speedLayer.maxRecordAgeSeconds,
    tumblingWindowSeconds: speedLayer.tumblingWindowSeconds,
    startingPosition: speedLayer.startingPosition,
    timeoutSeconds: speedLayer.timeoutSeconds,
    ...failureHandling,
    pollIntervalMs: pollIntervalFor(log),
  };
}

/**
 * The alert notifier's mapping as lib/stacks/alerts-stack.ts deploys it: from the start of the alerts log, no
 * tumbling window, bisect and partial batch responses on.
 */
export function notifierMappingOptions(notifier: PlatformConfig['alerts']['notifier'], log: LogKind): EventSourceMappingOptions {
  return {
    batchSize: notifier.batchSize,
    maxBatchingWindowSeconds: notifier.maxBatchingWindowSeconds,
    retryAttempts: notifier.retryAttempts,
    maxRecordAgeSeconds: notifier.maxRecordAgeSeconds,
    tumblingWindowSeconds: 0,
    startingPosition: 'TRIM_HORIZON',
    timeoutSeconds: notifier.timeoutSeconds,
    ...failureHandling,
    pollIntervalMs: pollIntervalFor(log),
  };
}

/** The invocation record AWS sends to an on-failure destination (here: one JSON file per failed batch). */
export interface OnFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
    approximateInvokeCount: number;
  };
  responseContext: { statusCode: number; executedVersion: string; functionError?: string } | null;
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo?: Record<string, unknown>;
  KafkaBatchInfo?: Record<string, unknown>;
}

export interface UnitStatus {
  /** The last position done (committed). */
  position: string | undefined;
  /** Records after it, from the reader (filled by status()). */
  lag?: number;
  /** The open tumbling window, if any. */
  window?: { start: string; end: string };
}

/** Live counters for a status display. */
export interface MappingCounters {
  recordsRead: number;
  invocations: number;
  /** Invocations that threw, timed out, or answered in a way AWS counts as a whole-batch failure. */
  functionErrors: number;
  /** Records named in partial batch responses. */
  recordsReportedFailed: number;
  /** Records sent again after a failure (partial or whole). */
  recordsRetried: number;
  bisections: number;
  batchesToOnFailure: number;
  recordsToOnFailure: number;
  recordsDroppedByAge: number;
  windowsClosed: number;
  lastError: string | undefined;
  units: Record<string, UnitStatus>;
}

export type MappingHandler<TEvent> = (event: TEvent) => Promise<unknown>;

export interface EventSourceMappingProps<TEvent> {
  reader: LogReader;
  format: EventFormat<TEvent>;
  /** In the sandbox, the REAL speed layer handler. */
  handler: MappingHandler<TEvent>;
  options: EventSourceMappingOptions;
  /** The on-failure destination: a folder, one JSON file per failed batch (stands in for the SQS queue). */
  onFailureDir: string;
  functionArn: string;
  /** Epoch ms; for record age, window boundaries and timestamps. Default Date.now. */
  clock?: () => number;
}

/** Invocation payload limit (6 MB) and the approximate JSON overhead of one record beside its data. */
const PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
const RECORD_OVERHEAD_BYTES = 512;
/** Tumbling-window state limit per shard. */
const WINDOW_STATE_LIMIT_BYTES = 1024 * 1024;

type Outcome =
  | { kind: 'success'; state?: Record<string, unknown> }
  | { kind: 'partial'; failed: string[]; state?: Record<string, unknown> }
  | { kind: 'error'; message: string; functionError: boolean };

interface Pending {
  records: LogRecord[];
  /** Retries used (bisecting does not use any). */
  attempts: number;
  /** Invocations that carried these records. */
  invokes: number;
  lastResponse: OnFailureRecord['responseContext'];
}

interface OpenWindow {
  index: number;
  state: Record<string, unknown>;
}

/** A sleep that stop() cuts short. */
class Stopper {
  stopped = false;
  private readonly wakers = new Set<() => void>();
  sleep(ms: number): Promise<void> {
    if (this.stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
  stop() {
    this.stopped = true;
    [...this.wakers].forEach((wake) => wake());
  }
}

export class EventSourceMapping<TEvent = unknown> {
  readonly counters: MappingCounters = {
    recordsRead: 0,
    invocations: 0,
    functionErrors: 0,
    recordsReportedFailed: 0,
    recordsRetried: 0,
    bisections: 0,
    batchesToOnFailure: 0,
    recordsToOnFailure: 0,
    recordsDroppedByAge: 0,
    windowsClosed: 0,
    lastError: undefined,
    units: {},
  };
  private readonly stopper = new Stopper();
  private readonly clock: () => number;
  private readonly pollMs: number;
  private readonly retryDelayMs: number;
  private readonly windowMs: number;
  private running: Promise<void> | undefined;

  constructor(private readonly props: EventSourceMappingProps<TEvent>) {
    const o = props.options;
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > 10_000) throw new Error(`batchSize must be 1-10000: ${o.batchSize}`);
    if (o.retryAttempts < -1) throw new Error(`retryAttempts must be -1 or more: ${o.retryAttempts}`);
    this.clock = props.clock ?? Date.now;
    this.pollMs = o.pollIntervalMs ?? 1000;
    this.retryDelayMs = o.retryDelayMs ?? 1000;
    this.windowMs = props.format.supportsTumblingWindow && o.tumblingWindowSeconds > 0 ? o.tumblingWindowSeconds * 1000 : 0;
  }

  /** Start polling every unit of the log; resolves once the units are known. */
  async start(): Promise<void> {
    if (this.running) throw new Error('Already started');
    const units = await this.props.reader.units();
    for (const unit of units) this.counters.units[unit] = { position: undefined };
    this.running = Promise.all(units.map((unit) => this.runUnit(unit))).then(() => undefined);
  }

  /** Let every unit finish its in-flight invocation (and commit it), then return. No new batch starts. */
  async stop(): Promise<void> {
    this.stopper.stop();
    await this.running;
  }

  /** The counters, with each unit's lag asked of the reader now. */
  async status(): Promise<MappingCounters> {
    const units: Record<string, UnitStatus> = {};
    for (const [unit, status] of Object.entries(this.counters.units)) {
      units[unit] = { ...status, lag: await this.props.reader.lag(unit) };
    }
    return { ...this.counters, units };
  }

  private async runUnit(unit: string): Promise<void> {
    const worker = new UnitWorker(this, unit);
    await worker.run();
  }

  /** @internal shared with UnitWorker */
  get internals() {
    return {
      props: this.props,
      stopper: this.stopper,
      clock: this.clock,
      pollMs: this.pollMs,
      retryDelayMs: this.retryDelayMs,
      windowMs: this.windowMs,
      counters: this.counters,
    };
  }
}

/** One ordered unit's poller: parallelization factor 1, so one batch at a time, in log order. */
class UnitWorker<TEvent> {
  private readonly ctx: EventSourceMapping<TEvent>['internals'];
  private position: string | undefined;
  private window: OpenWindow | undefined;

  constructor(
    mapping: EventSourceMapping<TEvent>,
    private readonly unit: string,
  ) {
    this.ctx = mapping.internals;
  }

  private get props() {
    return this.ctx.props;
  }
  private get options() {
    return this.ctx.props.options;
  }
  private get status() {
    return this.ctx.counters.units[this.unit];
  }

  async run(): Promise<void> {
    const { stopper } = this.ctx;
    while (!stopper.stopped) {
      try {
        await this.initialPosition();
        break;
      } catch (error) {
        this.noteError(error);
        await stopper.sleep(this.ctx.retryDelayMs);
      }
    }
    while (!stopper.stopped) {
      try {
        const batch = await this.gather();
        if (stopper.stopped) break;
        if (batch.length === 0) {
          await this.closeWindowIfOver();
          await stopper.sleep(this.ctx.pollMs);
          continue;
        }
        this.ctx.counters.recordsRead += batch.length;
        if (this.ctx.windowMs > 0) await this.enterWindow(this.windowIndex(batch[0]));
        if (stopper.stopped) break;
        await this.process(batch);
      } catch (error) {
        // Reading the log or committing failed (not the function): try again, as Lambda does before invoking.
        this.noteError(error);
        await stopper.sleep(this.ctx.retryDelayMs);
      }
    }
  }

  private noteError(error: unknown) {
    this.ctx.counters.lastError = `${this.unit}: ${(error as Error)?.message ?? String(error)}`;
  }

  private async initialPosition() {
    const { reader } = this.props;
    this.position = await reader.committed(this.unit);
    if (this.position === undefined && this.options.startingPosition === 'LATEST') {
      // LATEST: start after whatever the unit holds now, and remember that as the first checkpoint.
      let tip: string | undefined;
      for (;;) {
        const records = await reader.read(this.unit, tip, 10_000);
        if (records.length === 0) break;
        tip = records[records.length - 1].position;
      }
      if (tip !== undefined) await this.commit(tip);
    }
    this.status.position = this.position;
  }

  private windowIndex(record: LogRecord): number {
    return Math.floor(record.arrivalTime / this.ctx.windowMs);
  }

  /**
   * Up to batchSize records after the position: gathered until the batch is full, the batching window has
   * passed since the first record, or the 6 MB payload limit is near. With a tumbling window a batch never
   * spans two windows.
   */
  private async gather(): Promise<LogRecord[]> {
    const { reader } = this.props;
    const { stopper } = this.ctx;
    const batchSize = this.options.batchSize;
    const windowMs = this.options.maxBatchingWindowSeconds * 1000;
    const batch: LogRecord[] = [];
    let bytes = 0;
    let firstAt: number | undefined;
    for (;;) {
      const after = batch.length > 0 ? batch[batch.length - 1].position : this.position;
      const records = await reader.read(this.unit, after, batchSize - batch.length);
      let complete = false;
      for (const record of records) {
        const size = Math.ceil(record.data.length / 3) * 4 + RECORD_OVERHEAD_BYTES;
        const otherWindow = this.ctx.windowMs > 0 && batch.length > 0 && this.windowIndex(record) !== this.windowIndex(batch[0]);
        if (otherWindow || (batch.length > 0 && bytes + size > PAYLOAD_LIMIT_BYTES)) {
          complete = true;
          break;
        }
        batch.push(record);
        bytes += size;
      }
      if (batch.length > 0) firstAt ??= Date.now();
      if (complete || batch.length >= batchSize || batch.length === 0 || firstAt === undefined) return batch;
      const left = firstAt + windowMs - Date.now();
      if (left <= 0 || stopper.stopped) return batch;
      await stopper.sleep(Math.min(left, this.ctx.pollMs));
      if (stopper.stopped) return batch;
    }
  }

  /** A batch's records belong to window `index`: close an older open window first. */
  private async enterWindow(index: number) {
    if (this.window && this.window.index < index) await this.closeWindow(false);
    if (!this.window) this.window = { index, state: {} };
    this.status.window = this.windowBounds(this.window.index);
  }

  private windowBounds(index: number) {
    return {
      start: new Date(index * this.ctx.windowMs).toISOString(),
      end: new Date((index + 1) * this.ctx.windowMs).toISOString(),
    };
  }

  /** With nothing left to read: the open window ends once the clock passes its end. */
  private async closeWindowIfOver() {
    if (this.window && this.ctx.clock() >= (this.window.index + 1) * this.ctx.windowMs) await this.closeWindow(false);
  }

  /** The final invocation of the open window (no records, `isFinalInvokeForWindow`), retried until it succeeds. */
  private async closeWindow(terminatedEarly: boolean) {
    const window = this.window!;
    const fields: WindowFields = {
      ...this.windowBounds(window.index),
      state: window.state,
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: terminatedEarly,
    };
    for (;;) {
      const result = await this.invokeRaw(this.props.format.event(this.unit, [], fields));
      if (result.ok) break;
      this.ctx.counters.functionErrors += 1;
      this.ctx.counters.lastError = `${this.unit}: final window invocation failed: ${result.message}`;
      // AWS: processing of the shard waits until the final invocation succeeds.
      if (this.ctx.stopper.stopped) return;
      await this.ctx.stopper.sleep(this.ctx.retryDelayMs);
      if (this.ctx.stopper.stopped) return;
    }
    this.ctx.counters.windowsClosed += 1;
    if (terminatedEarly) {
      window.state = {};
    } else {
      this.window = undefined;
      this.status.window = undefined;
    }
  }

  /** Invoke the handler with the function timeout; never throws. */
  private async invokeRaw(event: TEvent): Promise<{ ok: true; response: unknown } | { ok: false; message: string }> {
    this.ctx.counters.invocations += 1;
    const timeoutMs = this.options.timeoutSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const invocation = Promise.resolve()
      .then(() => this.props.handler(event))
      .then((response) => ({ ok: true as const, response }))
      .catch((error: unknown) => ({ ok: false as const, message: (error as Error)?.message ?? String(error) }));
    const timeout = new Promise<{ ok: false; message: string }>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, message: `Task timed out after ${this.options.timeoutSeconds} seconds` }), timeoutMs);
    });
    try {
      return await Promise.race([invocation, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One invocation of `records`, its response read as AWS reads it. */
  private async invoke(records: LogRecord[]): Promise<Outcome> {
    const windowed = this.ctx.windowMs > 0 && this.window !== undefined;
    const fields: WindowFields | undefined = windowed
      ? { ...this.windowBounds(this.window!.index), state: this.window!.state, isFinalInvokeForWindow: false, isWindowTerminatedEarly: false }
      : undefined;
    const result = await this.invokeRaw(this.props.format.event(this.unit, records, fields));
    if (!result.ok) return { kind: 'error', message: result.message, functionError: true };
    const response = result.response;
    if (response !== undefined && response !== null && (typeof response !== 'object' || Array.isArray(response))) {
      return { kind: 'error', message: 'response is not a JSON object', functionError: false };
    }
    const body = (response ?? {}) as { batchItemFailures?: unknown; state?: unknown };
    let state: Record<string, unknown> | undefined;
    if (windowed) {
      if (typeof body.state !== 'object' || body.state === null || Array.isArray(body.state)) {
        return { kind: 'error', message: 'a tumbling-window response without state', functionError: false };
      }
      state = body.state as Record<string, unknown>;
    }
    if (!this.options.reportBatchItemFailures || body.batchItemFailures === undefined || body.batchItemFailures === null) {
      return { kind: 'success', state };
    }
    if (!Array.isArray(body.batchItemFailures)) return { kind: 'error', message: 'batchItemFailures is not a list', functionError: false };
    if (body.batchItemFailures.length === 0) return { kind: 'success', state };
    const failed = this.props.format.reportedFailures(this.unit, records, body.batchItemFailures);
    if (!failed) return { kind: 'error', message: 'batchItemFailures names no record of the batch', functionError: false };
    return { kind: 'partial', failed, state };
  }

  private async adoptState(state: Record<string, unknown> | undefined) {
    if (!state || !this.window) return;
    this.window.state = state;
    if (Buffer.byteLength(JSON.stringify(state)) > WINDOW_STATE_LIMIT_BYTES) await this.closeWindow(true);
  }

  /** Work through one batch: invoke, then retry, bisect, checkpoint or hand to the on-failure destination. */
  private async process(batch: LogRecord[]) {
    const { counters, stopper } = this.ctx;
    const o = this.options;
    const queue: Pending[] = [{ records: batch, attempts: 0, invokes: 0, lastResponse: null }];
    while (queue.length > 0) {
      // stop(): the invocation in flight when it was called has finished and been checkpointed; what is left
      // of the batch is not committed, so a restart delivers it again.
      if (stopper.stopped) return;
      const item = queue[0];

      if (o.maxRecordAgeSeconds >= 0) {
        const now = this.ctx.clock();
        const expired = item.records.filter((r) => now - r.arrivalTime > o.maxRecordAgeSeconds * 1000);
        if (expired.length > 0) {
          counters.recordsDroppedByAge += expired.length;
          await this.sendToOnFailure(expired, 'RecordAgeExceeded', item);
          item.records = item.records.filter((r) => !expired.includes(r));
          if (item.records.length === 0) {
            queue.shift();
            await this.commit(expired[expired.length - 1].position);
            continue;
          }
        }
      }

      const outcome = await this.invoke(item.records);
      item.invokes += 1;
      const functionError = outcome.kind === 'error' && outcome.functionError;
      item.lastResponse = { statusCode: 200, executedVersion: '$LATEST', ...(functionError ? { functionError: 'Unhandled' } : {}) };

      if (outcome.kind === 'success') {
        queue.shift();
        await this.commit(item.records[item.records.length - 1].position);
        await this.adoptState(outcome.state);
        continue;
      }

      if (outcome.kind === 'partial') {
        counters.recordsReportedFailed += outcome.failed.length;
        // The lowest reported record is the checkpoint: everything before it is done.
        const failedSet = new Set(outcome.failed);
        const from = item.records.findIndex((r) => failedSet.has(r.position));
        if (from > 0) await this.commit(item.records[from - 1].position);
        await this.adoptState(outcome.state);
        item.records = item.records.slice(from);
      } else {
        counters.functionErrors += 1;
        counters.lastError = `${this.unit}: ${outcome.message}`;
        if (o.bisectBatchOnFunctionError && item.records.length > 1) {
          const half = Math.ceil(item.records.length / 2);
          counters.bisections += 1;
          queue.splice(
            0,
            1,
            { ...item, records: item.records.slice(0, half) },
            { ...item, records: item.records.slice(half) },
          );
          continue;
        }
      }

      item.attempts += 1;
      if (o.retryAttempts !== -1 && item.attempts > o.retryAttempts) {
        queue.shift();
        await this.sendToOnFailure(item.records, 'RetryAttemptsExhausted', item);
        await this.commit(item.records[item.records.length - 1].position);
        continue;
      }
      counters.recordsRetried += item.records.length;
      await stopper.sleep(this.ctx.retryDelayMs);
    }
  }

  private async commit(position: string) {
    await this.props.reader.commit(this.unit, position);
    this.position = position;
    this.status.position = position;
  }

  private async sendToOnFailure(records: LogRecord[], condition: OnFailureRecord['requestContext']['condition'], item: Pending) {
    const info = this.props.format.batchInfo(this.unit, records);
    const requestId = randomUUID();
    const record: OnFailureRecord = {
      requestContext: { requestId, functionArn: this.props.functionArn, condition, approximateInvokeCount: item.invokes },
      responseContext: item.lastResponse,
      version: '1.0',
      timestamp: new Date(this.ctx.clock()).toISOString(),
      [info.key]: info.value,
    };
    await fs.mkdir(this.props.onFailureDir, { recursive: true });
    const name = `${Date.now()}-${this.unit}-${records[0].position}-${requestId.slice(0, 8)}.json`;
    const file = path.join(this.props.onFailureDir, name);
    // Written whole then renamed, so a reader of the folder never sees half a record.
    await fs.writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    await fs.rename(`${file}.tmp`, file);
    this.ctx.counters.batchesToOnFailure += 1;
    this.ctx.counters.recordsToOnFailure += records.length;
  }
}
