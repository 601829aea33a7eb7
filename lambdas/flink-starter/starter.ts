import {
  ApplicationRestoreType,
  ApplicationStatus,
  DescribeApplicationCommand,
  type KinesisAnalyticsV2Client,
  ResourceNotFoundException,
  StartApplicationCommand,
  StopApplicationCommand,
} from '@aws-sdk/client-kinesis-analytics-v2';

/**
 * Start-on-deploy for a Managed Service for Apache Flink application, as a
 * CloudFormation custom resource run by CDK's Provider framework: `onEvent`
 * asks for what is needed, `isComplete` is polled until the application is
 * where the deploy wants it. CloudFormation alone only creates an application;
 * it never starts one.
 */

/** The custom resource's properties, as the stack sets them (CloudFormation passes them as strings). */
export interface StarterProperties {
  readonly ApplicationName: string;
  /** RESTORE_FROM_LATEST_SNAPSHOT or SKIP_RESTORE_FROM_SNAPSHOT. */
  readonly RestoreType: string;
  readonly AllowNonRestoredState: string;
  /** Changes whenever the code or configuration does, so every such deploy ensures the application runs. */
  readonly Trigger?: string;
}

export interface StarterEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: StarterProperties & { ServiceToken?: string };
  readonly PhysicalResourceId?: string;
}

/** States the service moves through by itself; the deploy waits them out. */
const TRANSITIONAL = new Set<string>([
  ApplicationStatus.STARTING,
  ApplicationStatus.UPDATING,
  ApplicationStatus.AUTOSCALING,
  ApplicationStatus.STOPPING,
  ApplicationStatus.MAINTENANCE,
  ApplicationStatus.ROLLING_BACK,
]);

/**
 * StopApplication stops a RUNNING application gracefully (with a snapshot); with Force it also stops one
 * STARTING, UPDATING, AUTOSCALING or already STOPPING, without a snapshot.
 * https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_StopApplication.html
 */
const FORCE_STOPPABLE = new Set<string>([ApplicationStatus.STARTING, ApplicationStatus.UPDATING, ApplicationStatus.AUTOSCALING]);

const RESTORE_TYPES = new Set<string>([ApplicationRestoreType.RESTORE_FROM_LATEST_SNAPSHOT, ApplicationRestoreType.SKIP_RESTORE_FROM_SNAPSHOT]);

async function statusOf(client: KinesisAnalyticsV2Client, name: string): Promise<string | undefined> {
  try {
    const described = await client.send(new DescribeApplicationCommand({ ApplicationName: name }));
    return described.ApplicationDetail?.ApplicationStatus;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

function validated(properties: StarterProperties): StarterProperties {
  if (!properties.ApplicationName) throw new Error('ApplicationName is required.');
  if (!RESTORE_TYPES.has(properties.RestoreType)) {
    throw new Error(`RestoreType '${properties.RestoreType}' is not one of ${[...RESTORE_TYPES].join(', ')}.`);
  }
  return properties;
}

/** Creates and updates start the application if it is stopped; deletes stop it. */
export async function onEvent(client: KinesisAnalyticsV2Client, event: StarterEvent): Promise<{ PhysicalResourceId: string }> {
  const properties = validated(event.ResourceProperties);
  const name = properties.ApplicationName;
  const status = await statusOf(client, name);

  if (event.RequestType === 'Delete') {
    if (status === ApplicationStatus.RUNNING) {
      // A graceful stop: the service takes a snapshot when snapshots are enabled.
      await client.send(new StopApplicationCommand({ ApplicationName: name, Force: false }));
    } else if (status !== undefined && FORCE_STOPPABLE.has(status)) {
      // Not running yet (or scaling, updating): only a forced stop is allowed, and there is no job state to snapshot
      // that the last checkpoint does not hold. Waiting for READY instead would last until the deploy's timeout.
      await client.send(new StopApplicationCommand({ ApplicationName: name, Force: true }));
    }
    return { PhysicalResourceId: event.PhysicalResourceId ?? name };
  }

  if (status === undefined) throw new Error(`Application ${name} does not exist.`);
  if (status === ApplicationStatus.READY) {
    await client.send(
      new StartApplicationCommand({
        ApplicationName: name,
        RunConfiguration: {
          ApplicationRestoreConfiguration: { ApplicationRestoreType: properties.RestoreType as ApplicationRestoreType },
          FlinkRunConfiguration: { AllowNonRestoredState: properties.AllowNonRestoredState === 'true' },
        },
      }),
    );
  } else if (status !== ApplicationStatus.RUNNING && !TRANSITIONAL.has(status)) {
    throw new Error(`Application ${name} is ${status}; it can be started only from READY.`);
  }
  // RUNNING: a code or configuration update is applied by the service itself, which restarts the job from a snapshot.
  return { PhysicalResourceId: name };
}

/** Polled until the application runs (create, update) or is stopped or gone (delete). */
export async function isComplete(client: KinesisAnalyticsV2Client, event: StarterEvent): Promise<{ IsComplete: boolean }> {
  const name = validated(event.ResourceProperties).ApplicationName;
  const status = await statusOf(client, name);
  if (event.RequestType === 'Delete') {
    return { IsComplete: status === undefined || status === ApplicationStatus.READY || status === ApplicationStatus.DELETING };
  }
  if (status === ApplicationStatus.RUNNING) return { IsComplete: true };
  if (status !== undefined && TRANSITIONAL.has(status)) return { IsComplete: false };
  // Back in READY after a start means the job failed while starting.
  throw new Error(
    `Application ${name} is ${status ?? 'gone'} instead of RUNNING: the Flink job failed to start. ` +
      'Its CloudWatch log group has the exception.',
  );
}
