import { Aws, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { architectureLayers } from '../architecture';
import { type PlatformConfig, removalPolicyFor } from '../config';
import { LakeTable } from '../constructs/lake-table';
import { lakeTables } from '../lake-catalog';
import { LakePrefix } from '../lake-layout';
import { SecureBucket } from '../constructs/secure-bucket';
import { acknowledge, AS_PRINTED, DEPLOYED, type PseudoParameters } from '../constructs/acknowledge';
import { platformNames } from '../names';

export interface LakeStackProps extends StackProps {
  readonly config: PlatformConfig;
}

/**
 * The lake bucket's name, `<name>-lake-<account>-<region>`. Deterministic, so a
 * layer in another stack can build an object ARN from pseudo-parameters of its
 * own stack instead of importing one: no cross-stack reference to pin, and a
 * readable ARN in policies and cdk-nag findings.
 */
export function lakeBucketName(config: PlatformConfig, pseudo: PseudoParameters = DEPLOYED): string {
  return `${config.name}-lake-${pseudo.account}-${pseudo.region}`;
}

/** Glue names allow lowercase letters, digits and underscores. */

/**
 * Storage and catalog: the lake bucket (raw/, speed/, views/, deadletter/), the
 * Athena results bucket, their access-log bucket, the key that encrypts them,
 * and the Glue database and tables that describe what is in them.
 */
export class LakeStack extends Stack {
  public readonly key: kms.Key;
  public readonly bucket: s3.Bucket;
  public readonly bucketName: string;
  public readonly queryResultsBucket: s3.Bucket;
  public readonly database: glue.CfnDatabase;
  /** Every table of lib/lake-catalog.ts, by table name. */
  public readonly tables: ReadonlyMap<string, LakeTable>;
  public readonly rawTable: LakeTable;
  /** One table per stream view (views/<name>/), partitioned by version, date and hour. */
  private readonly config: PlatformConfig;

  constructor(scope: Construct, id: string, props: LakeStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    const destroy = config.dataRemoval === 'destroy';

    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the Tributary lake and query results at rest',
      enableKeyRotation: true,
      removalPolicy: removalPolicyFor(config),
    });

    // S3 server access logs can only be delivered to an SSE-S3 bucket, not SSE-KMS.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: removalPolicyFor(config),
      autoDeleteObjects: destroy,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(config.lake.accessLogRetentionDays) }],
    });
    acknowledge(accessLogs, {
      'AwsSolutions-S1':
        'This is the access-log bucket itself; logging it to itself would loop.',
    });

    const lakeRules: s3.LifecycleRule[] = [
      { id: 'expire-speed-view', prefix: `${LakePrefix.speed}/`, expiration: Duration.days(config.lake.speedExpirationDays) },
    ];
    if (architectureLayers(config).batchLayer) {
      // Every batch run writes batch/<view>/run=<id>/ in full; runs no longer served, and failed ones, expire.
      lakeRules.push({ id: 'expire-batch-runs', prefix: `${LakePrefix.batch}/`, expiration: Duration.days(config.batch.expireRunsAfterDays) });
    }
    if (config.lake.rawInfrequentAccessAfterDays > 0) {
      lakeRules.push({
        id: 'raw-to-infrequent-access',
        prefix: `${LakePrefix.raw}/`,
        transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(config.lake.rawInfrequentAccessAfterDays) }],
      });
    }
    this.bucketName = lakeBucketName(config);
    this.bucket = new SecureBucket(this, 'Lake', {
      bucketName: this.bucketName,
      encryptionKey: this.key,
      accessLogsBucket: accessLogs,
      accessLogsPrefix: 'lake/',
      dataRemoval: config.dataRemoval,
      noncurrentVersionExpirationDays: config.lake.noncurrentVersionExpirationDays,
      lifecycleRules: lakeRules,
    });

    this.queryResultsBucket = new SecureBucket(this, 'QueryResults', {
      encryptionKey: this.key,
      accessLogsBucket: accessLogs,
      accessLogsPrefix: 'query-results/',
      dataRemoval: config.dataRemoval,
      noncurrentVersionExpirationDays: 1,
      lifecycleRules: [{ id: 'expire-query-results', expiration: Duration.days(config.serving.resultsRetentionDays) }],
    });

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: this.account,
      databaseInput: {
        name: platformNames(config.name).lakeDatabase,
        description: 'Tributary lake: raw archive, speed view, stream views and dead letters',
      },
    });

    this.tables = new Map(lakeTables().map((spec) => [
      spec.tableName,
      new LakeTable(this, spec.id, { database: this.database, bucket: this.bucket, ...spec }),
    ]));
    this.rawTable = this.tables.get('raw_transactions')!;
  }

  /**
   * Lets `grantee` write objects under one prefix of the lake, and nothing
   * else: `s3:PutObject` on `<prefix>/*` and `kms:GenerateDataKey` through S3.
   * With `multipart`, also what multipart uploads need: aborting them and
   * `kms:Decrypt` to assemble the parts. CDK's `grantPut`/`grantReadWrite`
   * would add delete, tagging, retention and wildcard KMS actions this
   * platform never uses.
   */
  public grantWrite(grantee: iam.IGrantable & IConstruct, prefix: string, options: { multipart?: boolean } = {}): iam.Grant {
    return this.grantObjects(grantee, prefix, {
      objectActions: options.multipart ? ['s3:PutObject', 's3:AbortMultipartUpload'] : ['s3:PutObject'],
      keyActions: options.multipart ? ['kms:GenerateDataKey', 'kms:Decrypt'] : ['kms:GenerateDataKey'],
      reason: `Object keys under ${prefix}/ are created at run time; the grant is confined to that one prefix of the lake.`,
    });
  }

  /** Lets `grantee` list and read the objects under one prefix of the lake. */
  public grantRead(grantee: iam.IGrantable & IConstruct, prefix: string): iam.Grant {
    return this.grantObjects(grantee, prefix, {
      objectActions: ['s3:GetObject'],
      keyActions: ['kms:Decrypt'],
      listPrefix: true,
      reason: `Reads whatever objects exist under ${prefix}/; the grant is confined to that one prefix of the lake.`,
    });
  }

  /**
   * For an engine that owns a prefix and manages its files itself, such as
   * Flink's exactly-once file sink, which writes parts in multipart uploads,
   * keeps recoverable temporary objects, and deletes them once committed:
   * read, write and delete under `<prefix>/` only.
   */
  public grantOwnPrefix(grantee: iam.IGrantable & IConstruct, prefix: string): iam.Grant {
    return this.grantObjects(grantee, prefix, {
      objectActions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      listPrefix: true,
      reason: `The engine names its own files under ${prefix}/, which it owns; nothing outside that prefix is granted.`,
    });
  }

  private grantObjects(
    grantee: iam.IGrantable & IConstruct,
    prefix: string,
    grant: { objectActions: string[]; keyActions: string[]; listPrefix?: boolean; reason: string },
  ): iam.Grant {
    const bucketArn = `arn:${Aws.PARTITION}:s3:::${this.bucketName}`;
    let granted = iam.Grant.addToPrincipal({ grantee, actions: grant.objectActions, resourceArns: [`${bucketArn}/${prefix}/*`] });
    if (grant.listPrefix) {
      granted = granted.combine(iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:ListBucket'],
        resourceArns: [bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}/*`, prefix] } },
      }));
    }
    granted = granted.combine(this.grantLakeKey(grantee, grant.keyActions));
    // The finding is on the policy of the principal, which for a Lambda function is its role, not the function.
    const principal = grantee.grantPrincipal instanceof Construct ? grantee.grantPrincipal : grantee;
    const objectsAsPrinted = `arn:${AS_PRINTED.partition}:s3:::${lakeBucketName(this.config, AS_PRINTED)}/${prefix}/*`;
    acknowledge(principal, { [`AwsSolutions-IAM5[Resource::${objectsAsPrinted}]`]: grant.reason });
    return granted;
  }

  /** Lets `grantee` use the lake key, only through S3 in this region. */
  public grantLakeKey(grantee: iam.IGrantable, actions: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
    });
  }
}
