import { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { type PlatformConfig, removalPolicyFor } from '../../config';
import type { IEventLog } from './event-log';
import { KinesisEventLog } from './kinesis-event-log';
import type { LogNetwork } from './log-network';
import { MskEventLog } from './msk-event-log';
import { platformNames } from '../../names';

/** The alerts log's stream name on Kinesis (the sandbox's kinesis-local stream and Kafka topic are `tributary-alerts-log`). */
export function alertsLogName(config: PlatformConfig): string {
  return platformNames(config.name).alertsLog;
}

/** The alerts topic on the MSK cluster, beside the events topic `transactions`. */
export const ALERTS_TOPIC = 'alerts';

/**
 * Builds the event log the configuration asks for. This is the one place in
 * the platform that knows which kinds of log exist.
 */
export function eventLogFromConfig(scope: Construct, id: string, config: PlatformConfig, network?: LogNetwork): IEventLog {
  const removalPolicy = removalPolicyFor(config);
  switch (config.eventLog.type) {
    case 'kinesis': {
      const kinesis = config.eventLog.kinesis;
      return new KinesisEventLog(scope, id, {
        streamName: platformNames(config.name).eventLog,
        capacityMode: kinesis.capacityMode,
        shardCount: kinesis.shardCount,
        retention: Duration.hours(kinesis.retentionHours),
        enhancedFanOut: kinesis.enhancedFanOut,
        removalPolicy,
        alerts: { streamName: alertsLogName(config), shardCount: config.alerts.shardCount, retention: Duration.hours(config.alerts.retentionHours) },
      });
    }
    case 'msk': {
      const msk = config.eventLog.msk;
      if (!network) throw new Error('An MSK event log lives in a VPC: build the network first (eventLogNeedsNetwork).');
      return new MskEventLog(scope, id, {
        clusterName: platformNames(config.name).eventLog,
        serverless: msk.serverless,
        kafkaVersion: msk.kafkaVersion,
        brokerNodes: msk.brokerNodes,
        instanceType: msk.instanceType,
        storageGiB: msk.storageGiB,
        topicName: 'transactions',
        partitions: msk.partitions,
        retention: Duration.hours(msk.retentionHours),
        enhancedMonitoring: msk.enhancedMonitoring,
        network,
        logRetention: config.observability.logRetentionDays,
        removalPolicy,
        alerts: { topicName: ALERTS_TOPIC, partitions: config.alerts.partitions, retention: Duration.hours(config.alerts.retentionHours) },
      });
    }
  }
}

/** Whether the configured log lives in a VPC, so that the platform builds a network stack for it. */
export function eventLogNeedsNetwork(config: PlatformConfig): boolean {
  return config.eventLog.type === 'msk';
}
