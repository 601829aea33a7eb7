import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { loadBatchLayerEnv } from './env';
import { createBatchLayerHandler } from './handler';

/**
 * Lambda entry point of the batch layer's state machine (plan, render, switch). A bad
 * environment fails the init phase, naming the variable. The S3 client takes its endpoint
 * only from the SDK's standard settings.
 */
const env = loadBatchLayerEnv();

export const handler = createBatchLayerHandler({
  env,
  s3: new S3Client({}),
  logger: new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME, logLevel: env.POWERTOOLS_LOG_LEVEL }),
});
