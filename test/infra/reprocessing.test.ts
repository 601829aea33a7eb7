import { parseConfig, defaultConfig } from '../../lib/config';
import { lakeTables } from '../../lib/lake-catalog';
import { servingViewName, versionedTables } from '../../lib/constructs/reprocessing';
import { allStates, type Definition, definitionIn, pathThrough, render, type State, successorsOf } from '../helpers/state-machine';
import { onlyResource, synthProfile } from '../helpers/synth';

/**
 * The Kappa replay as synthesized: the state machine's states, transitions,
 * retries and failure paths, its role's exact permissions, the serving views
 * and the version parameter, for a Kinesis log (dev) and an MSK log (msk).
 */

const reprocessing = (profile: string) => synthProfile(profile).templates.Reprocessing;

const definitionOf = (profile: string): Definition => definitionIn(reprocessing(profile));

const tables = versionedTables(lakeTables());
const switchStates = tables.map((t) => `Switch-${servingViewName(t)}`);

describe.each([
  { profile: 'dev', database: 'tributary_dev_lake', name: 'tributary-dev', source: 'kinesis' },
  { profile: 'msk', database: 'tributary_msk_lake', name: 'tributary-msk', source: 'kafka' },
])('the Kappa replay, profile $profile', ({ profile, database, name, source }) => {
  const definition = () => definitionOf(profile);
  const states = () => definition().States;

  test('is a standard JSONata workflow, traced, logging everything to a KMS-encrypted log group', () => {
    const { Properties } = onlyResource(reprocessing(profile), 'AWS::StepFunctions::StateMachine');
    expect(Properties.StateMachineType).toBe('STANDARD');
    expect(Properties.StateMachineName).toBe(`${name}-kappa-replay`);
    expect(Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    expect(definition().QueryLanguage).toBe('JSONata');
    const logGroup = onlyResource(reprocessing(profile), 'AWS::Logs::LogGroup').Properties;
    expect(logGroup.LogGroupName).toBe(`/aws/vendedlogs/states/${name}-kappa-replay`);
    expect(render(logGroup.KmsKeyId)).toBe('<LogKey.Arn>');
  });

  test('the happy path runs validate, read, create, start, catch up, switch every view, record, retire, in that order', () => {
    const s = states();
    // The branch each Choice takes when all goes well.
    const happy: Record<string, string> = {
      CheckInput: 'CheckReplayHorizon', CheckReplayHorizon: 'AcceptRequest', ReplayTargetEmpty: 'CreateReplayApplication',
      ReplayStarted: 'WaitBetweenLagPolls', ReplayStillRunning: 'ReadReplayLag', CaughtUp: switchStates[0],
      RetiringApplicationRunning: 'StopRetiringApplication',
    };
    const path = pathThrough(definition(), happy);
    expect(path).toEqual([
      'CheckInput', 'CheckReplayHorizon', 'AcceptRequest', 'ReadServingVersion', 'DescribeServingApplication',
      'CheckReplayTargetEmpty', 'ReplayTargetEmpty', 'CreateReplayApplication', 'StartReplayApplication',
      'WaitForReplayStart', 'DescribeStartingReplay', 'ReplayStarted',
      'WaitBetweenLagPolls', 'DescribeRunningReplay', 'ReplayStillRunning', 'ReadReplayLag', 'CaughtUp',
      ...switchStates, 'RecordServingVersion',
      'DescribeRetiringApplication', 'RetiringApplicationRunning', 'StopRetiringApplication', 'ReplayComplete',
    ]);
    expect(s.ReplayComplete.Type).toBe('Succeed');
  });

  test('both waits are bounded loops: the start by startTimeoutMinutes, the catch-up by maxCatchUpHours', () => {
    const s = states();
    const { reprocessing: config } = synthProfile(profile).config;
    expect(s.WaitForReplayStart.Seconds).toBe(30);
    expect(s.ReplayStarted.Choices.map((c: State) => c.Next)).toEqual(['WaitBetweenLagPolls', 'WaitForReplayStart', 'ReplayStartTimedOut']);
    expect(s.ReplayStarted.Choices[1].Condition).toContain(`$startPolls < ${(config.startTimeoutMinutes * 60) / 30}`);
    expect(s.ReplayStarted.Default).toBe('ReplayDidNotStart');
    expect(s.WaitBetweenLagPolls.Seconds).toBe(config.pollIntervalSeconds);
    expect(s.CaughtUp.Choices.map((c: State) => [c.Condition, c.Next])).toEqual([
      [`{% $streak >= ${config.caughtUpPolls} %}`, switchStates[0]],
      [`{% $lagPolls >= ${Math.ceil((config.maxCatchUpHours * 3600) / config.pollIntervalSeconds)} %}`, 'CatchUpTimedOut'],
    ]);
    expect(s.CaughtUp.Default).toBe('WaitBetweenLagPolls');
    // A streak counts consecutive polls at or under the threshold, and restarts at any other value (no data is -1).
    expect(s.ReadReplayLag.Assign.streak).toContain(`$l >= 0 and $l <= ${config.caughtUpLagSeconds} ? $streak + 1 : 0`);
  });

  test('the lag is the replay source connector\'s own metric, read with GetMetricData', () => {
    const read = states().ReadReplayLag;
    expect(read.Resource).toBe('arn:aws:states:::aws-sdk:cloudwatch:getMetricData');
    const expression: string = read.Arguments.MetricDataQueries[0].Expression;
    if (source === 'kinesis') {
      expect(expression).toContain('Namespace=\\"AWS/KinesisAnalytics\\" MetricName=\\"millisBehindLatest\\" Application=\\"" & $replayApp');
      expect(read.Assign.lag).toContain('$v * 0.001');
    } else {
      expect(expression).toContain('Namespace=\\"AWS/Kafka\\" MetricName=\\"EstimatedMaxTimeLag\\" \\"Consumer Group\\"=\\"tributary-msk-events-stream-v" & $string($next)');
      expect(read.Assign.lag).toContain('$v * 1 ');
    }
  });

  test('the input is validated: an ISO-8601 UTC time and a reason, inside the horizon less the margin, not in the future', () => {
    const s = states();
    const { config } = synthProfile(profile);
    expect(s.CheckInput.Choices).toHaveLength(1);
    expect(s.CheckInput.Choices[0].Condition).toContain("$type($states.input.fromTimestamp) = 'string'");
    expect(s.CheckInput.Choices[0].Condition).toContain('T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?Z$/');
    expect(s.CheckInput.Choices[0].Condition).toContain('$length($trim($states.input.reason)) > 0');
    expect(s.CheckInput.Default).toBe('InvalidInput');
    expect(s.InvalidInput).toMatchObject({ Type: 'Fail', Error: 'Reprocessing.InvalidInput' });
    const retention = config.eventLog[config.eventLog.type].retentionHours * 3600_000;
    const earliest = retention - config.reprocessing.horizonMarginMinutes * 60_000;
    expect(s.CheckReplayHorizon.Choices.map((c: State) => [c.Condition, c.Next])).toEqual([
      [`{% $toMillis($states.input.fromTimestamp) < $millis() - ${earliest} %}`, 'OutsideReplayHorizon'],
      ['{% $toMillis($states.input.fromTimestamp) > $millis() %}', 'OutsideReplayHorizon'],
    ]);
    expect(s.OutsideReplayHorizon).toMatchObject({ Type: 'Fail', Error: 'Reprocessing.OutsideReplayHorizon' });
  });

  test('every task retries its service\'s transient errors with backoff and jitter', () => {
    const services: Record<string, string> = { kinesisanalyticsv2: 'KinesisAnalyticsV2', ssm: 'Ssm', s3: 'S3', cloudwatch: 'CloudWatch', athena: 'Athena' };
    const tasks = Object.entries(allStates(definition())).filter(([, state]) => state.Type === 'Task');
    // 13 SDK calls, one view switch per table, and the revert inside its Map.
    expect(tasks.length).toBe(14 + tables.length);
    for (const [name, task] of tasks) {
      const service = services[String(task.Resource).match(/:states:::(?:aws-sdk:)?([a-z0-9]+):/)![1]];
      expect([name, task.Retry?.length]).toEqual([name, 1]);
      const [retry] = task.Retry;
      expect(retry.ErrorEquals.length).toBeGreaterThanOrEqual(3);
      for (const error of retry.ErrorEquals) expect([name, error]).toEqual([name, expect.stringMatching(new RegExp(`^${service}\\.[A-Za-z]+Exception$`))]);
      expect(retry.ErrorEquals).toContain(`${service}.ThrottlingException`);
      expect(retry).toMatchObject({ BackoffRate: expect.any(Number), JitterStrategy: 'FULL' });
      expect(retry.BackoffRate).toBeGreaterThan(1);
      expect(retry.MaxAttempts).toBeGreaterThanOrEqual(6);
      expect(task.TimeoutSeconds).toBeGreaterThan(0);
    }
  });

  test('every failure before the switch goes to the cleanup, which stops and deletes only a replay it created, then fails', () => {
    const s = states();
    // Everything reachable from the accepted request without entering the switch.
    const before = new Set<string>();
    const queue = ['AcceptRequest'];
    const cleanup = new Set(['ReplayCreated', 'StopReplayApplication', 'DeleteReplayApplication', 'ReplayFailed', 'CleanUpIncomplete']);
    while (queue.length) {
      const at = queue.shift()!;
      if (before.has(at) || at === switchStates[0] || cleanup.has(at)) continue;
      before.add(at);
      queue.push(...successorsOf(s[at]));
    }
    const steps = [...before].filter((n) => ['Task', 'Map'].includes(s[n].Type));
    expect(steps.sort()).toEqual(['CheckReplayTargetEmpty', 'CreateReplayApplication', 'DescribeRunningReplay', 'DescribeServingApplication',
      'DescribeStartingReplay', 'ReadReplayLag', 'ReadServingVersion', 'StartReplayApplication'].sort());
    for (const step of steps) {
      expect([step, s[step].Catch]).toEqual([step, [{ ErrorEquals: ['States.ALL'], Next: 'ReplayCreated', Assign: expect.objectContaining({ failedStep: step }) }]]);
    }
    // The failures that are decisions, not errors, take the same way.
    for (const decided of ['ReplayTargetNotEmpty', 'ReplayStartTimedOut', 'ReplayDidNotStart', 'ReplayStopped', 'CatchUpTimedOut']) {
      expect([decided, s[decided].Type, s[decided].Next, s[decided].Assign.error]).toEqual([decided, 'Pass', 'ReplayCreated', `Reprocessing.${decided}`]);
    }
    // No state before the switch touches a view.
    for (const step of steps) expect(JSON.stringify(s[step])).not.toContain('CREATE OR REPLACE VIEW');
    expect(s.ReplayCreated.Choices).toEqual([{ Condition: '{% $created %}', Next: 'StopReplayApplication' }]);
    expect(s.ReplayCreated.Default).toBe('ReplayFailed');
    expect(s.CreateReplayApplication.Assign.created).toBe(true);
    expect(s.StopReplayApplication).toMatchObject({ Resource: 'arn:aws:states:::aws-sdk:kinesisanalyticsv2:stopApplication', Arguments: { ApplicationName: '{% $replayApp %}', Force: true }, Next: 'DeleteReplayApplication' });
    expect(s.StopReplayApplication.Catch[0].Next).toBe('DeleteReplayApplication');
    expect(s.DeleteReplayApplication).toMatchObject({ Resource: 'arn:aws:states:::aws-sdk:kinesisanalyticsv2:deleteApplication', Arguments: { ApplicationName: '{% $replayApp %}' }, Next: 'ReplayFailed' });
    expect(s.DeleteReplayApplication.Catch[0].Next).toBe('CleanUpIncomplete');
    expect(s.ReplayFailed).toMatchObject({ Type: 'Fail', Error: 'Reprocessing.ReplayFailed' });
    expect(s.ReplayFailed.Cause).toContain('The serving views are unchanged');
  });

  test('a failure during the switch re-points the views already switched to v=n, then cleans up', () => {
    const s = states();
    switchStates.forEach((step, index) => {
      expect(s[step].Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'RevertSwitchedViews', Assign: expect.objectContaining({ failedStep: step }) }]);
      expect(s[step].Assign.switched).toEqual(tables.slice(0, index + 1).map(servingViewName));
    });
    expect(s.RecordServingVersion.Catch[0].Next).toBe('RevertSwitchedViews');
    const revert = s.RevertSwitchedViews;
    expect(revert).toMatchObject({ Type: 'Map', Items: '{% $switched %}', ItemSelector: { view: '{% $states.context.Map.Item.Value %}', version: '{% $current %}' }, Next: 'ReplayCreated' });
    expect(revert.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'RevertFailed' }]);
    const revertView = revert.ItemProcessor.States.RevertView;
    expect(revertView.Resource).toBe('arn:aws:states:::athena:startQueryExecution.sync');
    for (const table of tables) {
      expect(revertView.Arguments.QueryString).toContain(`CREATE OR REPLACE VIEW \\"${database}\\".\\"${servingViewName(table)}\\" AS SELECT`);
    }
    expect(revertView.Arguments.QueryString).toContain('$string($states.input.version)');
    expect(s.RevertFailed).toMatchObject({ Type: 'Fail', Error: 'Reprocessing.RevertFailed' });
  });

  test('each switch is one CREATE OR REPLACE VIEW of v=n+1 in the serving workgroup', () => {
    const s = states();
    tables.forEach((table, index) => {
      const step = s[switchStates[index]];
      expect(step.Resource).toBe('arn:aws:states:::athena:startQueryExecution.sync');
      expect(step.Arguments.WorkGroup).toBe(`${name}-serving`);
      expect(step.Arguments.QueryExecutionContext).toEqual({ Catalog: 'AwsDataCatalog', Database: database });
      const sql = step.Arguments.QueryString as string;
      expect(sql).toContain(`CREATE OR REPLACE VIEW \\"${database}\\".\\"${servingViewName(table)}\\" AS SELECT`);
      expect(sql).toContain(`FROM \\"${database}\\".\\"${table.tableName}\\" WHERE \\"v\\" = '" & $string($next) & "'"`);
    });
    expect(s.RecordServingVersion).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:ssm:putParameter',
      Arguments: { Name: '<ServingVersion>', Value: '{% $string($next) %}', Overwrite: true },
    });
  });

  test('the replay application copies the serving one, overriding the version, the start time, its own consumer and the alerts sink', () => {
    const s = states();
    // The parameter's name, by reference (its Name is checked below).
    expect(s.ReadServingVersion.Arguments).toEqual({ Name: '<ServingVersion>' });
    expect(s.ReadServingVersion.Assign).toMatchObject({
      servingApp: `{% '${name}-stream-v' & $string($number($states.result.Parameter.Value)) %}`,
      replayApp: `{% '${name}-stream-v' & $string($number($states.result.Parameter.Value) + 1) %}`,
    });
    expect(s.DescribeServingApplication.Arguments).toEqual({ ApplicationName: '{% $servingApp %}' });
    const create = s.CreateReplayApplication;
    expect(create.Arguments.ServiceExecutionRole).toBe('<ReplayApplicationRole.Arn>');
    const configuration: string = create.Arguments.ApplicationConfiguration;
    expect(configuration).toContain("$g.PropertyGroupId = 'Job' ? $merge([$g.PropertyMap, {'output.version': $string($next)}])");
    expect(configuration).toContain("$g.PropertyGroupId = 'Source' ? $merge([$g.PropertyMap, {'start.timestamp': $fromTimestamp}])");
    expect(configuration).toContain("{'efo.consumer.name': $replayApp}");
    // A replay's alerts go to its view only: it must not page anyone about past transactions.
    expect(configuration).toContain("$g.PropertyGroupId = 'Alerts' ? {'sink': 'none'}");
    for (const copied of ['S3ApplicationCodeLocationDescription', 'CheckpointConfigurationDescription', 'VpcConfigurationDescriptions', 'ApplicationEncryptionConfigurationDescription']) {
      expect(configuration).toContain(copied);
    }
    expect(s.StartReplayApplication.Arguments.RunConfiguration.ApplicationRestoreConfiguration).toEqual({ ApplicationRestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' });
    // v=n+1 must be empty: its prefixes are listed first.
    expect(s.CheckReplayTargetEmpty.Items).toEqual(tables.map((t) => t.prefix));
    expect(s.ReplayTargetEmpty.Choices).toEqual([{ Condition: '{% $existingObjects > 0 %}', Next: 'ReplayTargetNotEmpty' }]);
    // Retiring stops the old application gracefully (a snapshot), and keeps its data.
    expect(s.StopRetiringApplication.Arguments).toEqual({ ApplicationName: '{% $servingApp %}', Force: false });
    expect(s.StopRetiringApplication.Catch[0].Next).toBe('RetireIncomplete');
    expect(s.ReplayComplete.Output.retiredData).toBe('kept');
  });

  test('the state machine role holds exactly the permissions the steps use', () => {
    const template = reprocessing(profile);
    const { logicalId: roleId } = onlyResource(template, 'AWS::StepFunctions::StateMachine');
    const roleRef = template.toJSON().Resources[roleId].Properties.RoleArn['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleRef));
    const granted = new Set<string>();
    for (const policy of policies as any[]) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        expect(statement.Effect).toBe('Allow');
        const intrinsic = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => k.startsWith('Fn::') || k === 'Ref');
        const condition = statement.Condition ? ` if ${JSON.stringify(statement.Condition, (_k, v) => (intrinsic(v) ? render(v) : v))}` : '';
        for (const action of [statement.Action].flat()) for (const resource of [statement.Resource].flat()) granted.add(`${action} ${render(resource)}${condition}`);
      }
    }
    const arn = (service: string, resource: string) => `arn:aws:${service}:REGION:ACCOUNT:${resource}`;
    const glue = [arn('glue', 'catalog'), arn('glue', `database/${database}`)];
    const views = tables.map((t) => arn('glue', `table/${database}/${servingViewName(t)}`));
    const sources = tables.map((t) => arn('glue', `table/${database}/${t.tableName}`));
    const lakeBucket = `arn:aws:s3:::${name}-lake-ACCOUNT-REGION`;
    const viaS3 = ' if {"StringEquals":{"kms:ViaService":"s3.REGION.amazonaws.com"}}';
    const expected = [
      // CreateApplication has no resource type (Service Authorization Reference): granted on *.
      'kinesisanalytics:CreateApplication *',
      ...['DescribeApplication', 'StartApplication', 'StopApplication', 'DeleteApplication', 'TagResource']
        .map((a) => `kinesisanalytics:${a} ${arn('kinesisanalytics', `application/${name}-stream-v*`)}`),
      'iam:PassRole <ReplayApplicationRole.Arn> if {"StringEquals":{"iam:PassedToService":"kinesisanalytics.amazonaws.com"}}',
      // As the API caller of applications encrypted with the Flink key (manage-cmk-api), through Managed Flink, for its applications.
      ...((viaFlink: Record<string, string>, context: Record<string, Record<string, string>>) => [
        `kms:DescribeKey <stream-processing:KeyArn> if ${JSON.stringify({ StringEquals: viaFlink })}`,
        ...['Decrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext'].map((a) => `kms:${a} <stream-processing:KeyArn> if ${JSON.stringify(context)}`),
        `kms:CreateGrant <stream-processing:KeyArn> if ${JSON.stringify({
          ...context,
          StringEquals: { ...context.StringEquals, 'kms:GrantConstraintType': 'EncryptionContextSubset' },
          'ForAllValues:StringEquals': { 'kms:GrantOperations': 'Decrypt' },
        })}`,
      ])({ 'kms:ViaService': 'kinesisanalytics.REGION.amazonaws.com' }, {
        StringLike: { 'kms:EncryptionContext:aws:kinesisanalytics:arn': `arn:aws:kinesisanalytics:REGION:ACCOUNT:application/${name}-stream-v*` },
        StringEquals: { 'kms:ViaService': 'kinesisanalytics.REGION.amazonaws.com' },
      }),
      ...['GetParameter', 'PutParameter'].map((a) => `ssm:${a} ${arn('ssm', 'parameter<ServingVersion>')}`),
      `s3:ListBucket ${lakeBucket} if ${JSON.stringify({ StringLike: { 's3:prefix': tables.map((t) => `${t.prefix}/v=*`) } })}`,
      ...['StartQueryExecution', 'GetQueryExecution', 'StopQueryExecution'].map((a) => `athena:${a} ${arn('athena', `workgroup/${name}-serving`)}`),
      `athena:GetDataCatalog ${arn('athena', 'datacatalog/AwsDataCatalog')}`,
      ...glue.map((r) => `glue:GetDatabase ${r}`),
      ...[...glue, ...sources, ...views].map((r) => `glue:GetTable ${r}`),
      ...[...glue, ...views].flatMap((r) => [`glue:CreateTable ${r}`, `glue:UpdateTable ${r}`]),
      ...['GetBucketLocation', 'ListBucket'].map((a) => `s3:${a} <lake:QueryResultsArn>`),
      ...['GetObject', 'PutObject', 'AbortMultipartUpload', 'ListMultipartUploadParts'].map((a) => `s3:${a} <lake:QueryResultsArn>/athena/*`),
      ...['Decrypt', 'GenerateDataKey'].map((a) => `kms:${a} <lake:KeyArn>${viaS3}`),
      // No resource-level permissions exist for these (acknowledged, docs/security.md).
      'cloudwatch:GetMetricData *',
      ...['CreateLogDelivery', 'GetLogDelivery', 'UpdateLogDelivery', 'DeleteLogDelivery', 'ListLogDeliveries', 'PutResourcePolicy', 'DescribeResourcePolicies', 'DescribeLogGroups'].map((a) => `logs:${a} *`),
      ...['PutTraceSegments', 'PutTelemetryRecords', 'GetSamplingRules', 'GetSamplingTargets'].map((a) => `xray:${a} *`),
    ];
    expect([...granted].sort()).toEqual(expected.sort());
  });

  test('replay applications run with their own role, trusted by Managed Flink for this platform\'s stream applications only', () => {
    const template = reprocessing(profile).toJSON();
    const [, role] = Object.entries(template.Resources).find(([id]) => id.startsWith('ReplayApplicationRole') && !id.includes('Policy')) as [string, any];
    const [trust] = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.Principal).toEqual({ Service: 'kinesisanalytics.amazonaws.com' });
    expect(render(trust.Condition.ArnLike['aws:SourceArn'])).toBe(`arn:aws:kinesisanalytics:REGION:ACCOUNT:application/${name}-stream-v*`);
    expect(render(trust.Condition.StringEquals['aws:SourceAccount'])).toBe('ACCOUNT');
  });

  test('replay applications cannot write the alerts log (a replay runs with Alerts/sink = none)', () => {
    const template = reprocessing(profile).toJSON();
    const policies = Object.entries(template.Resources).filter(([id, r]: [string, any]) => id.startsWith('ReplayApplicationRole') && r.Type === 'AWS::IAM::Policy');
    expect(policies.length).toBeGreaterThan(0);
    const actions = policies.flatMap(([, p]: [string, any]) => p.Properties.PolicyDocument.Statement.flatMap((st: any) => [st.Action].flat()));
    expect(actions).toEqual(expect.arrayContaining(['s3:PutObject']));
    expect(actions.filter((a: string) => /^kinesis:PutRecords?$|^kafka-cluster:WriteData/.test(a))).toEqual([]);
  });

  test('the serving version parameter and one serving view per versioned table read the configured version', () => {
    const template = reprocessing(profile);
    const version = synthProfile(profile).config.streamProcessing.outputVersion;
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: `/${name}/serving/version`, Type: 'String', Value: String(version) });
    const views = Object.values(template.findResources('AWS::Glue::Table')).map((r: any) => r.Properties);
    expect(views.map((v) => v.TableInput.Name).sort()).toEqual(tables.map(servingViewName).sort());
    for (const view of views) {
      const table = tables.find((t) => servingViewName(t) === view.TableInput.Name)!;
      expect(view.DatabaseName).toBe(database);
      expect(view.TableInput).toMatchObject({ TableType: 'VIRTUAL_VIEW', Parameters: { presto_view: 'true' }, ViewExpandedText: '/* Presto View */' });
      const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(view.TableInput.ViewOriginalText)![1];
      const presto = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
      expect(presto.catalog).toBe('awsdatacatalog');
      expect(presto.schema).toBe(database);
      expect(presto.originalSql).toBe(`SELECT ${[...table.columns.map((c) => c.name), 'dt', 'hr'].map((c) => `"${c}"`).join(', ')} FROM "${database}"."${table.tableName}" WHERE "v" = '${version}'`);
      expect(presto.columns.map((c: any) => c.name)).toEqual(view.TableInput.StorageDescriptor.Columns.map((c: any) => c.Name));
      expect(presto.columns.some((c: any) => /string|array</.test(c.type))).toBe(false);
    }
  });

  test('cdk-nag reports nothing unacknowledged on the reprocessing stack', () => {
    const reports = synthProfile(profile).validationReports as { violations: { violatingResources: { locations?: string[]; resourceLogicalId?: string }[] }[] }[];
    expect(JSON.stringify(reports)).not.toMatch(/Reprocessing\//);
  });
});

test('a serving view follows a configured output version', () => {
  const { templates } = synthProfile('dev', { 'streamProcessing.outputVersion': '3' });
  templates.Reprocessing.hasResourceProperties('AWS::SSM::Parameter', { Value: '3' });
  const view = Object.values(templates.Reprocessing.findResources('AWS::Glue::Table'))[0] as any;
  const encoded = /Presto View: (\S+) \*\//.exec(view.Properties.TableInput.ViewOriginalText)![1];
  expect(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')).originalSql).toMatch(/WHERE "v" = '3'$/);
});

describe('the reprocessing configuration', () => {
  const withReplay = (reprocessing: Record<string, unknown>) =>
    () => parseConfig('dev', { ...defaultConfig, reprocessing: { ...defaultConfig.reprocessing, ...reprocessing } });

  test('more catch-up polls than one execution history holds fails, naming the key', () => {
    expect(withReplay({ maxCatchUpHours: 48, pollIntervalSeconds: 60 })).toThrow(/reprocessing\.maxCatchUpHours = 48: with reprocessing\.pollIntervalSeconds = 60 this is 2880 polls; at most 1200/);
  });

  test('a margin as long as the log\'s retention fails, naming the key', () => {
    expect(withReplay({ horizonMarginMinutes: 1440 })).not.toThrow();
    const short = () => parseConfig('dev', { ...defaultConfig, eventLog: { ...defaultConfig.eventLog, kinesis: { ...defaultConfig.eventLog.kinesis, retentionHours: 24 } }, reprocessing: { ...defaultConfig.reprocessing, horizonMarginMinutes: 1440 } });
    expect(short).toThrow(/reprocessing\.horizonMarginMinutes = 1440: must be less than the log's retention \(eventLog\.kinesis\.retentionHours = 24 h\)/);
  });

  test('out-of-range values and unknown policies fail, naming the key', () => {
    expect(withReplay({ caughtUpPolls: 0 })).toThrow(/reprocessing\.caughtUpPolls = 0: must be >= 1/);
    expect(withReplay({ retireOldVersion: 'expire' })).toThrow(/reprocessing\.retireOldVersion = "expire": allowed: "keep"/);
  });
});
