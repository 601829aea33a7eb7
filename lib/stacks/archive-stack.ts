import { Aws, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type PlatformConfig, removalPolicyFor } from '../config';
import type { IEventLog } from '../constructs/event-log';
import { LakePrefix } from '../lake-layout';
import { transactionColumns } from '../schemas';
import type { LakeStack } from './lake-stack';
import { acknowledge } from '../constructs/acknowledge';
import { stackLogGroup } from '../constructs/state-machine-tasks';
import { platformNames } from '../names';

export interface ArchiveStackProps extends StackProps {
  readonly config: PlatformConfig;
  readonly eventLog: IEventLog;
  readonly lake: LakeStack;
}

/**
 * Partition keys Firehose extracts from each record with jq: the UTC date and
 * hour of the event time, so raw/ is laid out by when events happened, not by
 * when they arrived. A record without a numeric eventTime fails extraction and
 * goes to the error prefix instead of being lost.
 */
export const RAW_PARTITION_QUERY = '{dt: (.eventTime / 1000 | floor | strftime("%Y-%m-%d")), hr: (.eventTime / 1000 | floor | strftime("%H"))}';

/**
 * The raw archive: Firehose copies every record from the event log to raw/ as
 * Parquet (converted with the raw Glue table's schema), partitioned by event
 * date and hour. This is the master dataset the batch layer recomputes from.
 *
 * Built on the L1 resource with its own role: the L2 grants the delivery
 * stream read-write-delete on the whole bucket, where it needs to write raw/
 * and errors/raw/ only.
 */
export class ArchiveStack extends Stack {
  public readonly deliveryStream: firehose.CfnDeliveryStream;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ArchiveStackProps) {
    super(scope, id, props);
    const { config, lake } = props;

    const logGroup = stackLogGroup(this, 'DeliveryLogs', { prefix: '/aws/kinesisfirehose', retention: config.observability.logRetentionDays, removalPolicy: removalPolicyFor(config) });
    const logStream = new logs.LogStream(this, 'DeliveryLogStream', { logGroup, logStreamName: 'S3Delivery' });

    this.role = new iam.Role(this, 'Role', {
      description: 'Raw archive: reads the event log, writes raw/ and errors/raw/ in the lake',
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'sts:ExternalId': Aws.ACCOUNT_ID } } }),
    });
    lake.grantWrite(this.role, LakePrefix.raw, { multipart: true });
    lake.grantWrite(this.role, LakePrefix.archiveErrors, { multipart: true });
    // Firehose checks the bucket and resumes multipart uploads before it writes.
    this.role.addToPolicy(new iam.PolicyStatement({
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      resources: [lake.bucket.bucketArn],
    }));
    // Record format conversion reads the raw table's schema.
    this.role.addToPolicy(new iam.PolicyStatement({
      actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
      resources: [
        `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:catalog`,
        `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:database/${lake.database.ref}`,
        `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/${lake.database.ref}/${lake.rawTable.tableName}`,
      ],
    }));
    logGroup.grantWrite(this.role);

    const source = props.eventLog.archiveSource(this.role);
    const columnToJsonKeyMappings = Object.fromEntries(transactionColumns().map((c) => [c.name, c.jsonKey]));

    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'RawArchive', {
      deliveryStreamName: platformNames(config.name).rawArchive,
      ...source,
      extendedS3DestinationConfiguration: {
        bucketArn: lake.bucket.bucketArn,
        roleArn: this.role.roleArn,
        prefix: `${LakePrefix.raw}/dt=!{partitionKeyFromQuery:dt}/hr=!{partitionKeyFromQuery:hr}/`,
        errorOutputPrefix: `${LakePrefix.archiveErrors}/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hr=!{timestamp:HH}/`,
        bufferingHints: {
          intervalInSeconds: config.archive.bufferingIntervalSeconds,
          sizeInMBs: config.archive.bufferingSizeMiB,
        },
        // Parquet compresses inside the file; S3-level compression must stay off with format conversion.
        compressionFormat: 'UNCOMPRESSED',
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: lake.key.keyArn } },
        cloudWatchLoggingOptions: { enabled: true, logGroupName: logGroup.logGroupName, logStreamName: logStream.logStreamName },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: {
          enabled: true,
          processors: [{
            type: 'MetadataExtraction',
            parameters: [
              { parameterName: 'MetadataExtractionQuery', parameterValue: RAW_PARTITION_QUERY },
              { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
            ],
          }],
        },
        dataFormatConversionConfiguration: {
          enabled: true,
          // Case-sensitive so each snake_case column maps to exactly its camelCase key in the event.
          inputFormatConfiguration: { deserializer: { openXJsonSerDe: { caseInsensitive: false, columnToJsonKeyMappings } } },
          outputFormatConfiguration: { serializer: { parquetSerDe: { compression: 'SNAPPY' } } },
          schemaConfiguration: {
            catalogId: Aws.ACCOUNT_ID,
            region: Aws.REGION,
            databaseName: lake.database.ref,
            tableName: lake.rawTable.tableName,
            roleArn: this.role.roleArn,
            versionId: 'LATEST',
          },
        },
      },
    });
    // Firehose checks its permissions on create: the role's policy, not just the role, must exist first.
    this.deliveryStream.node.addDependency(this.role.node.findChild('DefaultPolicy'));
    acknowledge(this.deliveryStream, {
      'AwsSolutions-KDF1':
        'Firehose server-side encryption applies only to Direct PUT streams. Here the source stream is KMS-encrypted and every object is written with the lake key (SSE-KMS).',
    });
  }

  /**
   * A metric of the delivery stream (namespace AWS/Firehose, dimension DeliveryStreamName,
   * https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html).
   * @default period 5 minutes, statistic Average
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Firehose',
      metricName,
      dimensionsMap: { DeliveryStreamName: this.deliveryStream.ref },
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** Records delivered to raw/. @default statistic Sum, period 5 minutes */
  public metricRecordsDelivered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('DeliveryToS3.Records', { statistic: 'Sum', ...props });
  }

  /** Age of the oldest record not yet in raw/, in seconds. @default statistic Maximum, period 5 minutes */
  public metricDataFreshness(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('DeliveryToS3.DataFreshness', { statistic: 'Maximum', ...props });
  }
}
