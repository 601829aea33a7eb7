import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge } from './acknowledge';

/**
 * The on-failure destination of a function's event source mapping: the batches it gives up on (after its
 * retries, or past the maximum record age) land here as metadata records, encrypted with `key`, kept 14
 * days (SQS's longest), reachable over TLS only. The speed layer and the alert notifier each have one.
 * Created as `FailedBatches` directly in `scope`, so its logical id is the stack's own.
 */
export function failedBatchesQueue(scope: Construct, props: { readonly key: kms.IKey; readonly removalPolicy: RemovalPolicy; readonly consumer: string }): sqs.Queue {
  const queue = new sqs.Queue(scope, 'FailedBatches', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: props.key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: props.removalPolicy,
  });
  acknowledge(queue, {
    'AwsSolutions-SQS3': `This queue is itself the on-failure destination of ${props.consumer}'s event source mapping; nothing consumes it automatically.`,
  });
  return queue;
}

/** Batches waiting in a failed-batches queue (the most in each minute): above 0, an event source gave up on records. */
export function metricFailedBatches(queue: sqs.IQueue, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1), ...props });
}
