import type { Logger } from '@aws-lambda-powertools/logger';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import {
  BATCH_VIEWS,
  type BatchChunk,
  type BatchRunPlan,
  insertChunkSql,
  lambdaViewName,
  MAX_DAYS_PER_INSERT,
  planBatchRun,
  switchLambdaViewsSql,
  utcDay,
} from '../../lib/batch';
import type { BatchLayerEnv } from './env';

/**
 * The batch layer's one function, called by its state machine with one of three actions:
 *
 * - `plan`: finds the first day of raw/, and plans the run started at `startedAt` (the execution's
 *   start): its id, its watermark, and its INSERT chunks (at most 100 days of one view each).
 * - `render`: one chunk's `INSERT INTO batch_<view>` statement, and the idempotency token the
 *   state machine starts it with.
 * - `switch`: the `CREATE OR REPLACE VIEW` of every `lambda_` view for the run, and for the run
 *   that serves now, to re-point the views already switched should the switch fail half way.
 *
 * Athena runs the statements; this function only lists raw/ and writes SQL.
 */

const DAY_MS = 86_400_000;
const runId = z.string().regex(/^[0-9A-Za-z]+$/, 'must be letters and digits, such as 20261122T101500Z');
const epochMs = z.number().int().nonnegative();
const watermark = epochMs.refine((ms) => ms % 60_000 === 0, 'must be a whole minute in epoch milliseconds');
const pointer = z.strictObject({ run: runId, watermarkMs: watermark });

const chunkSchema = z.strictObject({
  view: z.enum(BATCH_VIEWS),
  fromMs: z.number().int().refine((ms) => ms % DAY_MS === 0, 'must be midnight UTC in epoch milliseconds'),
  toMs: z.number().int().refine((ms) => ms % DAY_MS === 0, 'must be midnight UTC in epoch milliseconds'),
}).refine((c) => c.toMs > c.fromMs && c.toMs - c.fromMs <= MAX_DAYS_PER_INSERT * DAY_MS, {
  message: `must cover 1 to ${MAX_DAYS_PER_INSERT} whole days (one Athena INSERT writes at most 100 partitions)`,
});

export const batchLayerInputSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('plan'),
    /** When the run started, ISO-8601 (the execution's start time). @default now */
    startedAt: z.iso.datetime({ offset: true }).optional(),
  }),
  z.strictObject({
    action: z.literal('render'),
    run: runId,
    startedAtMs: epochMs,
    watermarkMs: watermark,
    chunk: chunkSchema,
  }),
  z.strictObject({
    action: z.literal('switch'),
    run: runId,
    watermarkMs: watermark,
    /** The run that serves now: its statements are returned too, to revert a half-done switch. */
    served: pointer.optional(),
  }),
]);

export type BatchLayerInput = z.input<typeof batchLayerInputSchema>;

export interface PlanResult extends BatchRunPlan {
  /** The earliest `dt` of raw/, or null when raw/ is empty (the run then writes nothing). */
  readonly firstRawDay: string | null;
}

export interface RenderResult {
  readonly view: string;
  /** `INSERT INTO "<db>"."batch_<view>" SELECT ...` */
  readonly sql: string;
  /** StartQueryExecution's ClientRequestToken: the same chunk of the same run is started once. */
  readonly token: string;
}

export interface SwitchResult {
  /** `lambda_<view>` -> its `CREATE OR REPLACE VIEW` for the run, in switch order. */
  readonly statements: Record<string, string>;
  /** The same for the run that served before, when given. */
  readonly revertStatements?: Record<string, string>;
}

/** A request the function refuses: Step Functions sees the error name and does not retry it. */
export class InvalidBatchInput extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBatchInput';
  }
}

export interface BatchLayerDependencies {
  env: Pick<BatchLayerEnv, 'LAKE_BUCKET_NAME' | 'RAW_PREFIX' | 'DATABASE_NAME' | 'SETTLE_MINUTES'>;
  s3: S3Client;
  logger: Logger;
  clock?: () => number;
}

function parseInput(event: unknown): z.output<typeof batchLayerInputSchema> {
  const result = batchLayerInputSchema.safeParse(event);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`);
  throw new InvalidBatchInput(
    `Batch layer input rejected: ${problems.join('; ')}. Expected {"action": "plan", "startedAt"?: "<ISO-8601>"}, ` +
      '{"action": "render", "run", "startedAtMs", "watermarkMs", "chunk": {"view", "fromMs", "toMs"}} or {"action": "switch", "run", "watermarkMs", "served"?}.',
  );
}

/** The earliest `dt=` of raw/: the first matching common prefix, as S3 lists them in key order. */
export async function firstRawDay(s3: S3Client, bucket: string, rawPrefix: string): Promise<string | undefined> {
  const pattern = new RegExp(`^${rawPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/dt=(\\d{4}-\\d{2}-\\d{2})/$`);
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${rawPrefix}/`, Delimiter: '/', ContinuationToken: token }));
    for (const { Prefix } of page.CommonPrefixes ?? []) {
      const day = Prefix && pattern.exec(Prefix)?.[1];
      if (day) return day;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return undefined;
}

/** The chunk's ClientRequestToken: run, view and first day, 32 to 128 characters as Athena requires. */
export function chunkToken(run: string, chunk: BatchChunk): string {
  return `batch-${run}-${chunk.view}-${utcDay(chunk.fromMs)}`;
}

const byView = (statements: string[]): Record<string, string> =>
  Object.fromEntries(BATCH_VIEWS.map((view, index) => [lambdaViewName(view), statements[index]]));

export function createBatchLayerHandler(deps: BatchLayerDependencies) {
  const { env, s3, logger } = deps;
  const clock = deps.clock ?? Date.now;

  return async function handler(event: unknown): Promise<PlanResult | RenderResult | SwitchResult> {
    const input = parseInput(event);
    switch (input.action) {
      case 'plan': {
        const startedAtMs = input.startedAt === undefined ? clock() : Date.parse(input.startedAt);
        const day = await firstRawDay(s3, env.LAKE_BUCKET_NAME, env.RAW_PREFIX);
        const plan = planBatchRun({ startedAtMs, settleMinutes: env.SETTLE_MINUTES, firstRawDay: day });
        logger.info('Planned batch run', { run: plan.run, watermark: new Date(plan.watermarkMs).toISOString(), firstRawDay: day ?? null, chunks: plan.chunks.length });
        return { ...plan, firstRawDay: day ?? null };
      }
      case 'render': {
        const plan: BatchRunPlan = { run: input.run, startedAtMs: input.startedAtMs, watermarkMs: input.watermarkMs, chunks: [input.chunk] };
        if (input.startedAtMs < input.watermarkMs) throw new InvalidBatchInput(`startedAtMs ${input.startedAtMs} is before the watermark ${input.watermarkMs}`);
        const sql = insertChunkSql(env.DATABASE_NAME, plan, input.chunk);
        logger.info('Rendered chunk', { run: input.run, view: input.chunk.view, from: utcDay(input.chunk.fromMs), to: utcDay(input.chunk.toMs - 1) });
        return { view: input.chunk.view, sql, token: chunkToken(input.run, input.chunk) };
      }
      case 'switch': {
        const statements = byView(switchLambdaViewsSql(env.DATABASE_NAME, { run: input.run, watermarkMs: input.watermarkMs }));
        const revertStatements = input.served && byView(switchLambdaViewsSql(env.DATABASE_NAME, input.served));
        logger.info('Rendered view switch', { run: input.run, served: input.served ?? null });
        return revertStatements ? { statements, revertStatements } : { statements };
      }
    }
  };
}
