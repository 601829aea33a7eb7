export * from './flink-application';
export * from './flink-jar';
