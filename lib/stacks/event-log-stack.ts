import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { PlatformConfig } from '../config';
import { eventLogFromConfig, type IEventLog, type LogNetwork } from '../constructs/event-log';

export interface EventLogStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** The network, for a log that lives in a VPC. */
  readonly network?: LogNetwork;
}

/** The event log every other layer reads from: Kinesis or MSK, chosen by the profile. */
export class EventLogStack extends Stack {
  public readonly eventLog: IEventLog;

  constructor(scope: Construct, id: string, props: EventLogStackProps) {
    super(scope, id, props);
    this.eventLog = eventLogFromConfig(this, 'EventLog', props.config, props.network);
  }
}
