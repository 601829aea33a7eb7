import type { SpeedLayerEnv } from '../lambdas/speed-layer/env';
import { LakePrefix, SPEED_DEAD_LETTER_PREFIX } from './lake-layout';

/** The speed layer's metric namespace and service name (Powertools), for the function and the dashboard. */
export const SPEED_LAYER_METRICS = { namespace: 'Tributary', service: 'speed-layer' } as const;

/**
 * The speed-layer function's environment: one definition for the deployed function
 * (SpeedLayerStack) and the sandbox's stand-in, so both run the handler alike.
 */
export function speedLayerEnvironment(target: { bucketName: string; alertsTopicArn: string }): SpeedLayerEnv {
  return {
    LAKE_BUCKET_NAME: target.bucketName,
    SPEED_PREFIX: LakePrefix.speed,
    DEAD_LETTER_PREFIX: SPEED_DEAD_LETTER_PREFIX,
    ALERTS_TOPIC_ARN: target.alertsTopicArn,
    POWERTOOLS_SERVICE_NAME: SPEED_LAYER_METRICS.service,
    POWERTOOLS_METRICS_NAMESPACE: SPEED_LAYER_METRICS.namespace,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
}
