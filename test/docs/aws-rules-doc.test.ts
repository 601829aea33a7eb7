import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AWS_RULES_DOC, declaredRules, renderDoc } from '../../scripts/aws-rules-doc';

describe('docs/aws-rules.md', () => {
  test('lists exactly the rules test/aws-rules holds (run `npm run docs:aws-rules` when this fails)', () => {
    const committed = fs.readFileSync(AWS_RULES_DOC, 'utf8');
    expect(renderDoc(committed, declaredRules())).toBe(committed);
  });

  test('every rule cites an AWS page, once', () => {
    const rows = declaredRules();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.source).toMatch(/^https:\/\/(docs\.aws\.amazon\.com|aws\.amazon\.com|trino\.io)\//);
    const keys = rows.map((r) => `${r.rule} ${r.source}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('a rule whose text is computed cannot be listed, and says so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-rules-'));
    try {
      fs.writeFileSync(path.join(dir, 'x.test.ts'), "const r = 'x';\nawsRule({ rule: r, source: 'https://docs.aws.amazon.com/a.html', check: () => {} });\n");
      expect(() => declaredRules(dir)).toThrow("test/aws-rules/x.test.ts:2: awsRule's rule and source must be string literals");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
