import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** Where a function's Powertools metrics land: the namespace, and the `service` dimension Powertools adds to each. */
export interface PowertoolsMetricsTarget {
  readonly namespace: string;
  readonly service: string;
}

/**
 * One of a function's Powertools (EMF) metrics, e.g. `RecordsDeadLettered`: by default the sum per minute.
 * Powertools publishes every metric with the `service` dimension (POWERTOOLS_SERVICE_NAME), so the metric
 * must name it to match (https://docs.aws.amazon.com/powertools/typescript/latest/core/metrics/).
 */
export function powertoolsMetric(target: PowertoolsMetricsTarget, metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: target.namespace,
    metricName,
    dimensionsMap: { service: target.service },
    statistic: 'Sum',
    period: Duration.minutes(1),
    ...props,
  });
}
