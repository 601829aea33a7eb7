import {
  DescribeApplicationCommand,
  KinesisAnalyticsV2Client,
  ResourceNotFoundException,
  StartApplicationCommand,
  StopApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { isComplete, onEvent, type StarterEvent } from '../../lambdas/flink-starter/starter';

const kda = mockClient(KinesisAnalyticsV2Client);
const client = new KinesisAnalyticsV2Client({ region: 'eu-west-1' });
const NAME = 'tributary-dev-stream-v1';

function event(RequestType: StarterEvent['RequestType'], overrides: Partial<StarterEvent['ResourceProperties']> = {}): StarterEvent {
  return {
    RequestType,
    PhysicalResourceId: RequestType === 'Create' ? undefined : NAME,
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:framework-onEvent',
      ApplicationName: NAME,
      RestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT',
      AllowNonRestoredState: 'false',
      Trigger: '{"code":"abc"}',
      ...overrides,
    },
  };
}

/** DescribeApplication as the service answers it, trimmed to what matters. */
function statusIs(status: string) {
  kda.on(DescribeApplicationCommand, { ApplicationName: NAME }).resolves({
    ApplicationDetail: {
      ApplicationARN: `arn:aws:kinesisanalytics:eu-west-1:123456789012:application/${NAME}`,
      ApplicationName: NAME,
      ApplicationStatus: status as never,
      ApplicationVersionId: 3,
      RuntimeEnvironment: 'FLINK-2_2' as never,
    },
  });
}

beforeEach(() => kda.reset());

describe('start on deploy', () => {
  test('a READY application is started with the restore type and non-restored-state flag asked for', async () => {
    statusIs('READY');
    await expect(onEvent(client, event('Create', { RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT', AllowNonRestoredState: 'true' })))
      .resolves.toEqual({ PhysicalResourceId: NAME });
    expect(kda.commandCalls(StartApplicationCommand).map((c) => c.args[0].input)).toEqual([{
      ApplicationName: NAME,
      RunConfiguration: {
        ApplicationRestoreConfiguration: { ApplicationRestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' },
        FlinkRunConfiguration: { AllowNonRestoredState: true },
      },
    }]);
  });

  test.each(['RUNNING', 'STARTING', 'UPDATING', 'AUTOSCALING'])('an application %s is left alone: the service applies updates itself', async (status) => {
    statusIs(status);
    await onEvent(client, event('Update'));
    expect(kda.commandCalls(StartApplicationCommand)).toHaveLength(0);
  });

  test('an application that cannot be started fails the deploy with its status', async () => {
    statusIs('DELETING');
    await expect(onEvent(client, event('Update'))).rejects.toThrow(`Application ${NAME} is DELETING; it can be started only from READY.`);
  });

  test('a restore type the service does not know fails before any call', async () => {
    await expect(onEvent(client, event('Create', { RestoreType: 'RESTORE_FROM_YESTERDAY' }))).rejects.toThrow("RestoreType 'RESTORE_FROM_YESTERDAY' is not one of");
    expect(kda.calls()).toHaveLength(0);
  });

  test('the deploy waits while the job starts and completes once it runs', async () => {
    statusIs('STARTING');
    await expect(isComplete(client, event('Create'))).resolves.toEqual({ IsComplete: false });
    statusIs('RUNNING');
    await expect(isComplete(client, event('Create'))).resolves.toEqual({ IsComplete: true });
  });

  test('a job that falls back to READY while starting fails the deploy, pointing at its logs', async () => {
    statusIs('READY');
    await expect(isComplete(client, event('Create'))).rejects.toThrow(/is READY instead of RUNNING: the Flink job failed to start\. Its CloudWatch log group/);
  });
});

describe('removal', () => {
  test('a running application is stopped gracefully, so a snapshot is taken, and the delete waits for READY', async () => {
    statusIs('RUNNING');
    await onEvent(client, event('Delete'));
    expect(kda.commandCalls(StopApplicationCommand).map((c) => c.args[0].input)).toEqual([{ ApplicationName: NAME, Force: false }]);
    statusIs('STOPPING');
    await expect(isComplete(client, event('Delete'))).resolves.toEqual({ IsComplete: false });
    statusIs('READY');
    await expect(isComplete(client, event('Delete'))).resolves.toEqual({ IsComplete: true });
  });

  test.each(['STARTING', 'UPDATING', 'AUTOSCALING'])('an application %s, which cannot be stopped gracefully, is force-stopped rather than waited for', async (status) => {
    statusIs(status);
    await onEvent(client, event('Delete'));
    expect(kda.commandCalls(StopApplicationCommand).map((c) => c.args[0].input)).toEqual([{ ApplicationName: NAME, Force: true }]);
    statusIs('STOPPING');
    await expect(isComplete(client, event('Delete'))).resolves.toEqual({ IsComplete: false });
    statusIs('READY');
    await expect(isComplete(client, event('Delete'))).resolves.toEqual({ IsComplete: true });
  });

  test('an application already stopping or stopped is not stopped again', async () => {
    for (const status of ['STOPPING', 'READY']) {
      kda.reset();
      statusIs(status);
      await onEvent(client, event('Delete'));
      expect(kda.commandCalls(StopApplicationCommand)).toHaveLength(0);
    }
  });

  test('an application already gone is not an error', async () => {
    kda.on(DescribeApplicationCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    await expect(onEvent(client, event('Delete'))).resolves.toEqual({ PhysicalResourceId: NAME });
    await expect(isComplete(client, event('Delete'))).resolves.toEqual({ IsComplete: true });
    expect(kda.commandCalls(StopApplicationCommand)).toHaveLength(0);
  });
});
