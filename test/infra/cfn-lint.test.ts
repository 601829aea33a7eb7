import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, synthProfile, synthTargets, venvTool } from '../helpers/synth';

// cfn-lint's exit code is a bit mask: 1 fatal, 2 error, 4 warning, 8 informational.
const FATAL_OR_ERROR = 1 | 2;

describe.each(synthTargets())('cfn-lint, $label', ({ profile, context }) => {
  test('reports no error on any synthesized template', () => {
    const { outdir, templates: byStack } = synthProfile(profile, context);
    const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(outdir, f));
    expect(templates.length).toBe(Object.keys(byStack).length);
    const result = spawnSync(venvTool('cfn-lint'), ['--format', 'parseable', ...templates], { cwd: REPO_ROOT, encoding: 'utf8' });
    const errors = result.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
    expect(errors).toEqual([]);
    expect((result.status ?? 1) & FATAL_OR_ERROR).toBe(0);
  });
});
