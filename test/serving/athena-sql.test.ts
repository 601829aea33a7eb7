import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { QUERIES_DIR, referenceQueries } from '../../lib/serving/named-queries';
import { REPO_ROOT, synthProfile, venvTool } from '../helpers/synth';

/** table -> {column: type}, partition keys included, from the synthesized Glue tables. */
function glueSchema(): Record<string, Record<string, string>> {
  const tables = synthProfile('dev').templates.Lake.findResources('AWS::Glue::Table');
  return Object.fromEntries(
    Object.values(tables).map((table: any) => {
      const input = table.Properties.TableInput;
      const columns = [...input.StorageDescriptor.Columns, ...input.PartitionKeys].map((c: any) => [c.Name, c.Type]);
      return [input.Name, Object.fromEntries(columns)];
    }),
  );
}

function check(files: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glue-'));
  try {
    const schemaFile = path.join(dir, 'schema.json');
    fs.writeFileSync(schemaFile, JSON.stringify(glueSchema()));
    return spawnSync(venvTool('python'), ['scripts/check_athena_sql.py', schemaFile, ...files], { cwd: REPO_ROOT, encoding: 'utf8' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('reference queries (Athena engine v3)', () => {
  test('there is a reference query for each layer the serving layer exposes', () => {
    const withoutComments = (sql: string) => sql.replace(/--.*$/gm, '');
    const tables = new Set(referenceQueries().flatMap((q) => [...withoutComments(q.sql).matchAll(/FROM\s+(\w+)/gi)].map((m) => m[1])));
    expect([...tables].sort()).toEqual(['deadletter_speed', 'raw_transactions', 'speed_alerts', 'speed_spend_per_card_minute', 'speed_spend_per_customer_hour']);
  });

  test('every query parses as Athena SQL and names only tables and columns of the Glue catalog', () => {
    const files = fs.readdirSync(QUERIES_DIR).filter((f) => f.endsWith('.sql')).map((f) => path.join(QUERIES_DIR, f));
    const result = check(files);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toHaveLength(files.length);
    expect(result.status).toBe(0);
  });

  test('the check rejects a query naming a column the table does not have', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sql-'));
    const bad = path.join(dir, 'bad.sql');
    fs.writeFileSync(bad, '-- control\nSELECT card_id, amount FROM speed_spend_per_card_minute');
    const result = check([bad]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Column 'amount' could not be resolved");
  });
});
