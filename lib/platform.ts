import { type App, type Stack, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { PlatformConfig } from './config';
import { architectureLayers } from './architecture';
import { AlertsStack } from './stacks/alerts-stack';
import { ArchiveStack } from './stacks/archive-stack';
import { BatchLayerStack } from './stacks/batch-layer-stack';
import { eventLogNeedsNetwork } from './constructs/event-log';
import { EventLogStack } from './stacks/event-log-stack';
import { NetworkStack } from './stacks/network-stack';
import { LakeStack } from './stacks/lake-stack';
import { ObservabilityStack } from './stacks/observability-stack';
import { ReprocessingStack } from './stacks/reprocessing-stack';
import { ServingStack } from './stacks/serving-stack';
import { SpeedLayerStack } from './stacks/speed-layer-stack';
import { StreamProcessingStack } from './stacks/stream-processing-stack';

/** Every stack of one deployment, by layer. */
export interface Platform {
  /** Only when the event log lives in a VPC. */
  readonly network?: NetworkStack;
  readonly eventLog: EventLogStack;
  readonly lake: LakeStack;
  readonly archive: ArchiveStack;
  readonly speedLayer: SpeedLayerStack;
  /** The alert notifier: alerts log -> SNS. */
  readonly alerts: AlertsStack;
  /** Only when `architecture` is `kappa` or `both`. */
  readonly streamProcessing?: StreamProcessingStack;
  readonly serving: ServingStack;
  /** Only when `architecture` is `kappa` or `both`. */
  readonly reprocessing?: ReprocessingStack;
  /** Only when `architecture` is `lambda` or `both`. */
  readonly batchLayer?: BatchLayerStack;
  readonly observability: ObservabilityStack;
}

/** The platform's stacks, in dependency order (the network stack only where the log needs one). */
export function platformStacks(platform: Platform): Stack[] {
  return Object.values(platform).filter((stack): stack is Stack => stack !== undefined);
}

/**
 * Builds the whole platform for one configuration into `app`, one stack per
 * layer, with the processing paths `architecture` selects (lib/architecture.ts),
 * and checks it with cdk-nag's AWS Solutions rules: an unacknowledged finding
 * fails synth.
 */
export function buildPlatform(app: App, profile: string, config: PlatformConfig): Platform {
  const env = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const stackName = (layer: string) => `${config.name}-${layer}`;
  const common = { config, env };

  const network = eventLogNeedsNetwork(config)
    ? new NetworkStack(app, 'Network', { ...common, stackName: stackName('network'), description: 'Tributary network for the event log' })
    : undefined;
  const eventLog = new EventLogStack(app, 'EventLog', { ...common, stackName: stackName('event-log'), description: 'Tributary event log', network: network?.network });
  const lake = new LakeStack(app, 'Lake', { ...common, stackName: stackName('lake'), description: 'Tributary lake: storage and catalog' });
  const archive = new ArchiveStack(app, 'Archive', {
    ...common, stackName: stackName('archive'), description: 'Tributary raw archive', eventLog: eventLog.eventLog, lake,
  });
  const speedLayer = new SpeedLayerStack(app, 'SpeedLayer', {
    ...common, stackName: stackName('speed-layer'), description: 'Tributary speed layer', eventLog: eventLog.eventLog, lake,
  });
  const alerts = new AlertsStack(app, 'Alerts', {
    ...common, stackName: stackName('alerts'), description: 'Tributary real-time alerts: the alert notifier (alerts log -> SNS)', eventLog: eventLog.eventLog, lake,
  });
  const layers = architectureLayers(config);
  const streamProcessing = layers.streamProcessing
    ? new StreamProcessingStack(app, 'StreamProcessing', {
      ...common, stackName: stackName('stream-processing'), description: 'Tributary stream processing (Managed Service for Apache Flink)', eventLog: eventLog.eventLog, lake,
    })
    : undefined;
  const serving = new ServingStack(app, 'Serving', { ...common, stackName: stackName('serving'), description: 'Tributary serving layer', lake });
  const reprocessing = streamProcessing
    ? new ReprocessingStack(app, 'Reprocessing', {
      ...common, stackName: stackName('reprocessing'), description: 'Tributary reprocessing: serving views and the Kappa replay',
      eventLog: eventLog.eventLog, lake, streamProcessing, serving,
    })
    : undefined;
  const batchLayer = layers.batchLayer
    ? new BatchLayerStack(app, 'BatchLayer', {
      ...common, stackName: stackName('batch-layer'), description: 'Tributary batch layer: scheduled recompute from raw/ and the lambda_ views', lake, serving,
    })
    : undefined;

  const observability = new ObservabilityStack(app, 'Observability', {
    ...common, stackName: stackName('observability'), description: 'Tributary dashboard and alarms',
    eventLog: eventLog.eventLog, archive, speedLayer, alerts, streamProcessing, serving, batchLayer,
  });

  Tags.of(app).add('project', 'tributary');
  Tags.of(app).add('tributary:profile', profile);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { network, eventLog, lake, archive, speedLayer, alerts, streamProcessing, serving, reprocessing, batchLayer, observability };
}
