/**
 * The platform's real-time half on Kinesis streams a team already runs: no event log of its own, no Flink
 * job, no batch layer. It composes the same constructs and layer stacks as lib/platform.ts, differently:
 *
 * - the event log and the alerts log are existing streams, brought in with KinesisEventLog.fromStreamAttributes;
 * - the lake, the speed layer and the alert notifier are the platform's own stacks, given that log;
 * - a dashboard of its own, composed from the layers' metric*() methods.
 *
 * Synthesize it with `npx cdk synth --app "npx ts-node --prefer-ts-exts examples/realtime-on-existing-stream/app.ts"`
 * (the stream ARNs and key come from context: -c eventsStreamArn=... -c alertsStreamArn=... -c streamKeyArn=...).
 * test/examples/realtime-on-existing-stream.test.ts synthesizes it under cdk-nag.
 */
import { App, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { loadConfig, type PlatformConfig } from '../../lib/config';
import { type IEventLog, KinesisEventLog } from '../../lib/constructs/event-log';
import { AlertsStack } from '../../lib/stacks/alerts-stack';
import { LakeStack } from '../../lib/stacks/lake-stack';
import { SpeedLayerStack } from '../../lib/stacks/speed-layer-stack';

/** The streams the team already has, and what they hold. */
export interface ExistingStreams {
  readonly eventsStreamArn: string;
  readonly alertsStreamArn: string;
  /** The customer-managed key both streams are encrypted with. */
  readonly streamKeyArn: string;
  /** The events stream's retention: how far back the speed layer can be re-run. @default 7 days */
  readonly eventsRetention?: Duration;
  /** The alerts stream's retention. @default 24 hours */
  readonly alertsRetention?: Duration;
}

/**
 * The existing streams as an event log. Importing creates no resource, so it needs no stack of its own (an
 * empty stack is not a valid template): `scope` is any stack of the app. The ARNs are literal strings, so
 * no other stack gets a cross-stack reference from it.
 */
export function existingStreams(scope: Construct, streams: ExistingStreams): IEventLog {
  const key = kms.Key.fromKeyArn(scope, 'StreamKey', streams.streamKeyArn);
  return KinesisEventLog.fromStreamAttributes(scope, 'ExistingStreams', {
    streamArn: streams.eventsStreamArn,
    encryptionKey: key,
    retention: streams.eventsRetention ?? Duration.days(7),
    alerts: { streamArn: streams.alertsStreamArn, encryptionKey: key, retention: streams.alertsRetention ?? Duration.hours(24) },
  });
}

/** A dashboard of the real-time path, from the layers' own metric methods. */
export class RealtimeDashboardStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps & { readonly config: PlatformConfig; readonly eventLog: IEventLog; readonly speedLayer: SpeedLayerStack; readonly alerts: AlertsStack }) {
    super(scope, id, props);
    const { eventLog, speedLayer, alerts } = props;
    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.config.name}-realtime`,
      widgets: [[
        new cloudwatch.GraphWidget({ title: 'Speed layer records', left: [speedLayer.metric('RecordsIn'), speedLayer.metricRecordsDeadLettered()], width: 8 }),
        new cloudwatch.GraphWidget({ title: 'Behind the stream (ms)', left: [eventLog.metricSpeedLayerLag(speedLayer.handler), eventLog.alerts.metricNotifierLag(alerts.notifier)], width: 8 }),
        new cloudwatch.GraphWidget({ title: 'Alerts published; failed batches', left: [alerts.metric('AlertsPublished')], right: [speedLayer.metricFailedBatches(), alerts.metricFailedBatches()], width: 8 }),
      ]],
    });
  }
}

/** Builds the example into `app`: four stacks, checked by cdk-nag like the platform. */
export function buildRealtimeOnExistingStream(app: App, config: PlatformConfig, streams: ExistingStreams) {
  const env = config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const common = { config, env };
  const lake = new LakeStack(app, 'Lake', { ...common, stackName: `${config.name}-lake` });
  const eventLog = existingStreams(lake, streams);
  const speedLayer = new SpeedLayerStack(app, 'SpeedLayer', { ...common, stackName: `${config.name}-speed-layer`, eventLog, lake });
  const alerts = new AlertsStack(app, 'Alerts', { ...common, stackName: `${config.name}-alerts`, eventLog, lake });
  const dashboard = new RealtimeDashboardStack(app, 'Dashboard', { env, config, eventLog, speedLayer, alerts });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { eventLog, lake, speedLayer, alerts, dashboard };
}

if (require.main === module) {
  const app = new App();
  const { config } = loadConfig(app.node);
  const context = (key: string) => {
    const value = app.node.tryGetContext(key);
    if (typeof value !== 'string' || !value.startsWith('arn:')) throw new Error(`Context key ${key} must be an ARN: pass -c ${key}=arn:...`);
    return value;
  };
  buildRealtimeOnExistingStream(app, config, {
    eventsStreamArn: context('eventsStreamArn'),
    alertsStreamArn: context('alertsStreamArn'),
    streamKeyArn: context('streamKeyArn'),
  });
}
