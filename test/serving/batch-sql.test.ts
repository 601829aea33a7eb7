import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BATCH_VIEWS, batchViewColumns, insertChunkSql, lambdaViewName, NO_BATCH_RUN, planBatchRun, switchLambdaViewsSql } from '../../lib/batch';
import { REPO_ROOT, synthProfile, venvTool } from '../helpers/synth';

/**
 * The batch layer's Athena SQL, as the cloud runs it: every INSERT chunk of a run, and the
 * lambda_ views as deployed and as each run's switch re-points them. Parsed with sqlglot's
 * Athena dialect, every table and column resolved against the synthesized Glue catalog,
 * database-qualified as the statements name them. sqlglot parses R1's MATCH_RECOGNIZE but
 * cannot resolve the columns its MEASURES define, so the alerts INSERT is parsed whole, and
 * resolved with R1's CTE stubbed by one of the same columns: every other name in it is checked.
 */

const { templates } = synthProfile('prod');
const resources = Object.values(templates.Lake.toJSON().Resources) as any[];
const DATABASE: string = resources.find((r) => r.Type === 'AWS::Glue::Database').Properties.DatabaseInput.Name;
const glueTables = resources.filter((r) => r.Type === 'AWS::Glue::Table').map((r) => r.Properties.TableInput);
const columnsOf = (table: string): string[] => {
  const input = glueTables.find((t) => t.Name === table);
  return [...input.StorageDescriptor.Columns, ...input.PartitionKeys].map((c: any) => c.Name);
};

/** database -> table -> {column: type}, partition keys included. */
const schema = { [DATABASE]: Object.fromEntries(glueTables.map((t) => [t.Name, Object.fromEntries([...t.StorageDescriptor.Columns, ...t.PartitionKeys].map((c: any) => [c.Name, c.Type]))])) };

function check(statements: Record<string, string>, options: { parseOnly?: boolean } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-sql-'));
  const schemaFile = path.join(dir, 'schema.json');
  fs.writeFileSync(schemaFile, JSON.stringify(schema));
  const files = Object.entries(statements).map(([name, sql]) => {
    const file = path.join(dir, `${name}.sql`);
    fs.writeFileSync(file, sql);
    return file;
  });
  try {
    const result = spawnSync(venvTool('python'), ['scripts/check_athena_sql.py', ...(options.parseOnly ? ['--parse-only'] : []), schemaFile, ...files], { cwd: REPO_ROOT, encoding: 'utf8' });
    return { ...result, files };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function expectClean(statements: Record<string, string>, options: { parseOnly?: boolean } = {}) {
  const result = check(statements, options);
  expect(result.stderr).toBe('');
  expect(result.stdout.trim().split('\n')).toHaveLength(result.files.length);
  expect(result.status).toBe(0);
}

// A run over a history longer than one chunk, so every view has several chunks.
const plan = planBatchRun({ startedAtMs: Date.parse('2026-11-22T10:15:42Z'), settleMinutes: 15, firstRawDay: '2026-05-01' });
const inserts = Object.fromEntries(plan.chunks.map((chunk, i) => [`insert-${i}-${chunk.view}`, insertChunkSql(DATABASE, plan, chunk)]));
const isAlerts = (name: string) => name.endsWith('-alerts');

/** R1's CTE replaced by one with its columns, for the name check only (sqlglot cannot resolve MATCH_RECOGNIZE's measures). */
function withR1Stubbed(sql: string): string {
  const start = sql.indexOf('r1 AS (');
  const end = sql.indexOf('\n),\n', sql.indexOf('MATCH_RECOGNIZE', start)) + 2;
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  return `${sql.slice(0, start)}r1 AS (\n  SELECT card_id, customer_id, event_time AS window_start, ARRAY[txn_id, txn_id, txn_id] AS txn_ids FROM txn\n)${sql.slice(end)}`;
}

describe('batch INSERTs (Athena engine v3)', () => {
  test('the run has more than one chunk of every view, each an INSERT into its batch_ table', () => {
    for (const view of BATCH_VIEWS) expect(plan.chunks.filter((c) => c.view === view).length).toBeGreaterThan(1);
    for (const [name, sql] of Object.entries(inserts)) expect(sql).toMatch(new RegExp(`^INSERT INTO "${DATABASE}"\\."batch_${name.replace(/^insert-\d+-/, '')}"\\n`));
  });

  test('each INSERT selects the batch table\'s columns in the table\'s order, partition keys (run, dt) last', () => {
    for (const chunk of plan.chunks) {
      const sql = insertChunkSql(DATABASE, plan, chunk);
      const selected = sql.split('\n')[1].replace(/^SELECT /, '').split(', ').map((c) => c.replace(/^'[^']*' AS /, ''));
      expect(selected).toEqual(columnsOf(`batch_${chunk.view}`));
      expect([...batchViewColumns(chunk.view).slice(0, -1), 'run', 'dt']).toEqual(selected);
    }
  });

  test('every INSERT but the alerts\' parses and names only tables and columns of the Glue catalog', () => {
    expectClean(Object.fromEntries(Object.entries(inserts).filter(([name]) => !isAlerts(name))));
  });

  test('the alerts INSERTs parse whole (R1 in MATCH_RECOGNIZE), and resolve every name outside R1', () => {
    const alerts = Object.entries(inserts).filter(([name]) => isAlerts(name));
    expect(alerts.length).toBeGreaterThan(1);
    for (const [, sql] of alerts) expect(sql).toContain('MATCH_RECOGNIZE (');
    expectClean(Object.fromEntries(alerts), { parseOnly: true });
    expectClean(Object.fromEntries(alerts.map(([name, sql]) => [name, withR1Stubbed(sql)])));
  });
});

describe('lambda_ views (Athena engine v3)', () => {
  /** The views as deployed: the SQL in each Glue VIRTUAL_VIEW's Presto definition. */
  const deployed = Object.fromEntries(Object.values(templates.BatchLayer.findResources('AWS::Glue::Table')).map((t: any) => {
    const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(t.Properties.TableInput.ViewOriginalText)![1];
    return [t.Properties.TableInput.Name, JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')).originalSql as string];
  }));

  test('one view per batch view is deployed, reading no run yet', () => {
    expect(Object.keys(deployed).sort()).toEqual(BATCH_VIEWS.map(lambdaViewName).sort());
    for (const sql of Object.values(deployed)) expect(sql).toContain(`WHERE run = '${NO_BATCH_RUN.run}'`);
  });

  test('every deployed definition parses and names only tables and columns of the Glue catalog', () => {
    expectClean(deployed);
  });

  test('every switch statement of a run, and of the revert to no run, parses and resolves', () => {
    const pointer = { run: plan.run, watermarkMs: plan.watermarkMs };
    const statements = [...switchLambdaViewsSql(DATABASE, pointer), ...switchLambdaViewsSql(DATABASE, NO_BATCH_RUN)];
    expect(statements).toHaveLength(2 * BATCH_VIEWS.length);
    expectClean(Object.fromEntries(statements.map((sql, i) => [`switch-${i}`, sql])));
  });

  test('the check rejects a view naming a table of another database, or a column its table lacks', () => {
    const sql = deployed.lambda_alerts;
    for (const bad of [sql.replace(`"${DATABASE}"."speed_alerts"`, '"other_lake"."speed_alerts"'), sql.replace('arbitrary(rule)', 'arbitrary(rules)')]) {
      const result = check({ bad });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/could not be resolved/);
    }
  });
});
