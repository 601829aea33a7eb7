import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { kinesisAlertsLog } from '../../lambdas/speed-layer/alerts-log';
import { createSpeedLayerHandler, type SpeedLayerDependencies } from '../../lambdas/speed-layer/handler';
import { VALID_ENV } from './fixtures';

/**
 * The speed-layer handler as the input tests run it: real S3 and Kinesis clients (mock them with
 * aws-sdk-client-mock), a silent logger, metrics kept off the test output, and a fixed clock.
 */
export function silentSpeedLayerHandler(options: { now: number; env?: SpeedLayerDependencies['env']; logger?: Logger }) {
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'speed-layer' });
  jest.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
  return createSpeedLayerHandler({
    env: options.env ?? VALID_ENV,
    s3: new S3Client({ region: 'eu-west-1' }),
    alertsLog: kinesisAlertsLog(new KinesisClient({ region: 'eu-west-1' }), 'alerts'),
    logger: options.logger ?? new Logger({ serviceName: 'speed-layer', logLevel: 'SILENT' }),
    metrics,
    clock: () => options.now,
  });
}
