import type { PlatformConfig } from '../../lib/config';
import { alertsLogSettings, type SandboxSettings } from '../settings';
import { KafkaLog, type KafkaLogOptions } from './kafka';
import { KinesisLog, type KinesisLogOptions } from './kinesis';
import type { LocalLog } from './types';

export * from './types';
export { KafkaLog, KinesisLog };
export type { KafkaLogOptions, KinesisLogOptions };

/** The event log the settings choose: kinesis-local (`log: 'kinesis'`) or the local Kafka broker (`log: 'kafka'`). */
export function openLog(settings: SandboxSettings, options: KinesisLogOptions & KafkaLogOptions = {}): LocalLog {
  switch (settings.log) {
    case 'kinesis':
      return new KinesisLog(settings, options);
    case 'kafka':
      return new KafkaLog(settings, options);
    default: {
      const unknown: never = settings.log;
      throw new Error(`Unknown log kind: ${String(unknown)}`);
    }
  }
}

/**
 * The real-time alerts log on the same engine as the event log (a second kinesis-local stream or Kafka topic).
 * On Kafka its records carry the broker's append time (LogAppendTime): Flink's Kafka sink stamps a record with
 * the alert's event time, and the sandbox measures when each alert reached the log. The deployed MSK topic keeps
 * Kafka's default (CreateTime); no consumer there reads the timestamp.
 */
export function openAlertsLog(settings: SandboxSettings, config: Pick<PlatformConfig, 'alerts'>): LocalLog {
  return openLog(alertsLogSettings(settings, config.alerts), { topicConfig: { 'message.timestamp.type': 'LogAppendTime' } });
}
