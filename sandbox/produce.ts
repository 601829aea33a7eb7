import { setTimeout as sleep } from 'node:timers/promises';
import type { LabelledRecord } from './generator';
import type { LocalLog } from './log';

/**
 * Puts a workload on the log at a set wall-clock rate, in small slices so the
 * log sees a steady stream rather than bursts, and reports progress. The
 * records' event times come from the generator; this only decides when each
 * is sent. Each slice is sent once the log accepted the one before (the log
 * clients retry partial failures), so the order per key is the workload's.
 * A slice the log refuses (a broker restarting, kinesis-local down) is sent
 * again for up to `deliveryTimeoutMs`, as a Kafka producer keeps retrying for
 * its delivery.timeout.ms: a restart of the log does not end the run.
 */

/** The Kafka producer's default delivery.timeout.ms (https://kafka.apache.org/documentation/#producerconfigs_delivery.timeout.ms). */
export const DELIVERY_TIMEOUT_MS = 120_000;
const RESEND_PAUSE_MS = 1000;

export interface ProduceProgress {
  sent: number;
  total: number;
  /** Wall time since producing started. */
  elapsedMs: number;
}

export interface ProduceOptions {
  /** Records per second, wall clock. */
  rate: number;
  /** Slices per second; default 10. */
  slicesPerSecond?: number;
  onProgress?: (progress: ProduceProgress) => void;
  /** Called with each slice once the log has accepted it, and the wall time it was. */
  onAccepted?: (slice: readonly LabelledRecord[], acceptedAt: number) => void;
  signal?: AbortSignal;
  /** How long to keep sending a slice the log refuses; default DELIVERY_TIMEOUT_MS. */
  deliveryTimeoutMs?: number;
  /** Told of each refusal before the slice is sent again. */
  onRetry?: (error: Error) => void;
}

export async function produceAtRate(log: LocalLog, records: readonly LabelledRecord[], options: ProduceOptions): Promise<ProduceProgress> {
  if (!(options.rate > 0)) throw new Error(`The rate must be a positive number of records per second, not ${options.rate}`);
  const slices = options.slicesPerSecond ?? 10;
  const perSlice = Math.max(1, Math.round(options.rate / slices));
  const started = Date.now();
  let sent = 0;
  while (sent < records.length && !options.signal?.aborted) {
    const slice = records.slice(sent, sent + perSlice);
    await deliver(log, slice, options);
    options.onAccepted?.(slice, Date.now());
    sent += slice.length;
    options.onProgress?.({ sent, total: records.length, elapsedMs: Date.now() - started });
    // Where this slice should have finished at the set rate; behind schedule means no pause.
    const due = started + (sent / options.rate) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait, undefined, { signal: options.signal }).catch(() => undefined);
  }
  return { sent, total: records.length, elapsedMs: Date.now() - started };
}

async function deliver(log: LocalLog, slice: readonly LabelledRecord[], options: ProduceOptions): Promise<void> {
  const deadline = Date.now() + (options.deliveryTimeoutMs ?? DELIVERY_TIMEOUT_MS);
  for (;;) {
    try {
      await log.produce(slice);
      return;
    } catch (error) {
      if (Date.now() + RESEND_PAUSE_MS > deadline || options.signal?.aborted) throw error;
      options.onRetry?.(error as Error);
      await sleep(RESEND_PAUSE_MS);
    }
  }
}
