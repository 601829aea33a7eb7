import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as athena from 'aws-cdk-lib/aws-athena';
import type { Construct } from 'constructs';
import type { PlatformConfig } from '../config';
import { referenceQueries } from '../serving/named-queries';
import type { LakeStack } from './lake-stack';

export interface ServingStackProps extends StackProps {
  readonly config: PlatformConfig;
  readonly lake: LakeStack;
}

const MIB = 1024 * 1024;

/**
 * The serving layer: an Athena (engine v3) workgroup over the lake's Glue
 * tables, whose settings clients cannot override: results encrypted with the
 * lake key in their own bucket, and a per-query scan cutoff. The reference
 * questions are saved as named queries.
 */
/** Where the workgroup writes query results in the results bucket. */
export const QUERY_RESULTS_PREFIX = 'athena';

export class ServingStack extends Stack {
  public readonly workGroup: athena.CfnWorkGroup;

  constructor(scope: Construct, id: string, props: ServingStackProps) {
    super(scope, id, props);
    const { config, lake } = props;

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: `${config.name}-serving`,
      description: 'Tributary serving layer: queries over raw/, speed/ and views/',
      state: 'ENABLED',
      recursiveDeleteOption: config.dataRemoval === 'destroy',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: config.serving.bytesScannedCutoffPerQueryMiB * MIB,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${lake.queryResultsBucket.bucketName}/${QUERY_RESULTS_PREFIX}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: lake.key.keyArn },
        },
      },
    });

    for (const query of referenceQueries()) {
      new athena.CfnNamedQuery(this, `Query-${query.name}`, {
        name: query.name,
        description: query.description,
        database: lake.database.ref,
        workGroup: this.workGroup.ref,
        queryString: query.sql,
      });
    }
  }

  /**
   * Bytes the workgroup's queries scanned (AWS/Athena ProcessedBytes, dimension WorkGroup): what Athena
   * bills (https://docs.aws.amazon.com/athena/latest/ug/query-metrics-viewing.html).
   * @default statistic Sum, period 5 minutes
   */
  public metricProcessedBytes(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Athena',
      metricName: 'ProcessedBytes',
      dimensionsMap: { WorkGroup: this.workGroup.ref },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }
}
