import { batchLayerEnvSchema } from '../../lambdas/batch-layer/env';
import { BATCH_VIEWS, lambdaViewColumns, lambdaViewName, lambdaViewSql, NO_BATCH_RUN } from '../../lib/batch';
import { INSERT_TIMEOUT } from '../../lib/constructs/batch-layer';
import { RUNTIME_ENVIRONMENT_KEYS } from '../../lib/stacks/speed-layer-stack';
import { allStates, definitionIn, grantsOf, pathThrough, render, successorsOf } from '../helpers/state-machine';
import { onlyResource, synthProfile, withArchitecture } from '../helpers/synth';

/**
 * The batch layer as synthesized: the run's state machine (its steps in order, retries, the
 * overlap guard, the failure paths before and during the switch), its schedule, the function,
 * the lambda_ views, and exactly what each role may do; for the Lambda architecture alone
 * (dev, Kinesis) and for both architectures (prod).
 */

const TARGETS = [
  { label: 'dev, architecture lambda', profile: 'dev', context: withArchitecture('dev', 'lambda'), name: 'tributary-dev', database: 'tributary_dev_lake' },
  { label: 'prod, architecture both', profile: 'prod', context: {}, name: 'tributary', database: 'tributary_lake' },
];
const viewNames = BATCH_VIEWS.map(lambdaViewName);
const switchStates = viewNames.map((view) => `Switch-${view}`);

describe.each(TARGETS)('the batch layer, $label', ({ profile, context, name, database }) => {
  const synthesized = () => synthProfile(profile, context);
  const template = () => synthesized().templates.BatchLayer;
  const definition = () => definitionIn(template());
  const states = () => definition().States;
  const stateMachine = () => onlyResource(template(), 'AWS::StepFunctions::StateMachine');
  const roleOf = (logicalIdPrefix: string) => Object.keys(template().findResources('AWS::IAM::Role')).find((id) => id.startsWith(logicalIdPrefix))!;

  test('is a standard JSONata workflow with a fixed name, traced, logging everything to a KMS-encrypted log group', () => {
    const { Properties } = stateMachine();
    expect(Properties.StateMachineType).toBe('STANDARD');
    expect(Properties.StateMachineName).toBe(`${name}-batch-layer`);
    expect(Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    expect(definition().QueryLanguage).toBe('JSONata');
    const logGroup = Object.values(template().findResources('AWS::Logs::LogGroup')).map((r: any) => r.Properties).find((p) => String(p.LogGroupName).startsWith('/aws/vendedlogs/states/'));
    expect(logGroup.LogGroupName).toBe(`/aws/vendedlogs/states/${name}-batch-layer`);
    expect(render(logGroup.KmsKeyId)).toBe('<LogKey.Arn>');
  });

  test('the happy path: guard, plan, every INSERT chunk, check, render the switch, switch every view one by one, record', () => {
    const s = states();
    const happy: Record<string, string> = { OtherRunInProgress: 'PlanRun', CheckRunCanServe: 'RenderSwitch' };
    const path = pathThrough(definition(), happy);
    expect(path).toEqual([
      'AcceptRun', 'ListRunningRuns', 'OtherRunInProgress', 'PlanRun', 'WriteBatchViews', 'ReadServedRun', 'CheckRunCanServe',
      'RenderSwitch', ...switchStates, 'RecordServedRun', 'RunServed',
    ]);
    expect(s.RunServed.Type).toBe('Succeed');
    expect(s.RunServed.Output).toMatchObject({ run: '{% $plan.run %}', watermarkMs: '{% $plan.watermarkMs %}', previousRun: '{% $served.run %}' });
  });

  test('the plan is the function\'s, for the execution\'s start time', () => {
    const plan = states().PlanRun;
    expect(plan.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect(plan.Arguments).toEqual({ FunctionName: '<Handler.Arn>', Payload: { action: 'plan', startedAt: '{% $states.context.Execution.StartTime %}' } });
    expect(plan.Assign.plan).toBe('{% $states.result.Payload %}');
  });

  test('every chunk is rendered by the function and run as one Athena INSERT in the serving workgroup, two at a time', () => {
    const map = states().WriteBatchViews;
    expect(map).toMatchObject({ Type: 'Map', Items: '{% $plan.chunks %}', MaxConcurrency: 2 });
    expect(map.ItemSelector).toEqual({
      run: '{% $plan.run %}', startedAtMs: '{% $plan.startedAtMs %}', watermarkMs: '{% $plan.watermarkMs %}', chunk: '{% $states.context.Map.Item.Value %}',
    });
    const processor = map.ItemProcessor;
    expect(processor.StartAt).toBe('RenderChunk');
    expect(processor.States.RenderChunk).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke', Next: 'InsertChunk', Output: '{% $states.result.Payload %}',
      Arguments: { FunctionName: '<Handler.Arn>', Payload: { action: 'render', chunk: '{% $states.input.chunk %}' } },
    });
    const insert = processor.States.InsertChunk;
    expect(insert).toMatchObject({
      Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
      End: true,
      TimeoutSeconds: INSERT_TIMEOUT.toSeconds(),
      Arguments: {
        QueryString: '{% $states.input.sql %}',
        // The same chunk of the same run is one query: a retried start returns it rather than inserting twice.
        ClientRequestToken: '{% $states.input.token %}',
        WorkGroup: `${name}-serving`,
        QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: database },
      },
    });
  });

  test('one run at a time: a run that finds another RUNNING execution of this state machine succeeds as skipped, before planning', () => {
    const s = states();
    expect(s.AcceptRun).toMatchObject({ Type: 'Pass', Next: 'ListRunningRuns' });
    expect(s.ListRunningRuns).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:sfn:listExecutions',
      Arguments: { StateMachineArn: '{% $states.context.StateMachine.Id %}', StatusFilter: 'RUNNING' },
      Next: 'OtherRunInProgress',
    });
    // This execution is RUNNING itself: only the others count.
    expect(s.ListRunningRuns.Assign.otherRuns).toBe('{% [$states.result.Executions[ExecutionArn != $states.context.Execution.Id].Name] %}');
    expect(s.OtherRunInProgress.Choices).toEqual([{ Condition: '{% $count($otherRuns) > 0 %}', Next: 'RunSkipped' }]);
    expect(s.OtherRunInProgress.Default).toBe('PlanRun');
    expect(s.RunSkipped).toMatchObject({ Type: 'Succeed', Output: { skipped: true } });
    // The role may list this state machine's executions, named literally (its own ARN would be a circular reference).
    expect(grantsOf(template(), roleOf('BatchRunRole'))).toContain(`states:ListExecutions arn:aws:states:REGION:ACCOUNT:stateMachine:${stateMachine().Properties.StateMachineName}`);
  });

  test('every task retries only its service\'s throttling and transient errors, with backoff and jitter; a failed query is never retried', () => {
    const tasks = Object.entries(allStates(definition())).filter(([, state]) => state.Type === 'Task');
    expect(tasks.map(([n]) => n).sort()).toEqual(
      ['InsertChunk', 'ListRunningRuns', 'PlanRun', 'ReadServedRun', 'RecordServedRun', 'RenderChunk', 'RenderSwitch', 'RevertView', ...switchStates].sort(),
    );
    const services: Record<string, [string, string]> = {
      lambda: ['Lambda', 'Lambda.TooManyRequestsException'], athena: ['Athena', 'Athena.TooManyRequestsException'],
      sfn: ['Sfn', 'Sfn.ThrottlingException'], ssm: ['Ssm', 'Ssm.ThrottlingException'],
    };
    for (const [name, task] of tasks) {
      const [service, throttling] = services[String(task.Resource).match(/:states:::(?:aws-sdk:)?([a-z0-9]+):/)![1]];
      expect([name, task.Retry?.length]).toEqual([name, 1]);
      const [retry] = task.Retry;
      for (const error of retry.ErrorEquals) expect([name, error]).toEqual([name, expect.stringMatching(new RegExp(`^${service}\\.[A-Za-z]+Exception$`))]);
      expect(retry.ErrorEquals).toContain(throttling);
      expect(retry).toMatchObject({ JitterStrategy: 'FULL' });
      expect(retry.BackoffRate).toBeGreaterThan(1);
      expect(retry.MaxAttempts).toBeGreaterThanOrEqual(6);
      expect(task.TimeoutSeconds).toBeGreaterThan(0);
    }
    const insert = allStates(definition()).InsertChunk;
    expect(insert.Retry[0].ErrorEquals).not.toContain('States.TaskFailed');
    expect(insert.Retry[0].ErrorEquals).not.toContain('States.ALL');
  });

  test('every failure before the switch ends in RunFailed, which touches nothing: the last good run keeps serving', () => {
    const s = states();
    const before = new Set<string>();
    const queue = ['AcceptRun'];
    while (queue.length) {
      const at = queue.shift()!;
      if (before.has(at) || at === switchStates[0]) continue;
      before.add(at);
      queue.push(...successorsOf(s[at]));
    }
    const steps = [...before].filter((n) => ['Task', 'Map'].includes(s[n].Type));
    expect(steps.sort()).toEqual(['ListRunningRuns', 'PlanRun', 'ReadServedRun', 'RenderSwitch', 'WriteBatchViews']);
    for (const step of steps) {
      expect([step, s[step].Catch]).toEqual([step, [{ ErrorEquals: ['States.ALL'], Next: 'RunFailed', Assign: expect.objectContaining({ failedStep: step }) }]]);
    }
    // Before the switch nothing changes a view or the served run: no view statement is run, nothing is put.
    for (const step of before) expect(JSON.stringify(s[step])).not.toMatch(/CREATE OR REPLACE VIEW|putParameter|\$switchSql/);
    // The ends reachable before the switch: success, skip, or a Fail state.
    const ends = [...before].filter((n) => !successorsOf(s[n]).length).sort();
    expect(ends).toEqual(['RedrivenRun', 'RunFailed', 'RunSkipped', 'WatermarkNotAhead']);
    expect(s.RunFailed).toMatchObject({ Type: 'Fail', Error: 'Batch.RunFailed' });
    expect(s.RunFailed.Cause).toContain('The lambda_ views are unchanged.');
  });

  test('only a fresh run whose watermark is ahead of the served run\'s may switch', () => {
    const s = states();
    expect(s.ReadServedRun).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:ssm:getParameter', Arguments: { Name: '<ServedRun>' }, Assign: { served: '{% $parse($states.result.Parameter.Value) %}' },
    });
    expect(s.CheckRunCanServe.Choices).toEqual([
      { Condition: '{% $exists($states.context.Execution.RedriveCount) and $states.context.Execution.RedriveCount > 0 %}', Next: 'RedrivenRun' },
      { Condition: '{% $plan.watermarkMs <= $served.watermarkMs %}', Next: 'WatermarkNotAhead' },
    ]);
    expect(s.CheckRunCanServe.Default).toBe('RenderSwitch');
    expect(s.RedrivenRun).toMatchObject({ Type: 'Fail', Error: 'Batch.RedrivenRun' });
    expect(s.WatermarkNotAhead).toMatchObject({ Type: 'Fail', Error: 'Batch.WatermarkNotAhead' });
  });

  test('the switch: one CREATE OR REPLACE VIEW per lambda_ view, in order, rendered for the run and the served run; then the run is recorded', () => {
    const s = states();
    expect(s.RenderSwitch.Arguments.Payload).toEqual({
      action: 'switch', run: '{% $plan.run %}', watermarkMs: '{% $plan.watermarkMs %}', served: { run: '{% $served.run %}', watermarkMs: '{% $served.watermarkMs %}' },
    });
    expect(s.RenderSwitch.Assign).toEqual({ switchSql: '{% $states.result.Payload.statements %}', revertSql: '{% $states.result.Payload.revertStatements %}' });
    viewNames.forEach((view, index) => {
      const step = s[switchStates[index]];
      expect(step).toMatchObject({
        Resource: 'arn:aws:states:::athena:startQueryExecution.sync',
        Arguments: { QueryString: `{% $lookup($switchSql, '${view}') %}`, WorkGroup: `${name}-serving`, QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: database } },
        Assign: { switched: viewNames.slice(0, index + 1) },
      });
    });
    expect(s.RecordServedRun).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:ssm:putParameter',
      Arguments: { Name: '<ServedRun>', Value: "{% $string({'run': $plan.run, 'watermarkMs': $plan.watermarkMs}) %}", Overwrite: true },
      Next: 'RunServed',
    });
  });

  test('a failure during the switch re-points the views already switched at the served run, then fails', () => {
    const s = states();
    for (const step of [...switchStates, 'RecordServedRun']) {
      expect([step, s[step].Catch]).toEqual([step, [{ ErrorEquals: ['States.ALL'], Next: 'RevertSwitchedViews', Assign: expect.objectContaining({ failedStep: step }) }]]);
    }
    const revert = s.RevertSwitchedViews;
    expect(revert).toMatchObject({
      Type: 'Map', Items: '{% $switched %}', Next: 'RunFailed',
      ItemSelector: { view: '{% $states.context.Map.Item.Value %}', sql: '{% $lookup($revertSql, $states.context.Map.Item.Value) %}' },
    });
    expect(revert.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'RevertFailed' }]);
    expect(revert.ItemProcessor.States.RevertView).toMatchObject({ Resource: 'arn:aws:states:::athena:startQueryExecution.sync', Arguments: { QueryString: '{% $states.input.sql %}', WorkGroup: `${name}-serving` } });
    expect(s.RevertFailed).toMatchObject({ Type: 'Fail', Error: 'Batch.RevertFailed' });
  });

  test('the state machine role holds exactly the permissions the steps and Athena\'s reads and writes use', () => {
    const arn = (service: string, resource: string) => `arn:aws:${service}:REGION:ACCOUNT:${resource}`;
    const catalog = [arn('glue', 'catalog'), arn('glue', `database/${database}`)];
    const table = (t: string) => arn('glue', `table/${database}/${t}`);
    const batchTables = BATCH_VIEWS.map((v) => table(`batch_${v}`));
    const views = viewNames.map(table);
    const sources = ['raw_transactions', 'speed_spend_per_card_minute', 'speed_spend_per_customer_hour', 'speed_alerts'].map(table);
    const lake = `arn:aws:s3:::${name}-lake-ACCOUNT-REGION`;
    const viaS3 = ' if {"StringEquals":{"kms:ViaService":"s3.REGION.amazonaws.com"}}';
    const expected = [
      'lambda:InvokeFunction <Handler.Arn>',
      `states:ListExecutions ${arn('states', `stateMachine:${name}-batch-layer`)}`,
      ...['GetParameter', 'PutParameter'].map((a) => `ssm:${a} ${arn('ssm', 'parameter<ServedRun>')}`),
      ...['StartQueryExecution', 'GetQueryExecution', 'StopQueryExecution'].map((a) => `athena:${a} ${arn('athena', `workgroup/${name}-serving`)}`),
      `athena:GetDataCatalog ${arn('athena', 'datacatalog/AwsDataCatalog')}`,
      ...catalog.map((r) => `glue:GetDatabase ${r}`),
      ...[...catalog, ...sources, ...batchTables, ...views].map((r) => `glue:GetTable ${r}`),
      ...[...catalog, ...batchTables].flatMap((r) => ['GetPartition', 'GetPartitions', 'CreatePartition', 'BatchCreatePartition'].map((a) => `glue:${a} ${r}`)),
      ...[...catalog, ...views].flatMap((r) => [`glue:CreateTable ${r}`, `glue:UpdateTable ${r}`]),
      // Athena reads raw/ and writes batch/ as the caller.
      `s3:GetObject ${lake}/raw/*`,
      `s3:ListBucket ${lake} if {"StringLike":{"s3:prefix":["raw/*","raw"]}}`,
      `s3:GetObject ${lake}/batch/*`,
      `s3:ListBucket ${lake} if {"StringLike":{"s3:prefix":["batch/*","batch"]}}`,
      ...['PutObject', 'AbortMultipartUpload'].map((a) => `s3:${a} ${lake}/batch/*`),
      `s3:GetBucketLocation ${lake}`,
      ...['GetBucketLocation', 'ListBucket'].map((a) => `s3:${a} <lake:QueryResultsArn>`),
      ...['GetObject', 'PutObject', 'AbortMultipartUpload', 'ListMultipartUploadParts'].map((a) => `s3:${a} <lake:QueryResultsArn>/athena/*`),
      ...['Decrypt', 'GenerateDataKey'].map((a) => `kms:${a} <lake:KeyArn>${viaS3}`),
      // No resource-level permissions exist for these (acknowledged, docs/security.md).
      ...['CreateLogDelivery', 'GetLogDelivery', 'UpdateLogDelivery', 'DeleteLogDelivery', 'ListLogDeliveries', 'PutResourcePolicy', 'DescribeResourcePolicies', 'DescribeLogGroups'].map((a) => `logs:${a} *`),
      ...['PutTraceSegments', 'PutTelemetryRecords', 'GetSamplingRules', 'GetSamplingTargets'].map((a) => `xray:${a} *`),
    ];
    expect(grantsOf(template(), roleOf('BatchRunRole'))).toEqual([...new Set(expected)].sort());
  });

  test('the schedule starts the state machine every scheduleHours, with a role that can start it and nothing else', () => {
    const { config } = synthesized();
    const schedule = onlyResource(template(), 'AWS::Scheduler::Schedule').Properties;
    expect(schedule).toMatchObject({ Name: `${name}-batch-layer`, State: 'ENABLED', FlexibleTimeWindow: { Mode: 'OFF' } });
    expect(schedule.ScheduleExpression).toBe(`rate(${config.batch.scheduleHours} hours)`);
    expect(render(schedule.Target.Arn)).toBe('<BatchRunStateMachine>');
    const scheduleRole = roleOf('ScheduleRole');
    expect(render(schedule.Target.RoleArn)).toBe(`<${scheduleRole.replace(/[0-9A-F]{8}$/, '')}.Arn>`);
    expect(schedule.Target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 });
    expect(grantsOf(template(), scheduleRole)).toEqual(['states:StartExecution <BatchRunStateMachine>']);
    const [trust] = template().toJSON().Resources[scheduleRole].Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(render(trust.Condition.StringEquals['aws:SourceAccount'])).toBe('ACCOUNT');
    // The schedule's group, the source Scheduler presents (test/aws-rules/scheduler.test.ts).
    expect(schedule.GroupName).toBeUndefined(); // the default group
    expect(render(trust.Condition.ArnEquals['aws:SourceArn'])).toBe('arn:aws:scheduler:REGION:ACCOUNT:schedule-group/default');
  });

  test('the function gets exactly its environment, and may only list the day prefixes of raw/', () => {
    const fn = onlyResource(template(), 'AWS::Lambda::Function').Properties;
    const variables = fn.Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual([...Object.keys(batchLayerEnvSchema.shape), ...RUNTIME_ENVIRONMENT_KEYS].sort());
    expect(render(variables.LAKE_BUCKET_NAME)).toBe(`${name}-lake-ACCOUNT-REGION`);
    expect(variables).toMatchObject({ RAW_PREFIX: 'raw', DATABASE_NAME: database, SETTLE_MINUTES: String(synthesized().config.batch.settleMinutes) });
    const grants = grantsOf(template(), roleOf('HandlerRole'));
    expect(grants.filter((g) => g.startsWith('s3:'))).toEqual([`s3:ListBucket arn:aws:s3:::${name}-lake-ACCOUNT-REGION if {"StringEquals":{"s3:prefix":"raw/"}}`]);
    expect(grants.filter((g) => !/^(s3|logs|xray):/.test(g))).toEqual([]);
  });

  test('the lambda_ views are deployed reading no run (the speed layer alone), and the served-run parameter says so', () => {
    const views = Object.values(template().findResources('AWS::Glue::Table')).map((r: any) => r.Properties);
    expect(views.map((v) => v.TableInput.Name).sort()).toEqual([...viewNames].sort());
    for (const view of views) {
      const batchView = BATCH_VIEWS.find((v) => lambdaViewName(v) === view.TableInput.Name)!;
      expect(view.DatabaseName).toBe(database);
      expect(view.TableInput).toMatchObject({ TableType: 'VIRTUAL_VIEW', Parameters: { presto_view: 'true' }, ViewExpandedText: '/* Presto View */' });
      const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(view.TableInput.ViewOriginalText)![1];
      const presto = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
      expect(presto).toMatchObject({ catalog: 'awsdatacatalog', schema: database, originalSql: lambdaViewSql(database, batchView, NO_BATCH_RUN) });
      expect(view.TableInput.StorageDescriptor.Columns).toEqual(lambdaViewColumns(batchView).map((c) => ({ Name: c.name, Type: c.type })));
      expect(presto.columns.map((c: any) => c.name)).toEqual(lambdaViewColumns(batchView).map((c) => c.name));
    }
    template().hasResourceProperties('AWS::SSM::Parameter', { Name: `/${name}/batch/served-run`, Type: 'String', Value: JSON.stringify(NO_BATCH_RUN) });
  });

  test('batch/ expires after expireRunsAfterDays', () => {
    const { config, templates } = synthesized();
    const lake = Object.values(templates.Lake.findResources('AWS::S3::Bucket')).map((b: any) => b.Properties).find((p) => p.BucketName);
    expect(lake.LifecycleConfiguration.Rules).toContainEqual({ Id: 'expire-batch-runs', Prefix: 'batch/', ExpirationInDays: config.batch.expireRunsAfterDays, Status: 'Enabled' });
  });
});

test('the schedule follows batch.scheduleHours, in the singular for one hour', () => {
  const { templates } = synthProfile('dev', { ...withArchitecture('dev', 'lambda'), 'batch.scheduleHours': '1' });
  expect(onlyResource(templates.BatchLayer, 'AWS::Scheduler::Schedule').Properties.ScheduleExpression).toBe('rate(1 hour)');
});

describe('the architecture decides the processing paths', () => {
  const types = (templates: Record<string, { toJSON(): any }>) =>
    new Set(Object.values(templates).flatMap((t) => Object.values(t.toJSON().Resources ?? {}).map((r: any) => r.Type)));
  const glueTables = (templates: Record<string, { findResources(type: string): Record<string, any> }>) =>
    Object.values(templates).flatMap((t) => Object.values(t.findResources('AWS::Glue::Table')).map((r: any) => r.Properties.TableInput.Name as string));

  test('kappa builds stream processing and the replay, and nothing of the batch layer', () => {
    const { templates, platform } = synthProfile('dev');
    expect(Object.keys(templates)).toEqual(['EventLog', 'Lake', 'Archive', 'SpeedLayer', 'Alerts', 'StreamProcessing', 'Serving', 'Reprocessing', 'Observability']);
    expect(platform.batchLayer).toBeUndefined();
    expect(types(templates).has('AWS::Scheduler::Schedule')).toBe(false);
    expect(glueTables(templates).filter((t) => t.startsWith('lambda_'))).toEqual([]);
    const lake = Object.values(templates.Lake.findResources('AWS::S3::Bucket')).map((b: any) => b.Properties).find((p) => p.BucketName);
    expect(JSON.stringify(lake.LifecycleConfiguration)).not.toContain('batch/');
  });

  test('lambda builds the batch layer and no Flink job, replay or serving_ views, in every log', () => {
    for (const profile of ['dev', 'msk']) {
      const { templates, platform } = synthProfile(profile, withArchitecture(profile, 'lambda'));
      expect(Object.keys(templates)).toEqual([...(profile === 'msk' ? ['Network'] : []), 'EventLog', 'Lake', 'Archive', 'SpeedLayer', 'Alerts', 'Serving', 'BatchLayer', 'Observability']);
      expect(platform.streamProcessing).toBeUndefined();
      expect(platform.reprocessing).toBeUndefined();
      expect(types(templates).has('AWS::KinesisAnalyticsV2::Application')).toBe(false);
      expect(glueTables(templates).filter((t) => t.startsWith('serving_'))).toEqual([]);
      expect(glueTables(templates).filter((t) => t.startsWith('lambda_')).sort()).toEqual([...viewNames].sort());
      // The dashboard has no Flink row, and the alarms no Flink downtime.
      const dashboard = JSON.stringify(onlyResource(templates.Observability, 'AWS::CloudWatch::Dashboard').Properties.DashboardBody);
      expect(dashboard).not.toContain('AWS/KinesisAnalytics');
      expect(dashboard).toContain('## Batch layer');
      const alarms = Object.values(templates.Observability.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties.MetricName);
      expect(alarms).not.toContain('downtime');
      if (profile === 'msk') expect(alarms).toContain('ExecutionsFailed');
    }
  });

  test('both builds everything; a failed batch run raises an alarm', () => {
    const { templates } = synthProfile('prod');
    expect(Object.keys(templates)).toEqual(['EventLog', 'Lake', 'Archive', 'SpeedLayer', 'Alerts', 'StreamProcessing', 'Serving', 'Reprocessing', 'BatchLayer', 'Observability']);
    const alarm = Object.values(templates.Observability.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties).find((a) => a.MetricName === 'ExecutionsFailed');
    expect(alarm).toMatchObject({ Namespace: 'AWS/States', Statistic: 'Sum', Threshold: 0, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold' });
    expect(JSON.stringify(alarm.Dimensions)).toContain('BatchRunStateMachine');
    expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
  });
});
