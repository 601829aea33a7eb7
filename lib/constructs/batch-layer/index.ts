export * from './batch-run';
