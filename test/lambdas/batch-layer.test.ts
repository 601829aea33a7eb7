import { Logger } from '@aws-lambda-powertools/logger';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { batchLayerEnvSchema, loadBatchLayerEnv } from '../../lambdas/batch-layer/env';
import { chunkToken, createBatchLayerHandler, type PlanResult, type RenderResult, type SwitchResult } from '../../lambdas/batch-layer/handler';
import { BATCH_VIEWS, type BatchChunk, insertChunkSql, MAX_DAYS_PER_INSERT, NO_BATCH_RUN, switchLambdaViewsSql } from '../../lib/batch';

const s3Mock = mockClient(S3Client);
const DATABASE = 'tributary_dev_lake';
const BUCKET = 'tributary-dev-lake-123456789012-eu-west-1';
const DAY = 86_400_000;
const ms = (iso: string) => Date.parse(iso);

const VALID_ENV = {
  LAKE_BUCKET_NAME: BUCKET,
  RAW_PREFIX: 'raw',
  DATABASE_NAME: DATABASE,
  SETTLE_MINUTES: '15',
  POWERTOOLS_SERVICE_NAME: 'batch-layer',
  POWERTOOLS_LOG_LEVEL: 'info',
};

const handler = createBatchLayerHandler({
  env: loadBatchLayerEnv(VALID_ENV),
  s3: new S3Client({ region: 'eu-west-1' }),
  logger: new Logger({ serviceName: 'batch-layer', logLevel: 'SILENT' }),
  clock: () => ms('2026-11-22T12:07:30.000Z'),
});

/** raw/ as Firehose lays it out: one common prefix per event day, in key order. */
function rawDays(...days: string[]) {
  s3Mock.on(ListObjectsV2Command).resolves({ CommonPrefixes: days.map((day) => ({ Prefix: `raw/dt=${day}/` })), KeyCount: days.length, IsTruncated: false });
}

beforeEach(() => s3Mock.reset());

describe('batch-layer environment', () => {
  test('declares exactly the variables the stack must set', () => {
    expect(Object.keys(batchLayerEnvSchema.shape).sort()).toEqual(
      ['DATABASE_NAME', 'LAKE_BUCKET_NAME', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_SERVICE_NAME', 'RAW_PREFIX', 'SETTLE_MINUTES'],
    );
  });

  test('parses a complete environment: minutes as a number, the log level normalised', () => {
    expect(loadBatchLayerEnv({ ...VALID_ENV, AWS_REGION: 'eu-west-1' })).toEqual({ ...VALID_ENV, SETTLE_MINUTES: 15, POWERTOOLS_LOG_LEVEL: 'INFO' });
  });

  test('fails fast, naming every missing or invalid variable', () => {
    const { DATABASE_NAME: _db, ...partial } = VALID_ENV;
    expect(() => loadBatchLayerEnv({ ...partial, SETTLE_MINUTES: '7.5', RAW_PREFIX: 'raw/' })).toThrow(
      /^Batch layer environment: RAW_PREFIX is invalid: must be an S3 key prefix without leading or trailing "\/"; DATABASE_NAME is not set; SETTLE_MINUTES is invalid: must be a whole number of minutes$/,
    );
  });
});

describe('plan', () => {
  test('lists raw/ by day, and plans the run from the execution\'s start: id, watermark settleMinutes earlier, one chunk per view', async () => {
    rawDays('2026-11-20', '2026-11-21', '2026-11-22');
    const plan = (await handler({ action: 'plan', startedAt: '2026-11-22T10:15:42.123Z' })) as PlanResult;
    expect(s3Mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: BUCKET, Prefix: 'raw/', Delimiter: '/', ContinuationToken: undefined },
    ]);
    expect(plan.run).toBe('20261122T101542Z');
    expect(plan.startedAtMs).toBe(ms('2026-11-22T10:15:42.123Z'));
    expect(new Date(plan.watermarkMs).toISOString()).toBe('2026-11-22T10:00:00.000Z');
    expect(plan.firstRawDay).toBe('2026-11-20');
    // A day before the first event (a sliding window reaches back) to the end of the watermark's day.
    expect(plan.chunks).toEqual(BATCH_VIEWS.map((view) => ({ view, fromMs: ms('2026-11-19T00:00:00Z'), toMs: ms('2026-11-23T00:00:00Z') })));
  });

  test('a long history is cut into chunks of at most 100 whole days per view, covering it without gaps', async () => {
    rawDays('2026-01-01', '2026-06-30');
    const plan = (await handler({ action: 'plan', startedAt: '2026-11-22T10:15:42Z' })) as PlanResult;
    for (const view of BATCH_VIEWS) {
      const chunks = plan.chunks.filter((c) => c.view === view);
      expect(chunks).toHaveLength(4); // 2025-12-31 .. 2026-11-22: 327 days
      expect(chunks[0].fromMs).toBe(ms('2025-12-31T00:00:00Z'));
      expect(chunks.at(-1)!.toMs).toBe(ms('2026-11-23T00:00:00Z'));
      chunks.forEach((chunk, i) => {
        expect(chunk.toMs - chunk.fromMs).toBeLessThanOrEqual(MAX_DAYS_PER_INSERT * DAY);
        if (i > 0) expect(chunk.fromMs).toBe(chunks[i - 1].toMs);
      });
    }
  });

  test('the first day is the first dt= prefix, across pages, whatever else raw/ holds', async () => {
    s3Mock.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({
      CommonPrefixes: [{ Prefix: 'raw/_manifests/' }], IsTruncated: true, NextContinuationToken: 'page-2',
    });
    s3Mock.on(ListObjectsV2Command, { ContinuationToken: 'page-2' }).resolves({
      CommonPrefixes: [{ Prefix: 'raw/dt=2026-11-02/' }, { Prefix: 'raw/dt=2026-11-03/' }], IsTruncated: false,
    });
    const plan = (await handler({ action: 'plan', startedAt: '2026-11-22T10:15:00Z' })) as PlanResult;
    expect(plan.firstRawDay).toBe('2026-11-02');
    expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(2);
  });

  test('an empty raw/ plans no chunk: the run only moves the watermark', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ KeyCount: 0, IsTruncated: false });
    const plan = (await handler({ action: 'plan', startedAt: '2026-11-22T10:15:00Z' })) as PlanResult;
    expect(plan).toMatchObject({ chunks: [], firstRawDay: null, run: '20261122T101500Z' });
  });

  test('without startedAt the run starts now', async () => {
    rawDays('2026-11-22');
    const plan = (await handler({ action: 'plan' })) as PlanResult;
    expect(plan.run).toBe('20261122T120730Z');
    expect(new Date(plan.watermarkMs).toISOString()).toBe('2026-11-22T11:52:00.000Z');
  });

  test('an S3 failure fails the call (the state machine retries nothing but Lambda\'s own errors, and fails the run)', async () => {
    s3Mock.on(ListObjectsV2Command).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(handler({ action: 'plan', startedAt: '2026-11-22T10:15:00Z' })).rejects.toThrow('Access Denied');
  });
});

describe('render', () => {
  const run = { run: '20261122T101542Z', startedAtMs: ms('2026-11-22T10:15:42Z'), watermarkMs: ms('2026-11-22T10:00:00Z') };
  const chunk = (view: BatchChunk['view'], from: string, to: string): BatchChunk => ({ view, fromMs: ms(`${from}T00:00:00Z`), toMs: ms(`${to}T00:00:00Z`) });

  test.each(BATCH_VIEWS)('%s: the INSERT of the chunk into its batch_ table, run=<id>, and its token', async (view) => {
    const c = chunk(view, '2026-11-19', '2026-11-23');
    const result = (await handler({ action: 'render', ...run, chunk: c })) as RenderResult;
    expect(result.sql).toBe(insertChunkSql(DATABASE, { ...run, chunks: [c] }, c));
    expect(result.sql).toMatch(new RegExp(`^INSERT INTO "${DATABASE}"\\."batch_${view}"\\nSELECT .*, '${run.run}' AS run, dt\\n`));
    expect(result.sql).toContain(`FROM "${DATABASE}"."raw_transactions"`);
    expect(result.sql).toContain(`event_time < ${run.watermarkMs}`);
    expect(result.sql).toMatch(new RegExp(`WHERE \\w+ >= ${c.fromMs} AND \\w+ < ${c.toMs}$`));
    expect(result.token).toBe(`batch-${run.run}-${view}-2026-11-19`);
    // StartQueryExecution takes a ClientRequestToken of 32 to 128 characters.
    expect(result.token.length).toBeGreaterThanOrEqual(32);
    expect(result.token.length).toBeLessThanOrEqual(128);
  });

  test('the same chunk of the same run renders the same statement and token (a retried start is the same query)', async () => {
    const c = chunk('alerts', '2026-08-01', '2026-11-09');
    const [a, b] = (await Promise.all([handler({ action: 'render', ...run, chunk: c }), handler({ action: 'render', ...run, chunk: c })])) as RenderResult[];
    expect(a).toEqual(b);
    expect(chunkToken(run.run, c)).toBe(a.token);
  });

  test.each([
    ['more than 100 days', chunk('alerts', '2026-01-01', '2026-04-12'), 'chunk: must cover 1 to 100 whole days'],
    ['not midnight UTC', { view: 'alerts', fromMs: ms('2026-11-19T01:00:00Z'), toMs: ms('2026-11-23T00:00:00Z') }, 'chunk.fromMs: must be midnight UTC'],
    ['an unknown view', { view: 'late_events', fromMs: ms('2026-11-19T00:00:00Z'), toMs: ms('2026-11-23T00:00:00Z') }, 'chunk.view: Invalid option'],
  ])('a chunk of %s is refused, naming the field', async (_what, bad, message) => {
    await expect(handler({ action: 'render', ...run, chunk: bad })).rejects.toMatchObject({ name: 'InvalidBatchInput', message: expect.stringContaining(message) });
  });

  test('a watermark that is not a whole minute, or a run id with other characters, is refused', async () => {
    const c = chunk('alerts', '2026-11-19', '2026-11-23');
    await expect(handler({ action: 'render', ...run, watermarkMs: run.watermarkMs + 1, chunk: c })).rejects.toThrow('watermarkMs: must be a whole minute');
    await expect(handler({ action: 'render', ...run, run: "x'; DROP", chunk: c })).rejects.toThrow('run: must be letters and digits');
  });
});

describe('switch', () => {
  const pointer = { run: '20261122T101542Z', watermarkMs: ms('2026-11-22T10:00:00Z') };
  const served = { run: '20261122T041500Z', watermarkMs: ms('2026-11-22T04:00:00Z') };

  test('every lambda_ view re-pointed at the run, by view name in switch order, and back at the served run', async () => {
    const result = (await handler({ action: 'switch', ...pointer, served })) as SwitchResult;
    expect(Object.keys(result.statements)).toEqual(BATCH_VIEWS.map((v) => `lambda_${v}`));
    expect(Object.values(result.statements)).toEqual(switchLambdaViewsSql(DATABASE, pointer));
    expect(Object.values(result.revertStatements!)).toEqual(switchLambdaViewsSql(DATABASE, served));
    expect(result.statements.lambda_alerts).toMatch(new RegExp(`^CREATE OR REPLACE VIEW "${DATABASE}"\\."lambda_alerts" AS SELECT`));
    expect(result.statements.lambda_alerts).toContain(`WHERE run = '${pointer.run}'`);
    expect(result.statements.lambda_alerts).toContain(`window_start >= ${pointer.watermarkMs}`);
    expect(result.revertStatements!.lambda_alerts).toContain(`WHERE run = '${served.run}'`);
  });

  test('the first run reverts to no run at all: the speed layer alone', async () => {
    const result = (await handler({ action: 'switch', ...pointer, served: NO_BATCH_RUN })) as SwitchResult;
    expect(result.revertStatements!.lambda_spend_per_card_minute).toContain("WHERE run = 'none'");
    expect(result.revertStatements!.lambda_spend_per_card_minute).toContain('window_start + 60000 > 0');
  });

  test('without the served run, only the run\'s statements', async () => {
    expect(Object.keys(await handler({ action: 'switch', ...pointer }))).toEqual(['statements']);
  });
});

test('an unknown action is refused with the shapes the function takes', async () => {
  await expect(handler({ action: 'replay' })).rejects.toMatchObject({
    name: 'InvalidBatchInput',
    message: expect.stringMatching(/^Batch layer input rejected: action: .*Expected \{"action": "plan"/),
  });
  await expect(handler('plan')).rejects.toThrow('Batch layer input rejected: (input):');
});
