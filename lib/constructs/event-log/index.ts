export * from './alerts-log';
export * from './event-log';
export * from './kinesis-event-log';
export * from './from-config';
export * from './log-network';
export * from './msk-event-log';
