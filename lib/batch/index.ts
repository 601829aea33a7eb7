export * from './batch-views';
export * from './batch-plan';
export * from './lambda-views';
