import { templateTargets } from '../helpers/targets';
import { awsRule, resourcesOfType } from './aws-rule';
import { Resolver, stackTemplates } from '../helpers/cfn-resolve';
import { runStateMachine, type Execution, type MockedResponse } from '../helpers/run-state-machine';
import { synthProfile, type SynthTarget } from '../helpers/synth';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator: (definition: unknown) => { isValid: boolean; errorsText: (sep?: string) => string } = require('asl-validator');

/**
 * Every state machine the platform deploys, as deployed: its definition with CloudFormation's
 * intrinsics resolved (test/helpers/cfn-resolve.ts), validated as Amazon States Language, and the two
 * of ours (the Kappa replay, the batch run) executed by a real interpreter (ministack's Step Functions,
 * JSONata evaluated by jsonata-python) on every path that matters, each SDK call answered with the
 * response its API reference documents and each failure raised with the error name Step Functions gives it.
 */

/** The deployed definitions of a target: `<stack>/<logical id>` → definition text. */
function definitions(target: SynthTarget): Record<string, string> {
  const synth = synthProfile(target.profile, target.context);
  const stacks = stackTemplates(synth);
  const resolver = new Resolver(Object.values(stacks));
  const out: Record<string, string> = {};
  for (const { stack, logicalId, Properties } of resourcesOfType(synth, 'AWS::StepFunctions::StateMachine')) {
    out[`${stack}/${logicalId}`] = resolver.resolve(Properties.DefinitionString, stacks[stack].stackName);
  }
  return out;
}

awsRule({
  targets: templateTargets(),
  rule: 'A state machine definition is a JSON object in the Amazon States Language: StartAt, States, and per state type its own fields, JSONata or JSONPath',
  source: 'https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html',
  check: (_synth, target) => {
    const found = definitions(target);
    expect(Object.keys(found).length).toBeGreaterThan(0);
    for (const [id, text] of Object.entries(found)) {
      const { isValid, errorsText } = aslValidator(JSON.parse(text));
      expect([id, isValid ? '' : errorsText('\n')]).toEqual([id, '']);
    }
  },
});

test('the validator rejects what is not States Language', () => {
  expect(aslValidator({ StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Next: 'Missing' } } }).isValid).toBe(false);
  expect(aslValidator({ QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Pass', Parameters: { 'x.$': '$.y' }, End: true } } }).isValid).toBe(false);
  expect(aslValidator({ StartAt: 'A', States: { A: { Type: 'Succeed' } } }).isValid).toBe(true);
});

test('the interpreter evaluates JSONata, follows Catch, and never answers a Task nobody mocked', () => {
  const definition = JSON.stringify({
    QueryLanguage: 'JSONata', StartAt: 'Call',
    States: {
      Call: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:ssm:getParameter', Arguments: { Name: 'p' }, Assign: { v: '{% $number($states.result.Parameter.Value) * 2 %}' }, Next: 'Done',
        Catch: [{ ErrorEquals: ['States.ALL'], Assign: { e: '{% $states.errorOutput.Error %}' }, Next: 'Caught' }] },
      Done: { Type: 'Succeed', Output: { doubled: '{% $v %}', day: '{% $fromMillis(86400000) %}' } },
      Caught: { Type: 'Fail', Error: '{% $e %}', Cause: 'caught' },
    },
  });
  const runs = runStateMachine('probe', definition, {
    answered: { input: {}, responses: { Call: always(getParameter('p', '21')) } },
    unanswered: { input: {}, responses: {} },
  });
  expect(runs.answered).toMatchObject({ status: 'SUCCEEDED', states: ['Call', 'Done'], output: { doubled: 42, day: '1970-01-02T00:00:00.000Z' } });
  expect(runs.unanswered).toMatchObject({ status: 'FAILED', error: 'States.NoMockedResponse', states: ['Call', 'Caught'] });
});

// ---- Responses, shaped as each API reference documents them (aws-sdk integrations use PascalCase:
// https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html) ----

const ACCOUNT = '123456789012';
const always = (response: MockedResponse) => ({ '0-99': response });

/** ssm:GetParameter (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html). */
const getParameter = (name: string, value: string): MockedResponse => ({
  Return: { Parameter: { Name: name, Type: 'String', Value: value, Version: 4, LastModifiedDate: '2026-12-01T00:00:00Z', ARN: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter${name}`, DataType: 'text' } },
});
/** ssm:PutParameter (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html). */
const putParameter: MockedResponse = { Return: { Version: 5, Tier: 'Standard' } };
/**
 * athena:startQueryExecution.sync returns GetQueryExecution's response once the query is done
 * (https://docs.aws.amazon.com/step-functions/latest/dg/connect-athena.html,
 * https://docs.aws.amazon.com/athena/latest/APIReference/API_GetQueryExecution.html).
 */
const queryDone = (id: string, scanned = 0): MockedResponse => ({
  Return: {
    QueryExecution: {
      QueryExecutionId: id, Query: 'CREATE OR REPLACE VIEW ...', StatementType: 'DDL', WorkGroup: 'tributary-serving',
      QueryExecutionContext: { Catalog: 'AwsDataCatalog' },
      ResultConfiguration: { OutputLocation: `s3://results/${id}.txt` },
      Status: { State: 'SUCCEEDED', SubmissionDateTime: '2026-12-01T00:00:00Z', CompletionDateTime: '2026-12-01T00:00:05Z' },
      Statistics: { EngineExecutionTimeInMillis: 900, DataScannedInBytes: scanned, TotalExecutionTimeInMillis: 1200 },
      EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
    },
  },
});
/** A query that ends FAILED fails the .sync task with States.TaskFailed (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). */
const queryFailed: MockedResponse = { Throw: { Error: 'States.TaskFailed', Cause: '{"QueryExecution":{"Status":{"State":"FAILED","StateChangeReason":"line 1:8: Table not found"}}}' } };
/** lambda:invoke returns the Invoke response, the function's result under Payload (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html). */
const invoked = (payload: unknown): MockedResponse => ({ Return: { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 } });

/** The top-level states an execution entered after the last `after`, up to and including `until`. */
const between = (states: string[], after: string, until: string) => states.slice(states.lastIndexOf(after) + 1, states.indexOf(until) + 1);

// ---- The batch run (lib/constructs/batch-layer) ----

const batchTargets = templateTargets().filter((t) => Object.keys(definitions(t)).some((id) => id.startsWith('BatchLayer/BatchRun')));

describe.each(batchTargets)('the batch run, executed from its deployed definition ($label)', (target) => {
  let runs: Record<string, Execution>;
  let switches: string[];
  beforeAll(() => {
    const [id, definition] = Object.entries(definitions(target)).find(([key]) => key.startsWith('BatchLayer/BatchRun'))!;
    const states = JSON.parse(definition).States as Record<string, unknown>;
    switches = Object.keys(states).filter((s) => s.startsWith('Switch-'));
    const plan = { run: 'r20261201t0000', startedAtMs: 1764547200000, watermarkMs: 1764540000000, firstRawDay: '2026-11-01', chunks: [{ view: 'spend_per_card_minute', from: '2026-11-01', to: '2026-11-30' }, { view: 'alerts', from: '2026-11-01', to: '2026-11-30' }] };
    const statements = Object.fromEntries(switches.map((s) => [s.replace('Switch-', ''), `CREATE OR REPLACE VIEW ${s.replace('Switch-', '')} AS SELECT 1`]));
    /** sfn:ListExecutions (https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html). */
    const running = (...names: string[]): MockedResponse => ({
      Return: { Executions: names.map((n) => ({ ExecutionArn: `{{executionArnPrefix}}${n}`, StateMachineArn: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:batch`, Name: n, Status: 'RUNNING', StartDate: '2026-12-01T00:00:00Z' })) },
    });
    // Each execution lists itself among the RUNNING ones, as ListExecutions does.
    const happy = (self: string) => ({
      ListRunningRuns: always(running(self)),
      PlanRun: always(invoked(plan)),
      RenderChunk: always(invoked({ view: 'spend_per_card_minute', sql: 'INSERT INTO batch_spend_per_card_minute SELECT 1', token: 'r20261201t0000-0' })),
      InsertChunk: always(queryDone('insert', 1_000_000)),
      ReadServedRun: always(getParameter('/tributary/batch/served-run', JSON.stringify({ run: 'r20261130t0000', watermarkMs: 1764450000000 }))),
      RenderSwitch: always(invoked({ statements, revertStatements: statements })),
      ...Object.fromEntries(switches.map((s) => [s, always(queryDone(s))])),
      RecordServedRun: always(putParameter),
      RevertView: always(queryDone('revert')),
    });
    const definitionName = id.replace(/[^A-Za-z0-9-]/g, '-');
    runs = runStateMachine(definitionName, definition, {
      happy: { input: {}, responses: happy('happy') },
      skipped: { input: {}, responses: { ...happy('skipped'), ListRunningRuns: always(running('skipped', 'scheduled-earlier')) } },
      planFails: { input: {}, responses: { ...happy('planFails'), PlanRun: always({ Throw: { Error: 'Lambda.ServiceException', Cause: 'An error occurred (ServiceException)' } }) } },
      paramMissing: { input: {}, responses: { ...happy('paramMissing'), ReadServedRun: always({ Throw: { Error: 'Ssm.ParameterNotFoundException', Cause: 'ParameterNotFound' } }) } },
      behind: { input: {}, responses: { ...happy('behind'), ReadServedRun: always(getParameter('/tributary/batch/served-run', JSON.stringify({ run: 'r1', watermarkMs: plan.watermarkMs }))) } },
      switchFails: { input: {}, responses: { ...happy('switchFails'), [switches[1]]: always(queryFailed) } },
      writeFails: { input: {}, responses: { ...happy('writeFails'), InsertChunk: always(queryFailed) } },
      recordFails: { input: {}, responses: { ...happy('recordFails'), RecordServedRun: always({ Throw: { Error: 'Ssm.ParameterLimitExceededException', Cause: 'too many versions' } }) } },
      revertFails: { input: {}, responses: { ...happy('revertFails'), [switches[1]]: always(queryFailed), RevertView: always(queryFailed) } },
    });
  });

  test('happy path: plan, write every chunk, switch every view, record the served run', () => {
    expect(runs.happy.status).toBe('SUCCEEDED');
    expect(runs.happy.states).toEqual(['AcceptRun', 'ListRunningRuns', 'OtherRunInProgress', 'PlanRun', 'WriteBatchViews', 'ReadServedRun', 'CheckRunCanServe', 'RenderSwitch', ...switches, 'RecordServedRun', 'RunServed']);
    // Its own execution is not "another run"; the scanned bytes are summed over both chunks by JSONata.
    expect(runs.happy.output).toEqual({ run: 'r20261201t0000', watermark: '2025-11-30T22:00:00.000Z', watermarkMs: 1764540000000, firstRawDay: '2026-11-01', chunks: 2, scannedBytes: 2_000_000, previousRun: 'r20261130t0000' });
  });

  test('another run in progress: skipped, nothing planned', () => {
    expect(runs.skipped.states).toEqual(['AcceptRun', 'ListRunningRuns', 'OtherRunInProgress', 'RunSkipped']);
    expect(runs.skipped.output).toEqual({ skipped: true, reason: 'another batch run is in progress', running: ['scheduled-earlier'] });
  });

  test('a failing step fails the run with Batch.RunFailed, naming the step and the error', () => {
    expect(runs.planFails).toMatchObject({ status: 'FAILED', error: 'Batch.RunFailed', states: ['AcceptRun', 'ListRunningRuns', 'OtherRunInProgress', 'PlanRun', 'RunFailed'] });
    expect(runs.planFails.cause).toContain('failed at PlanRun with Lambda.ServiceException: An error occurred (ServiceException)');
    expect(runs.paramMissing).toMatchObject({ status: 'FAILED', error: 'Batch.RunFailed' });
    expect(runs.paramMissing.cause).toContain('failed at ReadServedRun with Ssm.ParameterNotFoundException');
  });

  test('a watermark not ahead of the served one is refused before any view is touched', () => {
    expect(runs.behind.status).toBe('FAILED');
    expect(runs.behind.states.slice(-2)).toEqual(['CheckRunCanServe', 'WatermarkNotAhead']);
    expect(runs.behind.states.some((s) => s.startsWith('Switch-'))).toBe(false);
  });

  test('a failed INSERT fails the Map, and so the run, before any view is touched', () => {
    expect(runs.writeFails).toMatchObject({ status: 'FAILED', error: 'Batch.RunFailed', states: ['AcceptRun', 'ListRunningRuns', 'OtherRunInProgress', 'PlanRun', 'WriteBatchViews', 'RunFailed'] });
    expect(runs.writeFails.cause).toContain('failed at WriteBatchViews with States.TaskFailed');
  });

  test('a failure to record the served run reverts every switched view', () => {
    expect(runs.recordFails).toMatchObject({ status: 'FAILED', error: 'Batch.RunFailed' });
    expect(between(runs.recordFails.states, 'RenderSwitch', 'RunFailed')).toEqual([...switches, 'RecordServedRun', 'RevertSwitchedViews', 'RunFailed']);
    expect(runs.recordFails.cause).toContain('failed at RecordServedRun with Ssm.ParameterLimitExceededException');
  });

  test('a failed revert fails with Batch.RevertFailed', () => {
    expect(runs.revertFails).toMatchObject({ status: 'FAILED', error: 'Batch.RevertFailed' });
    expect(runs.revertFails.states.slice(-2)).toEqual(['RevertSwitchedViews', 'RevertFailed']);
  });

  test('a failed switch reverts the views already switched, then fails', () => {
    expect(runs.switchFails).toMatchObject({ status: 'FAILED', error: 'Batch.RunFailed' });
    expect(between(runs.switchFails.states, 'RenderSwitch', 'RunFailed')).toEqual([switches[0], switches[1], 'RevertSwitchedViews', 'RunFailed']);
    expect(runs.switchFails.cause).toContain(`failed at ${switches[1]} with States.TaskFailed`);
  });
});

// ---- The Kappa replay (lib/constructs/reprocessing) ----

const replayTargets = templateTargets().filter((t) => Object.keys(definitions(t)).some((id) => id.startsWith('Reprocessing/KappaReplay')));

describe.each(replayTargets)('the Kappa replay, executed from its deployed definition ($label)', (target) => {
  let runs: Record<string, Execution>;
  let switches: string[];
  let name: string;
  beforeAll(() => {
    const [id, definition] = Object.entries(definitions(target)).find(([key]) => key.startsWith('Reprocessing/KappaReplay'))!;
    switches = Object.keys(JSON.parse(definition).States).filter((s) => s.startsWith('Switch-'));
    name = synthProfile(target.profile, target.context).config.name;
    /**
     * kinesisanalyticsv2:DescribeApplication / CreateApplication return an ApplicationDetail
     * (https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_DescribeApplication.html,
     * https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_ApplicationDetail.html).
     */
    const application = (appName: string, status: string): MockedResponse => ({
      Return: {
        ApplicationDetail: {
          ApplicationARN: `arn:aws:kinesisanalytics:eu-west-1:${ACCOUNT}:application/${appName}`, ApplicationName: appName, ApplicationStatus: status,
          ApplicationVersionId: 3, RuntimeEnvironment: 'FLINK-1_20', ApplicationMode: 'STREAMING', CreateTimestamp: '2026-12-01T00:00:00Z',
          ServiceExecutionRole: `arn:aws:iam::${ACCOUNT}:role/stream-job`,
          ApplicationConfigurationDescription: {
            ApplicationCodeConfigurationDescription: { CodeContentType: 'ZIPFILE', CodeContentDescription: { S3ApplicationCodeLocationDescription: { BucketARN: 'arn:aws:s3:::assets', FileKey: 'job.jar' } } },
            EnvironmentPropertyDescriptions: { PropertyGroupDescriptions: [{ PropertyGroupId: 'Job', PropertyMap: { 'output.version': '1' } }, { PropertyGroupId: 'Source', PropertyMap: { 'start.timestamp': 'LATEST' } }] },
            FlinkApplicationConfigurationDescription: {
              CheckpointConfigurationDescription: { ConfigurationType: 'CUSTOM', CheckpointingEnabled: true, CheckpointInterval: 30000, MinPauseBetweenCheckpoints: 5000 },
              MonitoringConfigurationDescription: { ConfigurationType: 'CUSTOM', MetricsLevel: 'APPLICATION', LogLevel: 'INFO' },
              ParallelismConfigurationDescription: { ConfigurationType: 'CUSTOM', Parallelism: 1, ParallelismPerKPU: 1, CurrentParallelism: 1, AutoScalingEnabled: false },
            },
            ApplicationSnapshotConfigurationDescription: { SnapshotsEnabled: true },
            VpcConfigurationDescriptions: [],
          },
          CloudWatchLoggingOptionDescriptions: [{ CloudWatchLoggingOptionId: '1.1', LogStreamARN: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:flink:log-stream:job` }],
        },
      },
    });
    const servingApp = `${name}-stream-v1`;
    const replayApp = `${name}-stream-v2`;
    const happy = {
      ReadServingVersion: always(getParameter(`/${name}/serving-version`, '1')),
      DescribeServingApplication: always(application(servingApp, 'RUNNING')),
      /** s3:ListObjectsV2 (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html). */
      ListReplayVersionObjects: always({ Return: { IsTruncated: false, Name: 'lake', Prefix: 'views/x/v=2/', MaxKeys: 1, KeyCount: 0 } }),
      CreateReplayApplication: always(application(replayApp, 'READY')),
      /** kinesisanalyticsv2:StartApplication / StopApplication return an OperationId (https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_StartApplication.html). */
      StartReplayApplication: always({ Return: { OperationId: 'op-start' } }),
      DescribeStartingReplay: { '0': application(replayApp, 'STARTING'), '1-99': application(replayApp, 'RUNNING') },
      DescribeRunningReplay: always(application(replayApp, 'RUNNING')),
      /** cloudwatch:GetMetricData (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html); 2 is under the threshold as ms (Kinesis millisBehindLatest) and as s (MSK EstimatedMaxTimeLag). */
      ReadReplayLag: always({ Return: { MetricDataResults: [{ Id: 'lag', Label: 'millisBehindLatest', StatusCode: 'Complete', Timestamps: ['2026-12-01T00:10:00Z'], Values: [2] }], Messages: [] } }),
      ...Object.fromEntries(switches.map((s) => [s, always(queryDone(s))])),
      RecordServingVersion: always(putParameter),
      DescribeRetiringApplication: always(application(servingApp, 'RUNNING')),
      StopRetiringApplication: always({ Return: { OperationId: 'op-stop' } }),
      StopReplayApplication: always({ Return: { OperationId: 'op-stop-replay' } }),
      /** kinesisanalyticsv2:DeleteApplication returns an empty body (https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_DeleteApplication.html). */
      DeleteReplayApplication: always({ Return: {} }),
      RevertView: always(queryDone('revert')),
    };
    const input = { fromTimestamp: new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'), reason: 'fix a rule' };
    runs = runStateMachine(id.replace(/[^A-Za-z0-9-]/g, '-'), definition, {
      happy: { input, responses: happy },
      invalidInput: { input: { fromTimestamp: 'yesterday' }, responses: happy },
      targetNotEmpty: { input, responses: { ...happy, ListReplayVersionObjects: always({ Return: { IsTruncated: false, KeyCount: 1, MaxKeys: 1 } }) } },
      createFails: { input, responses: { ...happy, CreateReplayApplication: always({ Throw: { Error: 'KinesisAnalyticsV2.ResourceInUseException', Cause: 'Application already exists' } }) } },
      startFails: { input, responses: { ...happy, StartReplayApplication: always({ Throw: { Error: 'KinesisAnalyticsV2.InvalidApplicationConfigurationException', Cause: 'bad config' } }) } },
      switchFails: { input, responses: { ...happy, [switches[1]]: always(queryFailed) } },
      outsideHorizon: { input: { fromTimestamp: '2020-01-01T00:00:00Z', reason: 'too old' }, responses: happy },
      didNotStart: { input, responses: { ...happy, DescribeStartingReplay: always(application(replayApp, 'READY')) } },
      startTimedOut: { input, responses: { ...happy, DescribeStartingReplay: always(application(replayApp, 'STARTING')) } },
      stopped: { input, responses: { ...happy, DescribeRunningReplay: always(application(replayApp, 'READY')) } },
      cleanUpFails: { input, responses: { ...happy, StartReplayApplication: always({ Throw: { Error: 'KinesisAnalyticsV2.InvalidArgumentException', Cause: 'bad' } }), DeleteReplayApplication: always({ Throw: { Error: 'KinesisAnalyticsV2.ResourceInUseException', Cause: 'busy' } }) } },
      revertFails: { input, responses: { ...happy, [switches[1]]: always(queryFailed), RevertView: always(queryFailed) } },
      retireFails: { input, responses: { ...happy, StopRetiringApplication: always({ Throw: { Error: 'KinesisAnalyticsV2.ResourceInUseException', Cause: 'busy' } }) } },
    });
  });

  test('happy path: create and start v=n+1, wait until caught up, switch every view, record, retire v=n', () => {
    const run = runs.happy;
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.slice(0, 12)).toEqual(['CheckInput', 'CheckReplayHorizon', 'AcceptRequest', 'ReadServingVersion', 'DescribeServingApplication', 'CheckReplayTargetEmpty',
      'ReplayTargetEmpty', 'CreateReplayApplication', 'StartReplayApplication', 'WaitForReplayStart', 'DescribeStartingReplay', 'ReplayStarted']);
    // STARTING once, then RUNNING: one more start poll before the lag polls.
    expect(run.states.filter((s) => s === 'DescribeStartingReplay')).toHaveLength(2);
    const { reprocessing } = synthProfile(target.profile, target.context).config;
    expect(run.states.filter((s) => s === 'ReadReplayLag')).toHaveLength(reprocessing.caughtUpPolls);
    expect(between(run.states, 'CaughtUp', 'ReplayComplete').filter((s) => s !== 'CaughtUp'))
      .toEqual([...switches, 'RecordServingVersion', 'DescribeRetiringApplication', 'RetiringApplicationRunning', 'StopRetiringApplication', 'ReplayComplete']);
    expect(run.output).toEqual({ servingVersion: 2, retiredVersion: 1, servingApplication: `${name}-stream-v2`, retiredApplication: `${name}-stream-v1`, fromTimestamp: expect.any(String), reason: 'fix a rule', retiredData: 'kept' });
  });

  test('invalid input fails at once with Reprocessing.InvalidInput', () => {
    expect(runs.invalidInput).toMatchObject({ status: 'FAILED', error: 'Reprocessing.InvalidInput', states: ['CheckInput', 'InvalidInput'] });
  });

  test('a replay target that already holds data is refused before anything is created', () => {
    expect(runs.targetNotEmpty).toMatchObject({ status: 'FAILED', error: 'Reprocessing.ReplayFailed' });
    expect(between(runs.targetNotEmpty.states, 'ReplayTargetEmpty', 'ReplayFailed')).toEqual(['ReplayTargetNotEmpty', 'ReplayCreated', 'ReplayFailed']);
  });

  test('a failure before anything was created leaves nothing to clean up', () => {
    expect(runs.createFails).toMatchObject({ status: 'FAILED', error: 'Reprocessing.ReplayFailed' });
    expect(between(runs.createFails.states, 'ReplayTargetEmpty', 'ReplayFailed')).toEqual(['CreateReplayApplication', 'ReplayCreated', 'ReplayFailed']);
    expect(runs.createFails.cause).toContain('failed at CreateReplayApplication with KinesisAnalyticsV2.ResourceInUseException: Application already exists');
  });

  test('a failure after the replay was created stops and deletes it, then fails', () => {
    expect(runs.startFails).toMatchObject({ status: 'FAILED', error: 'Reprocessing.ReplayFailed' });
    expect(between(runs.startFails.states, 'CreateReplayApplication', 'ReplayFailed'))
      .toEqual(['StartReplayApplication', 'ReplayCreated', 'StopReplayApplication', 'DeleteReplayApplication', 'ReplayFailed']);
    expect(runs.startFails.cause).toContain('KinesisAnalyticsV2.InvalidApplicationConfigurationException');
  });

  test('a start time outside the log\'s horizon fails at once with Reprocessing.OutsideReplayHorizon', () => {
    expect(runs.outsideHorizon).toMatchObject({ status: 'FAILED', error: 'Reprocessing.OutsideReplayHorizon', states: ['CheckInput', 'CheckReplayHorizon', 'OutsideReplayHorizon'] });
    expect(runs.outsideHorizon.cause).toContain('fromTimestamp 2020-01-01T00:00:00Z is outside the replay horizon');
  });

  test('a replay that does not start, or does not start in time, or stops, is stopped and deleted', () => {
    const { reprocessing } = synthProfile(target.profile, target.context).config;
    for (const [run, decided] of [[runs.didNotStart, 'ReplayDidNotStart'], [runs.startTimedOut, 'ReplayStartTimedOut'], [runs.stopped, 'ReplayStopped']] as const) {
      expect([decided, run.status, run.error]).toEqual([decided, 'FAILED', 'Reprocessing.ReplayFailed']);
      expect([decided, run.states.slice(-5)]).toEqual([decided, [decided, 'ReplayCreated', 'StopReplayApplication', 'DeleteReplayApplication', 'ReplayFailed']]);
      expect(run.cause).toContain(`with Reprocessing.${decided}`);
    }
    // The start wait is bounded: startTimeoutMinutes of 30 s polls.
    expect(runs.startTimedOut.states.filter((st) => st === 'DescribeStartingReplay')).toHaveLength((reprocessing.startTimeoutMinutes * 60) / 30);
  });

  test('a replay that cannot be deleted fails with Reprocessing.CleanUpIncomplete', () => {
    expect(runs.cleanUpFails).toMatchObject({ status: 'FAILED', error: 'Reprocessing.CleanUpIncomplete' });
    expect(runs.cleanUpFails.states.slice(-3)).toEqual(['StopReplayApplication', 'DeleteReplayApplication', 'CleanUpIncomplete']);
    expect(runs.cleanUpFails.cause).toContain(`deleting ${name}-stream-v2 failed too`);
  });

  test('a failed revert fails with Reprocessing.RevertFailed and leaves the replay running', () => {
    expect(runs.revertFails).toMatchObject({ status: 'FAILED', error: 'Reprocessing.RevertFailed' });
    expect(runs.revertFails.states.slice(-2)).toEqual(['RevertSwitchedViews', 'RevertFailed']);
    expect(runs.revertFails.cause).toContain(`re-pointing ${switches[0].replace('Switch-', '')} back to v=1 failed too`);
  });

  test('a serving application that cannot be stopped after the switch fails with Reprocessing.RetireIncomplete', () => {
    expect(runs.retireFails).toMatchObject({ status: 'FAILED', error: 'Reprocessing.RetireIncomplete' });
    expect(runs.retireFails.states).toContain('RecordServingVersion');
    expect(runs.retireFails.states.slice(-2)).toEqual(['StopRetiringApplication', 'RetireIncomplete']);
  });

  test('a failed switch reverts the views already switched, then removes the replay', () => {
    expect(runs.switchFails).toMatchObject({ status: 'FAILED', error: 'Reprocessing.ReplayFailed' });
    expect(between(runs.switchFails.states, 'CaughtUp', 'ReplayFailed').filter((s) => s !== 'CaughtUp'))
      .toEqual([switches[0], switches[1], 'RevertSwitchedViews', 'ReplayCreated', 'StopReplayApplication', 'DeleteReplayApplication', 'ReplayFailed']);
  });
});

/** Every Task of a definition (Map processors and Parallel branches included). */
function tasksOf(states: Record<string, any>): [string, any][] {
  return Object.entries(states).flatMap(([name, state]) => [
    ...(state.Type === 'Task' ? [[name, state] as [string, any]] : []),
    ...(state.ItemProcessor ? tasksOf(state.ItemProcessor.States) : []),
    ...(state.Iterator ? tasksOf(state.Iterator.States) : []),
    ...(state.Branches ?? []).flatMap((b: any) => tasksOf(b.States)),
  ]);
}

awsRule({
  targets: templateTargets(),
  rule: 'An AWS SDK integration raises its errors as ServiceName.ErrorName, both in PascalCase, the error name from the target API reference and always with the Exception suffix',
  source: 'https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html',
  check: (_synth, target) => {
    for (const [id, text] of Object.entries(definitions(target))) {
      for (const [name, task] of tasksOf(JSON.parse(text).States)) {
        // The optimized integrations (athena:startQueryExecution.sync, lambda:invoke) name their errors the same way.
        const service = /^arn:aws[\w-]*:states:::(?:aws-sdk:)?([a-z0-9]+):/.exec(String(task.Resource))?.[1];
        const errors: string[] = [...(task.Retry ?? []), ...(task.Catch ?? [])].flatMap((r: any) => r.ErrorEquals);
        for (const error of errors) {
          if (error.startsWith('States.')) continue;
          // Only an SDK integration's own errors may be named: ServiceName (its resource's service, PascalCase) . <Name>Exception.
          const [prefix, errorName] = error.split('.');
          const ok = service !== undefined && prefix.toLowerCase() === service && /^[A-Z][A-Za-z0-9]*$/.test(prefix) && /^[A-Z][A-Za-z0-9]*Exception$/.test(errorName ?? '');
          expect([id, name, error, ok]).toEqual([id, name, error, true]);
        }
      }
    }
  },
});
