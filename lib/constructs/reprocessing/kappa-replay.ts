import { Aws, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { LakeTableSpec } from '../../lake-catalog';
import { ATHENA_RETRY, athenaQueryTask, caughtAt, J, SSM_RETRY, sdkTask, transient } from '../state-machine-tasks';
import { grantFlinkKeyToOperator } from '../flink-application';
import { type CatchUpLag, jsonataString } from './catch-up-lag';
import { replaceServingViewSql, servingViewName, VERSION_PLACEHOLDER } from './serving-view';

export interface KappaReplayProps {
  /** The platform's name: applications are `<name>-stream-v<n>`. */
  readonly name: string;
  /** Holds the serving version n; the replay reads it and records n+1 once every view is switched. */
  readonly versionParameter: ssm.IStringParameter;
  /** The role the replay application runs with (trusted by Managed Flink for `<name>-stream-v*`). */
  readonly replayRole: iam.IRole;
  /** Encrypts the Flink applications' state; creating and starting one acts on it as the caller. */
  readonly flinkKey: kms.IKey;
  /** How far back the log reaches: its retention. */
  readonly replayHorizon: Duration;
  /** A replay must start at least this far inside the horizon. */
  readonly horizonMargin: Duration;
  /** The replay's lag metric. */
  readonly lag: CatchUpLag;
  /** Glue database of the lake (its literal name). */
  readonly databaseName: string;
  /** The versioned lake tables whose serving views the replay switches, in switch order. */
  readonly tables: LakeTableSpec[];
  /** The lake bucket's name, whose `views/<view>/v=<n+1>/` must be empty before a replay writes there. */
  readonly lakeBucketName: string;
  /** The Athena workgroup the view switches run in, and where it writes results. */
  readonly workGroupName: string;
  readonly caughtUpLag: Duration;
  readonly caughtUpPolls: number;
  readonly pollInterval: Duration;
  readonly maxCatchUp: Duration;
  readonly startTimeout: Duration;
  /** The state machine's execution log (KMS-encrypted by the caller). */
  readonly logGroup: logs.ILogGroup;
  readonly removalPolicy: RemovalPolicy;
}


/** Time between two status polls of a starting application. */
export const START_POLL_INTERVAL = Duration.seconds(30);

/** Statuses in which Managed Flink runs the job (AUTOSCALING and UPDATING keep it running). */
const RUNNING_STATUSES = ['RUNNING', 'AUTOSCALING', 'UPDATING'];
/** Statuses a starting application passes through before RUNNING. */
const STARTING_STATUSES = ['STARTING', 'UPDATING', 'AUTOSCALING'];

const inList = (expression: string, values: string[]) => `${expression} in [${values.map((v) => `'${v}'`).join(', ')}]`;

/** Retries of each integration this state machine calls. */
export const RETRIES = {
  flink: transient('KinesisAnalyticsV2', ['ConcurrentModificationException', 'ServiceUnavailableException']),
  /** StartApplication and DeleteApplication also wait out an application still changing state. */
  flinkTransition: {
    ...transient('KinesisAnalyticsV2', ['ConcurrentModificationException', 'ServiceUnavailableException', 'ResourceInUseException']),
    interval: Duration.seconds(15), backoffRate: 1.5, maxAttempts: 10, maxDelay: Duration.seconds(120),
  },
  ssm: SSM_RETRY,
  s3: transient('S3', ['InternalErrorException', 'SlowDownException']),
  cloudWatch: transient('CloudWatch', ['InternalServiceFaultException', 'LimitExceededException']),
  athena: ATHENA_RETRY,
} satisfies Record<string, sfn.RetryProps>;

/**
 * The Kappa replay: a Step Functions standard workflow, started by hand or by
 * API with `{ "fromTimestamp": "<ISO-8601 UTC>", "reason": "<text>" }`, that
 * replays the event log from that time into version n+1 with a second Flink
 * application, waits until it has caught up, switches every serving view to
 * n+1 and retires version n. Every step is a Step Functions service
 * integration (no function of its own), and every failure before the switch
 * deletes the replay and leaves version n serving. See docs/reprocessing.md.
 */
export class KappaReplay extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: KappaReplayProps) {
    super(scope, id);
    const appPrefix = `${props.name}-stream-v`;
    const applicationsArn = `arn:${Aws.PARTITION}:kinesisanalytics:${Aws.REGION}:${Aws.ACCOUNT_ID}:application/${appPrefix}*`;
    const pollsFor = (total: Duration, every: Duration) => Math.ceil(total.toSeconds() / every.toSeconds());
    const maxStartPolls = pollsFor(props.startTimeout, START_POLL_INTERVAL);
    const maxLagPolls = pollsFor(props.maxCatchUp, props.pollInterval);

    const sdk = (stateId: string, service: string, action: string, state: Record<string, unknown>, retry: sfn.RetryProps) =>
      sdkTask(this, stateId, service, action, state, retry, Duration.seconds(120));
    const athena = (stateId: string, state: Record<string, unknown>) => athenaQueryTask(this, stateId, Duration.minutes(10), state);
    const failWith = (stateId: string, error: string, cause: string) =>
      sfn.Pass.jsonata(this, stateId, { assign: { error, cause: J(cause), failedStep: stateId } });

    // ---- 1. The request: a well-formed time inside the log's horizon, and a reason.
    const utc = '/^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?Z$/';
    const invalidInput = sfn.Fail.jsonata(this, 'InvalidInput', {
      error: 'Reprocessing.InvalidInput',
      cause: 'The input must be {"fromTimestamp": "<ISO-8601 UTC, such as 2026-11-21T00:00:00Z>", "reason": "<why, not empty>"}.',
    });
    const earliestMs = props.replayHorizon.toMilliseconds() - props.horizonMargin.toMilliseconds();
    const outsideHorizon = sfn.Fail.jsonata(this, 'OutsideReplayHorizon', {
      error: 'Reprocessing.OutsideReplayHorizon',
      cause: J(
        `'fromTimestamp ' & $states.input.fromTimestamp & ' is outside the replay horizon: the log keeps ${props.replayHorizon.toHours()} h, ` +
          `so a replay can start from ' & $fromMillis($millis() - ${earliestMs}) & ' (the retention less a ${props.horizonMargin.toMinutes()} min margin) up to now.'`,
      ),
    });
    const checkInput = sfn.Choice.jsonata(this, 'CheckInput', { comment: 'fromTimestamp is an ISO-8601 UTC time and reason is not empty' });
    const checkHorizon = sfn.Choice.jsonata(this, 'CheckReplayHorizon', { comment: 'fromTimestamp is inside the log\'s retention, less the margin, and not in the future' });
    const accept = sfn.Pass.jsonata(this, 'AcceptRequest', {
      assign: {
        fromTimestamp: J('$states.input.fromTimestamp'),
        reason: J('$states.input.reason'),
        created: false,
        startPolls: 0,
        lagPolls: 0,
        streak: 0,
        switched: [],
      },
    });

    // ---- 2. What serves now: version n and its application.
    const readVersion = sdk('ReadServingVersion', 'ssm', 'getParameter', {
      Arguments: { Name: props.versionParameter.parameterName },
      Assign: {
        current: J('$number($states.result.Parameter.Value)'),
        next: J('$number($states.result.Parameter.Value) + 1'),
        servingApp: J(`'${appPrefix}' & $string($number($states.result.Parameter.Value))`),
        replayApp: J(`'${appPrefix}' & $string($number($states.result.Parameter.Value) + 1)`),
      },
    }, RETRIES.ssm);
    const describeServing = sdk('DescribeServingApplication', 'kinesisanalyticsv2', 'describeApplication', {
      Arguments: { ApplicationName: J('$servingApp') },
      Assign: { serving: J('$states.result.ApplicationDetail') },
    }, RETRIES.flink);

    // ---- 3. Version n+1 must not hold files of an earlier, failed attempt (the replay would add to them).
    const listVersion = sdk('ListReplayVersionObjects', 's3', 'listObjectsV2', {
      Arguments: { Bucket: props.lakeBucketName, Prefix: J('$states.input.prefix'), MaxKeys: 1 },
      Output: J('$states.result.KeyCount'),
    }, RETRIES.s3);
    const checkTarget = sfn.Map.jsonata(this, 'CheckReplayTargetEmpty', {
      comment: 'Counts objects under views/<view>/v=<n+1>/ of every versioned table',
      items: sfn.ProvideItems.jsonArray(props.tables.map((t) => t.prefix)),
      itemSelector: { prefix: J("$states.context.Map.Item.Value & '/v=' & $string($next) & '/'") },
      maxConcurrency: props.tables.length,
      assign: { existingObjects: J('$sum($states.result)') },
    });
    checkTarget.itemProcessor(listVersion);
    const targetEmpty = sfn.Choice.jsonata(this, 'ReplayTargetEmpty');
    const targetNotEmpty = failWith('ReplayTargetNotEmpty', 'Reprocessing.ReplayTargetNotEmpty',
      `'views/*/v=' & $string($next) & '/ of the lake already holds ' & $string($existingObjects) & '+ file(s), from an earlier attempt: delete them before replaying into v=' & $string($next) & ' (docs/reprocessing.md).'`);

    // ---- 4. The replay application: the serving one's configuration, with its version, start and alerts sink overridden.
    const propertyGroups =
      "[$map($c.EnvironmentPropertyDescriptions.PropertyGroupDescriptions, function($g) { {" +
      "'PropertyGroupId': $g.PropertyGroupId," +
      "'PropertyMap': $g.PropertyGroupId = 'Job' ? $merge([$g.PropertyMap, {'output.version': $string($next)}])" +
      " : $g.PropertyGroupId = 'Source' ? $merge([$g.PropertyMap, {'start.timestamp': $fromTimestamp}])" +
      // A replay rewrites history into the new version; it pages nobody about past transactions.
      " : $g.PropertyGroupId = 'Alerts' ? {'sink': 'none'}" +
      " : ($g.PropertyGroupId = 'Kinesis' and $exists($lookup($g.PropertyMap, 'efo.consumer.name'))) ? $merge([$g.PropertyMap, {'efo.consumer.name': $replayApp}])" +
      ' : $g.PropertyMap } })]';
    const applicationConfiguration = J(
      '( $c := $serving.ApplicationConfigurationDescription;' +
        ' $f := $c.FlinkApplicationConfigurationDescription;' +
        ' $code := $c.ApplicationCodeConfigurationDescription;' +
        ' $p := $f.ParallelismConfigurationDescription;' +
        ' {' +
        " 'ApplicationCodeConfiguration': { 'CodeContentType': $code.CodeContentType, 'CodeContent': { 'S3ContentLocation': $code.CodeContentDescription.S3ApplicationCodeLocationDescription } }," +
        ` 'EnvironmentProperties': { 'PropertyGroups': ${propertyGroups} },` +
        " 'FlinkApplicationConfiguration': {" +
        " 'CheckpointConfiguration': $f.CheckpointConfigurationDescription," +
        " 'MonitoringConfiguration': $f.MonitoringConfigurationDescription," +
        " 'ParallelismConfiguration': { 'ConfigurationType': $p.ConfigurationType, 'Parallelism': $p.Parallelism, 'ParallelismPerKPU': $p.ParallelismPerKPU, 'AutoScalingEnabled': $p.AutoScalingEnabled } }," +
        " 'ApplicationSnapshotConfiguration': $c.ApplicationSnapshotConfigurationDescription," +
        " 'VpcConfigurations': $exists($c.VpcConfigurationDescriptions) ? [$c.VpcConfigurationDescriptions.{ 'SubnetIds': SubnetIds, 'SecurityGroupIds': SecurityGroupIds }]," +
        " 'ApplicationEncryptionConfiguration': $c.ApplicationEncryptionConfigurationDescription" +
        ' } )',
    );
    const createReplay = sdk('CreateReplayApplication', 'kinesisanalyticsv2', 'createApplication', {
      Arguments: {
        ApplicationName: J('$replayApp'),
        ApplicationDescription: J("$substring('Tributary Kappa replay into v=' & $string($next) & ' from ' & $fromTimestamp & ': ' & $reason, 0, 1024)"),
        RuntimeEnvironment: J('$serving.RuntimeEnvironment'),
        ApplicationMode: J('$serving.ApplicationMode'),
        ServiceExecutionRole: props.replayRole.roleArn,
        ApplicationConfiguration: applicationConfiguration,
        CloudWatchLoggingOptions: J("[$serving.CloudWatchLoggingOptionDescriptions.{ 'LogStreamARN': LogStreamARN }]"),
        Tags: [
          { Key: 'tributary:replay-of', Value: J('$servingApp') },
          { Key: 'tributary:replay-from', Value: J('$fromTimestamp') },
          { Key: 'tributary:replay-execution', Value: J('$states.context.Execution.Name') },
        ],
      },
      Assign: { created: true, replayCreatedAt: J('$states.result.ApplicationDetail.CreateTimestamp') },
    }, RETRIES.flink);
    const startReplay = sdk('StartReplayApplication', 'kinesisanalyticsv2', 'startApplication', {
      Arguments: {
        ApplicationName: J('$replayApp'),
        RunConfiguration: {
          FlinkRunConfiguration: { AllowNonRestoredState: false },
          ApplicationRestoreConfiguration: { ApplicationRestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' },
        },
      },
    }, RETRIES.flinkTransition);

    // ---- 5. Until it runs (bounded), then until it has caught up (bounded).
    const waitForStart = sfn.Wait.jsonata(this, 'WaitForReplayStart', { time: sfn.WaitTime.duration(START_POLL_INTERVAL) });
    const describeStarting = sdk('DescribeStartingReplay', 'kinesisanalyticsv2', 'describeApplication', {
      Arguments: { ApplicationName: J('$replayApp') },
      Assign: { replayStatus: J('$states.result.ApplicationDetail.ApplicationStatus'), startPolls: J('$startPolls + 1') },
    }, RETRIES.flink);
    const started = sfn.Choice.jsonata(this, 'ReplayStarted');
    const startTimedOut = failWith('ReplayStartTimedOut', 'Reprocessing.ReplayStartTimedOut',
      `$replayApp & ' was still ' & $replayStatus & ' after ${props.startTimeout.toMinutes()} min.'`);
    const didNotStart = failWith('ReplayDidNotStart', 'Reprocessing.ReplayDidNotStart',
      `$replayApp & ' is ' & $replayStatus & ' instead of RUNNING: the Flink job failed to start; it logs to the log group of the serving application.'`);

    const waitForLag = sfn.Wait.jsonata(this, 'WaitBetweenLagPolls', { time: sfn.WaitTime.duration(props.pollInterval) });
    const describeRunning = sdk('DescribeRunningReplay', 'kinesisanalyticsv2', 'describeApplication', {
      Arguments: { ApplicationName: J('$replayApp') },
      Assign: { replayStatus: J('$states.result.ApplicationDetail.ApplicationStatus') },
    }, RETRIES.flink);
    const stillRunning = sfn.Choice.jsonata(this, 'ReplayStillRunning');
    const replayStopped = failWith('ReplayStopped', 'Reprocessing.ReplayStopped',
      "$replayApp & ' stopped running (' & $replayStatus & ') before it caught up.'");
    // The newest point of every series the search finds, in seconds; -1 when there is none yet.
    const newestLag = `( $v := $max($states.result.MetricDataResults.Values[0]); $exists($v) and $v >= 0 ? $v * ${props.lag.toSeconds} : -1 )`;
    const readLag = sdk('ReadReplayLag', 'cloudwatch', 'getMetricData', {
      Comment: `The replay's lag: ${props.lag.description}`,
      Arguments: {
        MetricDataQueries: [{ Id: 'lag', Expression: J(props.lag.search('$replayApp', '$next')), Period: 60, ReturnData: true }],
        StartTime: J('$fromMillis($millis() - 600000)'),
        EndTime: J('$now()'),
        ScanBy: 'TimestampDescending',
      },
      Assign: {
        lag: J(newestLag),
        lagPolls: J('$lagPolls + 1'),
        streak: J(`( $l := ${newestLag}; $l >= 0 and $l <= ${props.caughtUpLag.toSeconds()} ? $streak + 1 : 0 )`),
      },
    }, RETRIES.cloudWatch);
    const caughtUp = sfn.Choice.jsonata(this, 'CaughtUp');
    const catchUpTimedOut = failWith('CatchUpTimedOut', 'Reprocessing.CatchUpTimedOut',
      `$replayApp & ' had not caught up after ${props.maxCatchUp.toHours()} h (last lag ' & $string($lag) & ' s; -1 means no data).'`);

    // ---- 6. The switch, one view at a time; then the serving version is recorded.
    const sqlParts = (table: LakeTableSpec) => replaceServingViewSql(props.databaseName, table, VERSION_PLACEHOLDER).split(VERSION_PLACEHOLDER);
    const queryContext = { Catalog: 'AwsDataCatalog', Database: props.databaseName };
    const switches = props.tables.map((table, index) => {
      const [before, after] = sqlParts(table);
      return athena(`Switch-${servingViewName(table)}`, {
        Comment: `CREATE OR REPLACE VIEW ${servingViewName(table)} for v=<n+1>`,
        Arguments: { QueryString: J(`${jsonataString(before)} & $string($next) & ${jsonataString(after)}`), WorkGroup: props.workGroupName, QueryExecutionContext: queryContext },
        Assign: { switched: props.tables.slice(0, index + 1).map(servingViewName) },
        Output: {},
      });
    });
    const recordVersion = sdk('RecordServingVersion', 'ssm', 'putParameter', {
      Arguments: { Name: props.versionParameter.parameterName, Value: J('$string($next)'), Overwrite: true },
    }, RETRIES.ssm);

    // ---- 7. Retire version n: stop its application (a snapshot is taken); its data is kept.
    const describeRetiring = sdk('DescribeRetiringApplication', 'kinesisanalyticsv2', 'describeApplication', {
      Arguments: { ApplicationName: J('$servingApp') },
      Assign: { retiringStatus: J('$states.result.ApplicationDetail.ApplicationStatus') },
    }, RETRIES.flink);
    const retiringRunning = sfn.Choice.jsonata(this, 'RetiringApplicationRunning');
    const stopRetiring = sdk('StopRetiringApplication', 'kinesisanalyticsv2', 'stopApplication', {
      Arguments: { ApplicationName: J('$servingApp'), Force: false },
    }, RETRIES.flinkTransition);
    const done = sfn.Succeed.jsonata(this, 'ReplayComplete', {
      outputs: {
        servingVersion: J('$next'),
        retiredVersion: J('$current'),
        servingApplication: J('$replayApp'),
        retiredApplication: J('$servingApp'),
        fromTimestamp: J('$fromTimestamp'),
        reason: J('$reason'),
        retiredData: 'kept',
      },
    });
    const retireIncomplete = sfn.Fail.jsonata(this, 'RetireIncomplete', {
      error: 'Reprocessing.RetireIncomplete',
      cause: J("'The replay is done and v=' & $string($next) & ' serves, but stopping ' & $servingApp & ' failed (' & $error & ': ' & $cause & '): stop it by hand.'"),
    });

    // ---- Failure paths. Before the switch: delete the replay, v=n serves untouched.
    const cleanUp = sfn.Choice.jsonata(this, 'ReplayCreated', { comment: 'Only an application this execution created is deleted' });
    const stopReplay = sdk('StopReplayApplication', 'kinesisanalyticsv2', 'stopApplication', {
      Arguments: { ApplicationName: J('$replayApp'), Force: true },
    }, RETRIES.flinkTransition);
    const deleteReplay = sdk('DeleteReplayApplication', 'kinesisanalyticsv2', 'deleteApplication', {
      Arguments: { ApplicationName: J('$replayApp'), CreateTimestamp: J('$replayCreatedAt') },
    }, RETRIES.flinkTransition);
    const replayFailed = sfn.Fail.jsonata(this, 'ReplayFailed', {
      error: 'Reprocessing.ReplayFailed',
      cause: J("'The serving views are unchanged. The replay failed at ' & $failedStep & ' with ' & $error & ': ' & $cause"),
    });
    const cleanUpIncomplete = sfn.Fail.jsonata(this, 'CleanUpIncomplete', {
      error: 'Reprocessing.CleanUpIncomplete',
      cause: J("'The serving views are unchanged. The replay failed at ' & $failedStep & ' with ' & $error & ': ' & $cause & '; deleting ' & $replayApp & ' failed too: delete it by hand.'"),
    });
    // During the switch: re-point the views already switched, then clean up as above.
    // view -> its statement up to the version, as a JSONata object literal.
    const revertLookup = JSON.stringify(Object.fromEntries(props.tables.map((t) => [servingViewName(t), sqlParts(t)[0]])));
    const revertView = athena('RevertView', {
      Comment: 'CREATE OR REPLACE VIEW <view> for v=<n> again',
      Arguments: {
        QueryString: J(`$lookup(${revertLookup}, $states.input.view) & $string($states.input.version) & ${jsonataString("'")}`),
        WorkGroup: props.workGroupName,
        QueryExecutionContext: queryContext,
      },
      Output: {},
    });
    const revert = sfn.Map.jsonata(this, 'RevertSwitchedViews', {
      comment: 'Points every view already switched back to v=<n>',
      items: sfn.ProvideItems.jsonata(J('$switched')),
      itemSelector: { view: J('$states.context.Map.Item.Value'), version: J('$current') },
      maxConcurrency: props.tables.length,
    });
    revert.itemProcessor(revertView);
    const revertFailed = sfn.Fail.jsonata(this, 'RevertFailed', {
      error: 'Reprocessing.RevertFailed',
      cause: J(
        "'Switching the views failed at ' & $failedStep & ' (' & $error & ': ' & $cause & ') and re-pointing ' & $join($switched, ', ') & ' back to v=' & $string($current) & " +
          "' failed too: run their CREATE OR REPLACE VIEW by hand (docs/reprocessing.md). ' & $replayApp & ' is left running: those views may read its version.'",
      ),
    });

    // ---- Wiring.
    checkInput
      .when(sfn.Condition.jsonata(J(
        `$type($states.input.fromTimestamp) = 'string' and $contains($states.input.fromTimestamp, ${utc})` +
          " and $type($states.input.reason) = 'string' and $length($trim($states.input.reason)) > 0",
      )), checkHorizon)
      .otherwise(invalidInput);
    checkHorizon
      .when(sfn.Condition.jsonata(J(`$toMillis($states.input.fromTimestamp) < $millis() - ${earliestMs}`)), outsideHorizon)
      .when(sfn.Condition.jsonata(J('$toMillis($states.input.fromTimestamp) > $millis()')), outsideHorizon)
      .otherwise(accept);
    accept.next(readVersion);
    readVersion.addCatch(cleanUp, caughtAt('ReadServingVersion')).next(describeServing);
    describeServing.addCatch(cleanUp, caughtAt('DescribeServingApplication')).next(checkTarget);
    checkTarget.addCatch(cleanUp, caughtAt('CheckReplayTargetEmpty')).next(targetEmpty);
    targetEmpty.when(sfn.Condition.jsonata(J('$existingObjects > 0')), targetNotEmpty).otherwise(createReplay);
    targetNotEmpty.next(cleanUp);
    createReplay.addCatch(cleanUp, caughtAt('CreateReplayApplication')).next(startReplay);
    startReplay.addCatch(cleanUp, caughtAt('StartReplayApplication')).next(waitForStart);
    waitForStart.next(describeStarting);
    describeStarting.addCatch(cleanUp, caughtAt('DescribeStartingReplay')).next(started);
    started
      .when(sfn.Condition.jsonata(J("$replayStatus = 'RUNNING'")), waitForLag)
      .when(sfn.Condition.jsonata(J(`${inList('$replayStatus', STARTING_STATUSES)} and $startPolls < ${maxStartPolls}`)), waitForStart)
      .when(sfn.Condition.jsonata(J(inList('$replayStatus', STARTING_STATUSES))), startTimedOut)
      .otherwise(didNotStart);
    startTimedOut.next(cleanUp);
    didNotStart.next(cleanUp);
    waitForLag.next(describeRunning);
    describeRunning.addCatch(cleanUp, caughtAt('DescribeRunningReplay')).next(stillRunning);
    stillRunning.when(sfn.Condition.jsonata(J(inList('$replayStatus', RUNNING_STATUSES))), readLag).otherwise(replayStopped);
    replayStopped.next(cleanUp);
    readLag.addCatch(cleanUp, caughtAt('ReadReplayLag')).next(caughtUp);
    caughtUp
      .when(sfn.Condition.jsonata(J(`$streak >= ${props.caughtUpPolls}`)), switches[0])
      .when(sfn.Condition.jsonata(J(`$lagPolls >= ${maxLagPolls}`)), catchUpTimedOut)
      .otherwise(waitForLag);
    catchUpTimedOut.next(cleanUp);
    switches.forEach((step, index) => {
      step.addCatch(revert, caughtAt(`Switch-${servingViewName(props.tables[index])}`));
      step.next(switches[index + 1] ?? recordVersion);
    });
    recordVersion.addCatch(revert, caughtAt('RecordServingVersion')).next(describeRetiring);
    describeRetiring.addCatch(retireIncomplete, caughtAt('DescribeRetiringApplication')).next(retiringRunning);
    retiringRunning.when(sfn.Condition.jsonata(J("$retiringStatus = 'RUNNING'")), stopRetiring).otherwise(done);
    stopRetiring.addCatch(retireIncomplete, caughtAt('StopRetiringApplication')).next(done);
    revert.addCatch(revertFailed, { errors: [sfn.Errors.ALL] }).next(cleanUp);
    cleanUp.when(sfn.Condition.jsonata(J('$created')), stopReplay).otherwise(replayFailed);
    // A replay that is not running cannot be stopped; it is deleted all the same.
    stopReplay.addCatch(deleteReplay, { errors: [sfn.Errors.ALL] }).next(deleteReplay);
    deleteReplay.addCatch(cleanUpIncomplete, { errors: [sfn.Errors.ALL] }).next(replayFailed);

    this.role = new iam.Role(this, 'Role', {
      description: `Runs the Kappa replay of ${props.name}`,
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: `${props.name}-kappa-replay`,
      comment: 'Tributary Kappa replay: replays the log from fromTimestamp into v=n+1, waits until caught up, switches the serving views, retires v=n.',
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSONATA,
      definitionBody: sfn.DefinitionBody.fromChainable(checkInput),
      role: this.role,
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      removalPolicy: props.removalPolicy,
    });
    this.grantSteps(props, applicationsArn);
  }

  /** Exactly what the steps call, on exactly what they call it. */
  private grantSteps(props: KappaReplayProps, applicationsArn: string): void {
    const stack = Stack.of(this);
    const allow = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      this.role.addToPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    allow(
      ['kinesisanalytics:DescribeApplication', 'kinesisanalytics:StartApplication', 'kinesisanalytics:StopApplication', 'kinesisanalytics:DeleteApplication', 'kinesisanalytics:TagResource'],
      [applicationsArn],
    );
    // CreateApplication has no resource type in the Service Authorization Reference
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonkinesisanalyticsv2.html): a grant
    // on the application ARN never matches. What the new application may do is bounded by the one role it may pass.
    allow(['kinesisanalytics:CreateApplication'], ['*']);
    allow(['iam:PassRole'], [props.replayRole.roleArn], { StringEquals: { 'iam:PassedToService': 'kinesisanalytics.amazonaws.com' } });
    // Creating and starting an application encrypted with a customer-managed key acts on the key as the caller.
    grantFlinkKeyToOperator(this.role, props.flinkKey, `${props.name}-stream-v*`);
    allow(['ssm:GetParameter', 'ssm:PutParameter'], [props.versionParameter.parameterArn]);
    allow(['s3:ListBucket'], [`arn:${Aws.PARTITION}:s3:::${props.lakeBucketName}`], { StringLike: { 's3:prefix': props.tables.map((t) => `${t.prefix}/v=*`) } });
    allow(['cloudwatch:GetMetricData'], ['*']);
    allow(
      ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
      [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workGroupName })],
    );
    allow(['athena:GetDataCatalog'], [stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' })]);
    const glue = (resource: string, resourceName?: string) => stack.formatArn({ service: 'glue', resource, resourceName });
    const catalogAndDatabase = [glue('catalog'), glue('database', props.databaseName)];
    const viewArns = props.tables.map((t) => glue('table', `${props.databaseName}/${servingViewName(t)}`));
    const tableArns = props.tables.map((t) => glue('table', `${props.databaseName}/${t.tableName}`));
    allow(['glue:GetDatabase'], catalogAndDatabase);
    allow(['glue:GetTable'], [...catalogAndDatabase, ...tableArns, ...viewArns]);
    allow(['glue:CreateTable', 'glue:UpdateTable'], [...catalogAndDatabase, ...viewArns]);
  }
}
