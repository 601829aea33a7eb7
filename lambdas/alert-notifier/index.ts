import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { loadAlertNotifierEnv } from './env';
import { createAlertNotifierHandler } from './handler';

/**
 * Lambda entry point of the alert notifier, for Kinesis and Amazon MSK event source mappings on the alerts
 * log. Runs once per container: a bad environment fails the init phase naming the variable. Endpoints come
 * only from the SDK's standard settings (AWS_ENDPOINT_URL_DYNAMODB, _SNS, _S3), as in the sandbox.
 */
const env = loadAlertNotifierEnv();

export const handler = createAlertNotifierHandler({
  env,
  s3: new S3Client({}),
  sns: new SNSClient({}),
  // Powertools' defaults for the table: partition key `id`, TTL attribute `expiration`.
  persistenceStore: new DynamoDBPersistenceLayer({ tableName: env.IDEMPOTENCY_TABLE_NAME, awsSdkV3Client: new DynamoDBClient({}) }),
  logger: new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME, logLevel: env.POWERTOOLS_LOG_LEVEL }),
  metrics: new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE, serviceName: env.POWERTOOLS_SERVICE_NAME }),
});
