export * from './event-log';
export * from './kinesis-event-log';
export * from './from-config';
