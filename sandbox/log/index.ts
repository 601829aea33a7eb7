import type { SandboxSettings } from '../settings';
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
