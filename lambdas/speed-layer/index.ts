import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { alertsLogFor } from './alerts-log';
import { alertsLogTarget, loadSpeedLayerEnv, runtimeRegion, speedRuleParameters } from './env';
import { createSpeedLayerHandler } from './handler';

/**
 * Lambda entry point for Kinesis and Amazon MSK event source mappings alike. Runs once per container: a bad environment fails the
 * init phase with a message naming the variable. The SDK clients take their
 * endpoints only from the SDK's standard settings (e.g. AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_KINESIS),
 * which is how the local sandbox points this same code at its stand-ins. The alerts-log writer (and the
 * Kafka producer's connections) live as long as the container and serve every invocation.
 */
const env = loadSpeedLayerEnv();

export const handler = createSpeedLayerHandler({
  env,
  s3: new S3Client({}),
  alertsLog: alertsLogFor(alertsLogTarget(env), {
    // HTTP/1.1 rather than the Kinesis client's default HTTP/2, which only SubscribeToShard needs: PutRecords works
    // over either on AWS, and kinesis-local (the sandbox's stand-in) serves HTTP/1.1 only.
    kinesis: () => new KinesisClient({ requestHandler: new NodeHttpHandler() }),
    region: () => runtimeRegion(),
  }),
  logger: new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME, logLevel: env.POWERTOOLS_LOG_LEVEL }),
  metrics: new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE, serviceName: env.POWERTOOLS_SERVICE_NAME }),
  rules: speedRuleParameters(env),
});
