import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { loadConfig } from '../../lib/config';
import { buildRealtimeOnExistingStream } from '../../examples/realtime-on-existing-stream/app';
import { cdkJsonContext, scratchApp } from '../helpers/synth';

/**
 * examples/realtime-on-existing-stream composes the platform's constructs and layer stacks differently from
 * lib/platform.ts: existing Kinesis streams brought in with KinesisEventLog.fromStreamAttributes, the speed
 * layer and alert notifier on them, and a dashboard built from the layers' metric*() methods.
 */
const STREAMS = {
  eventsStreamArn: 'arn:aws:kinesis:eu-west-1:111122223333:stream/team-events',
  alertsStreamArn: 'arn:aws:kinesis:eu-west-1:111122223333:stream/team-alerts',
  streamKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
};

const app = scratchApp({ context: { ...cdkJsonContext(), profile: 'dev' } });
const { config } = loadConfig(app.node);
const built = buildRealtimeOnExistingStream(app, config, STREAMS);
const assembly = app.synth();
const template = (stack: { stackName: string }) => Template.fromJSON(assembly.getStackByName(stack.stackName).template);
const statementsOf = (t: Template) => Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);

describe('example: the real-time half on existing streams', () => {
  test('synthesizes under cdk-nag with no finding and no construct annotation', () => {
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const reports = report.pluginReports as { pluginName: string; violations: { ruleName: string }[] }[];
    expect(reports.flatMap((r) => r.violations.map((v) => `${r.pluginName}: ${v.ruleName}`))).toEqual([]);
  });

  test('the same build does run cdk-nag: one insecure bucket added fails its synth', () => {
    const control = scratchApp({ context: { ...cdkJsonContext(), profile: 'dev' } });
    const { lake } = buildRealtimeOnExistingStream(control, loadConfig(control.node).config, STREAMS);
    new s3.Bucket(lake, 'Insecure');
    expect(() => control.synth()).toThrow(/AwsSolutions-S1|AwsSolutions-S10/);
  });

  test('creates no stream: the existing ones feed the speed layer and the notifier', () => {
    for (const stack of [built.lake, built.speedLayer, built.alerts]) template(stack).resourceCountIs('AWS::Kinesis::Stream', 0);
    template(built.speedLayer).hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: STREAMS.eventsStreamArn, BisectBatchOnFunctionError: true });
    template(built.alerts).hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: STREAMS.alertsStreamArn, StartingPosition: 'TRIM_HORIZON' });
  });

  test('the speed layer may decrypt what it reads and encrypt what it writes with the given key, and write only the alerts stream', () => {
    const statements = statementsOf(template(built.speedLayer));
    const onKey = statements.filter((s: any) => [s.Resource].flat().includes(STREAMS.streamKeyArn)).flatMap((s: any) => [s.Action].flat());
    expect(onKey).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey']));
    const puts = statements.filter((s: any) => [s.Action].flat().includes('kinesis:PutRecords'));
    expect(puts.map((s: any) => s.Resource)).toEqual([STREAMS.alertsStreamArn]);
  });

  test("the dashboard's widgets are the layers' own metrics", () => {
    const body = JSON.stringify(template(built.dashboard).findResources('AWS::CloudWatch::Dashboard'));
    for (const metric of ['RecordsIn', 'RecordsDeadLettered', 'IteratorAge', 'AlertsPublished', 'ApproximateNumberOfMessagesVisible']) expect(body).toContain(metric);
    expect(body).toContain('speed-layer');
    expect(body).toContain('alert-notifier');
  });

  test('the idempotency window covers the given streams\' retention (7 days of events)', () => {
    template(built.alerts).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { IDEMPOTENCY_EXPIRY_SECONDS: String(7 * 24 * 3600) } },
    });
  });
});
