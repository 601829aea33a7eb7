import { Aws, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type BatchView, lambdaViewName } from '../../batch';
import { ATHENA_RETRY, athenaQueryTask, caughtAt, J, SSM_RETRY, sdkTask, transient } from '../state-machine-tasks';

export interface BatchRunProps {
  /** The platform's name: the state machine is `<name>-batch-layer`. */
  readonly name: string;
  /** The batch layer's function (lambdas/batch-layer): plan, render, switch. */
  readonly handler: lambda.IFunction;
  /** Holds the run the `lambda_` views serve, `{"run": "<id>", "watermarkMs": <ms>}`. */
  readonly servedRunParameter: ssm.IStringParameter;
  /** The views a run writes and switches, in switch order. */
  readonly views: readonly BatchView[];
  /** Glue database of the lake (its literal name). */
  readonly databaseName: string;
  /** The Athena workgroup the INSERTs and the view switch run in. */
  readonly workGroupName: string;
  /** How many INSERT chunks run at once. @default 2 */
  readonly maxConcurrency?: number;
  /** The state machine's execution log (KMS-encrypted by the caller). */
  readonly logGroup: logs.ILogGroup;
  readonly removalPolicy: RemovalPolicy;
}


/** The longest an INSERT chunk may run: above Athena's own DML timeout, so Athena's message is the one reported. */
export const INSERT_TIMEOUT = Duration.hours(4);

/** Retries of each integration this state machine calls; a failed query itself is never retried (see Athena below). */
export const RETRIES = {
  /** Lambda's own transient errors and throttling; an error the function throws (InvalidBatchInput) is not retried. */
  lambda: {
    errors: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    maxDelay: Duration.seconds(60),
    jitterStrategy: sfn.JitterType.FULL,
  },
  stepFunctions: transient('Sfn', ['InternalServerException']),
  ssm: SSM_RETRY,
  /**
   * Athena's StartQueryExecution throttling and transient errors. A query that ran and failed
   * (`States.TaskFailed`) is not retried: a failed INSERT can leave files behind, and a second
   * attempt would add its rows to them. Each chunk is started with a ClientRequestToken, so a
   * retried start of the same chunk returns the same query instead of starting another.
   */
  athena: ATHENA_RETRY,
} satisfies Record<string, sfn.RetryProps>;

/**
 * One batch run of the Lambda architecture, as a Step Functions standard workflow started by
 * the schedule or by hand (any input): unless another run is in progress, plan the run (its id
 * and watermark from the execution's start), write every batch view of the run with Athena
 * INSERTs, chunk by chunk, then re-point the `lambda_` views at the run, one by one, and record
 * it as served. Any failure before the switch leaves the views on the last good run; a failure
 * during the switch re-points the views already switched back. See docs/batch-layer.md.
 */
export class BatchRun extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly role: iam.Role;
  public readonly stateMachineName: string;

  constructor(scope: Construct, id: string, props: BatchRunProps) {
    super(scope, id);
    this.stateMachineName = `${props.name}-batch-layer`;
    const queryContext = { Catalog: 'AwsDataCatalog', Database: props.databaseName };
    const viewNames = props.views.map(lambdaViewName);

    const invoke = (stateId: string, payload: Record<string, unknown>, state: Record<string, unknown>) =>
      new sfn.CustomState(this, stateId, {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${Aws.PARTITION}:states:::lambda:invoke`,
          TimeoutSeconds: 120,
          Arguments: { FunctionName: props.handler.functionArn, Payload: payload },
          ...state,
        },
      }).addRetry(RETRIES.lambda);
    const athena = (stateId: string, timeout: Duration, state: Record<string, unknown>) => athenaQueryTask(this, stateId, timeout, state);
    const sdk = (stateId: string, service: string, action: string, state: Record<string, unknown>, retry: sfn.RetryProps) =>
      sdkTask(this, stateId, service, action, state, retry, Duration.seconds(60));

    // ---- 1. One run at a time: this execution is RUNNING itself, so another RUNNING one means overlap.
    const accept = sfn.Pass.jsonata(this, 'AcceptRun', { assign: { run: 'not planned yet', switched: [], scannedBytes: 0 } });
    const listRuns = sdk('ListRunningRuns', 'sfn', 'listExecutions', {
      Comment: 'The RUNNING executions of this state machine',
      Arguments: { StateMachineArn: J('$states.context.StateMachine.Id'), StatusFilter: 'RUNNING', MaxResults: 10 },
      Assign: { otherRuns: J('[$states.result.Executions[ExecutionArn != $states.context.Execution.Id].Name]') },
    }, RETRIES.stepFunctions);
    const otherRun = sfn.Choice.jsonata(this, 'OtherRunInProgress', { comment: 'Skip, rather than overlap: the next scheduled run picks up what this one would have done' });
    const skipped = sfn.Succeed.jsonata(this, 'RunSkipped', {
      outputs: { skipped: true, reason: 'another batch run is in progress', running: J('$otherRuns') },
    });

    // ---- 2. The plan: run id and watermark from the execution's start, the INSERT chunks from raw/'s first day.
    const plan = invoke('PlanRun', { action: 'plan', startedAt: J('$states.context.Execution.StartTime') }, {
      Comment: "Lists raw/ for its first dt= and plans the run: id, watermark (start - settleMinutes), INSERT chunks of at most 100 days of one view",
      Assign: { plan: J('$states.result.Payload'), run: J('$states.result.Payload.run') },
    });

    // ---- 3. Every chunk: its INSERT rendered, then run in Athena; a few at a time.
    const render = invoke('RenderChunk', {
      action: 'render',
      run: J('$states.input.run'),
      startedAtMs: J('$states.input.startedAtMs'),
      watermarkMs: J('$states.input.watermarkMs'),
      chunk: J('$states.input.chunk'),
    }, { Output: J('$states.result.Payload') });
    const insert = athena('InsertChunk', INSERT_TIMEOUT, {
      Comment: 'INSERT INTO batch_<view> ... run=<id>, dt within the chunk',
      Arguments: {
        QueryString: J('$states.input.sql'),
        ClientRequestToken: J('$states.input.token'),
        WorkGroup: props.workGroupName,
        QueryExecutionContext: queryContext,
      },
      Output: {
        view: J('$states.input.view'),
        queryExecutionId: J('$states.result.QueryExecution.QueryExecutionId'),
        scannedBytes: J('( $b := $states.result.QueryExecution.Statistics.DataScannedInBytes; $exists($b) ? $b : 0 )'),
      },
    });
    const write = sfn.Map.jsonata(this, 'WriteBatchViews', {
      comment: 'One INSERT per chunk: at most 100 days of one view, as Athena writes at most 100 partitions per query',
      items: sfn.ProvideItems.jsonata(J('$plan.chunks')),
      itemSelector: {
        run: J('$plan.run'),
        startedAtMs: J('$plan.startedAtMs'),
        watermarkMs: J('$plan.watermarkMs'),
        chunk: J('$states.context.Map.Item.Value'),
      },
      maxConcurrency: props.maxConcurrency ?? 2,
      assign: { scannedBytes: J('$sum([$states.result.scannedBytes])') },
    });
    write.itemProcessor(render.next(insert));

    // ---- 4. Only a fresh run whose watermark is ahead of the served one may switch.
    const readServed = sdk('ReadServedRun', 'ssm', 'getParameter', {
      Arguments: { Name: props.servedRunParameter.parameterName },
      Assign: { served: J('$parse($states.result.Parameter.Value)') },
    }, RETRIES.ssm);
    const canServe = sfn.Choice.jsonata(this, 'CheckRunCanServe', { comment: 'Never a redriven run (a re-run INSERT may have doubled rows), never a watermark behind the served one' });
    const redriven = sfn.Fail.jsonata(this, 'RedrivenRun', {
      error: 'Batch.RedrivenRun',
      cause: J("'Run ' & $run & ' was redriven: an INSERT that failed may have left files that its second attempt added to, so the run is not served. The lambda_ views are unchanged. Start a new execution instead (docs/batch-layer.md).'"),
    });
    const notAhead = sfn.Fail.jsonata(this, 'WatermarkNotAhead', {
      error: 'Batch.WatermarkNotAhead',
      cause: J("'Run ' & $run & ' has watermark ' & $fromMillis($plan.watermarkMs) & ', not after the served run ' & $served.run & \"'s \" & $fromMillis($served.watermarkMs) & ': the lambda_ views keep serving ' & $served.run & '.'"),
    });

    // ---- 5. The switch: every lambda_ view re-pointed at the run, one statement at a time; then the run is recorded.
    const renderSwitch = invoke('RenderSwitch', {
      action: 'switch',
      run: J('$plan.run'),
      watermarkMs: J('$plan.watermarkMs'),
      served: { run: J('$served.run'), watermarkMs: J('$served.watermarkMs') },
    }, {
      Assign: { switchSql: J('$states.result.Payload.statements'), revertSql: J('$states.result.Payload.revertStatements') },
    });
    const switches = viewNames.map((view, index) => athena(`Switch-${view}`, Duration.minutes(10), {
      Comment: `CREATE OR REPLACE VIEW ${view} for the run`,
      Arguments: { QueryString: J(`$lookup($switchSql, '${view}')`), WorkGroup: props.workGroupName, QueryExecutionContext: queryContext },
      Assign: { switched: viewNames.slice(0, index + 1) },
      Output: {},
    }));
    const record = sdk('RecordServedRun', 'ssm', 'putParameter', {
      Arguments: {
        Name: props.servedRunParameter.parameterName,
        Value: J("$string({'run': $plan.run, 'watermarkMs': $plan.watermarkMs})"),
        Overwrite: true,
      },
    }, RETRIES.ssm);
    const done = sfn.Succeed.jsonata(this, 'RunServed', {
      outputs: {
        run: J('$plan.run'),
        watermark: J('$fromMillis($plan.watermarkMs)'),
        watermarkMs: J('$plan.watermarkMs'),
        firstRawDay: J('$plan.firstRawDay'),
        chunks: J('$count($plan.chunks)'),
        scannedBytes: J('$scannedBytes'),
        previousRun: J('$served.run'),
      },
    });

    // ---- Failures. Before the switch: nothing to undo, the views serve the last good run.
    const runFailed = sfn.Fail.jsonata(this, 'RunFailed', {
      error: 'Batch.RunFailed',
      cause: J(
        "'The lambda_ views are unchanged. Run ' & $run & ' failed at ' & $failedStep & ' with ' & $error & ': ' & $cause & " +
          "'. Whatever it wrote under batch/<view>/run=' & $run & '/ is never served and expires.'",
      ),
    });
    // During the switch: the views already switched go back to the served run.
    const revertView = athena('RevertView', Duration.minutes(10), {
      Comment: 'CREATE OR REPLACE VIEW <view> for the served run again',
      Arguments: { QueryString: J('$states.input.sql'), WorkGroup: props.workGroupName, QueryExecutionContext: queryContext },
      Output: {},
    });
    const revert = sfn.Map.jsonata(this, 'RevertSwitchedViews', {
      comment: 'Points every view already switched back to the served run',
      items: sfn.ProvideItems.jsonata(J('$switched')),
      itemSelector: { view: J('$states.context.Map.Item.Value'), sql: J('$lookup($revertSql, $states.context.Map.Item.Value)') },
      maxConcurrency: viewNames.length,
    });
    revert.itemProcessor(revertView);
    const revertFailed = sfn.Fail.jsonata(this, 'RevertFailed', {
      error: 'Batch.RevertFailed',
      cause: J(
        "'Switching the lambda_ views to run ' & $run & ' failed at ' & $failedStep & ' (' & $error & ': ' & $cause & ') and re-pointing ' & $join($switched, ', ') & " +
          "' back to run ' & $served.run & ' failed too: those views serve run ' & $run & ' (each whole); start a new execution, or re-point them by hand (docs/batch-layer.md).'",
      ),
    });

    // ---- Wiring.
    accept.next(listRuns);
    listRuns.addCatch(runFailed, caughtAt('ListRunningRuns')).next(otherRun);
    otherRun.when(sfn.Condition.jsonata(J('$count($otherRuns) > 0')), skipped).otherwise(plan);
    plan.addCatch(runFailed, caughtAt('PlanRun')).next(write);
    write.addCatch(runFailed, caughtAt('WriteBatchViews')).next(readServed);
    readServed.addCatch(runFailed, caughtAt('ReadServedRun')).next(canServe);
    canServe
      .when(sfn.Condition.jsonata(J('$exists($states.context.Execution.RedriveCount) and $states.context.Execution.RedriveCount > 0')), redriven)
      .when(sfn.Condition.jsonata(J('$plan.watermarkMs <= $served.watermarkMs')), notAhead)
      .otherwise(renderSwitch);
    renderSwitch.addCatch(runFailed, caughtAt('RenderSwitch')).next(switches[0]);
    switches.forEach((step, index) => {
      step.addCatch(revert, caughtAt(`Switch-${viewNames[index]}`));
      step.next(switches[index + 1] ?? record);
    });
    record.addCatch(revert, caughtAt('RecordServedRun')).next(done);
    revert.addCatch(revertFailed, { errors: [sfn.Errors.ALL] }).next(runFailed);

    this.role = new iam.Role(this, 'Role', {
      description: `Runs the batch layer of ${props.name}`,
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: this.stateMachineName,
      comment: 'Tributary batch layer: recomputes the batch views from raw/ up to a watermark with Athena, then switches the lambda_ views to the new run.',
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSONATA,
      definitionBody: sfn.DefinitionBody.fromChainable(accept),
      role: this.role,
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      removalPolicy: props.removalPolicy,
    });
    this.grantSteps(props, viewNames);
  }

  /** What the steps call, other than the lake's objects (granted by the stack): exactly that, on exactly what they call it. */
  private grantSteps(props: BatchRunProps, viewNames: string[]): void {
    const stack = Stack.of(this);
    const allow = (actions: string[], resources: string[]) => this.role.addToPolicy(new iam.PolicyStatement({ actions, resources }));
    allow(['lambda:InvokeFunction'], [props.handler.functionArn]);
    // Its own executions, by its fixed name: a reference to the state machine from its role's policy would be circular.
    allow(['states:ListExecutions'], [`arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:stateMachine:${this.stateMachineName}`]);
    allow(['ssm:GetParameter', 'ssm:PutParameter'], [props.servedRunParameter.parameterArn]);
    allow(
      ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
      [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workGroupName })],
    );
    allow(['athena:GetDataCatalog'], [stack.formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' })]);
    const glue = (resource: string, resourceName?: string) => stack.formatArn({ service: 'glue', resource, resourceName });
    const table = (name: string) => glue('table', `${props.databaseName}/${name}`);
    const catalogAndDatabase = [glue('catalog'), glue('database', props.databaseName)];
    const batchTables = props.views.map((view) => table(`batch_${view}`));
    // What the INSERTs read and the lambda_ views select from.
    const sources = [table('raw_transactions'), ...['spend_per_card_minute', 'spend_per_customer_hour', 'alerts'].map((view) => table(`speed_${view}`))];
    const views = viewNames.map(table);
    allow(['glue:GetDatabase'], catalogAndDatabase);
    allow(['glue:GetTable'], [...catalogAndDatabase, ...sources, ...batchTables, ...views]);
    allow(['glue:GetPartition', 'glue:GetPartitions', 'glue:CreatePartition', 'glue:BatchCreatePartition'], [...catalogAndDatabase, ...batchTables]);
    allow(['glue:CreateTable', 'glue:UpdateTable'], [...catalogAndDatabase, ...views]);
  }
}
