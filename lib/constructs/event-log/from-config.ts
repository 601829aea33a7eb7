import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { PlatformConfig } from '../../config';
import type { IEventLog } from './event-log';
import { KinesisEventLog } from './kinesis-event-log';

/**
 * Builds the event log the configuration asks for. This is the one place in
 * the platform that knows which kinds of log exist.
 */
export function eventLogFromConfig(scope: Construct, id: string, config: PlatformConfig): IEventLog {
  const removalPolicy = config.dataRemoval === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
  switch (config.eventLog.type) {
    case 'kinesis': {
      const kinesis = config.eventLog.kinesis;
      return new KinesisEventLog(scope, id, {
        streamName: `${config.name}-events`,
        capacityMode: kinesis.capacityMode,
        shardCount: kinesis.shardCount,
        retention: Duration.hours(kinesis.retentionHours),
        enhancedFanOut: kinesis.enhancedFanOut,
        removalPolicy,
      });
    }
  }
}
