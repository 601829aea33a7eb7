import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { platformStacks } from '../../lib/platform';
import { synthProfile, synthTargets } from '../helpers/synth';

describe('cdk-nag AwsSolutions', () => {
  // Construct annotations share the report; only cdk-nag's own must be empty.
  const reportsOf = (profile: string, context: Record<string, unknown>, annotations: boolean) =>
    (synthProfile(profile, context).validationReports as { pluginName: string; violations: { ruleName: string }[] }[])
      .filter((report) => (report.pluginName === 'Construct Annotations') === annotations);

  test.each(synthTargets())('$label has no unacknowledged finding, errors or warnings', ({ profile, context }) => {
    expect(reportsOf(profile, context, false)).toEqual([]);
  });

  test.each(synthTargets())('$label: no construct annotation either', ({ profile, context }) => {
    const rules = reportsOf(profile, context, true).flatMap((report) => report.violations.map((v) => v.ruleName));
    expect(rules).toEqual([]);
  });

  // The check above passes on an empty report; prove the same wiring does report a finding.
  test('the same check reports a finding on an insecure bucket', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-control-'));
    const app = new App({ outdir });
    new s3.Bucket(new Stack(app, 'Control'), 'Insecure');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      expect(() => app.synth()).toThrow(/AwsSolutions-S1|AwsSolutions-S10/);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test.each(synthTargets())('$label: every acknowledgment carries a reason', ({ profile, context }) => {
    const { platform } = synthProfile(profile, context);
    const acknowledgments = platformStacks(platform).flatMap((stack) =>
      stack.node.findAll().flatMap((construct) => construct.node.metadata.filter((entry) => /acknowledge/i.test(entry.type))),
    );
    expect(acknowledgments.length).toBeGreaterThan(0);
    // Each entry maps the acknowledged finding to its reason: { "Annotation::AwsSolutions-S1": "why" }.
    for (const entry of acknowledgments) {
      for (const [finding, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        // cdk-nag's rules, and CloudFormation validation rules CDK itself acknowledges (e.g. on VPC flow logs).
        expect(finding).toMatch(/AwsSolutions-[A-Z]+\d+|CloudFormation-Validate::[EFW]\d+/);
        expect(typeof reason === 'string' && reason.length >= 30).toBe(true);
      }
    }
  });
});
