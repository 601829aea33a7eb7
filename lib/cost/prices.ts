/**
 * Unit prices the cost model uses: one region (us-east-1, US East (N. Virginia)), on-demand list prices in USD,
 * no free tier, no Savings Plans, no volume tiers beyond the first. Every price names the AWS pricing page it
 * belongs to, where the number itself was read, and when.
 *
 * How the numbers were found (2026-12-05): through the project's search tool, which holds stored copies of
 * public pages. The stored copies of AWS's own pricing pages stop before their price tables (those render from
 * placeholders), so for most prices the number was read on another page that quotes it (`third-party`) or on
 * an AWS-published page other than the pricing page (`aws`). Where no page showing the number could be found,
 * the value is an assumption, marked `not-found`: it is what the author remembers the AWS page saying, and must
 * be checked against the page before anyone relies on it. docs/cost.md prints this table.
 */

/** Where the number was seen: on an AWS page or AWS-published file, on a third-party page quoting AWS, or nowhere. */
export type PriceStatus = 'aws' | 'third-party' | 'not-found';

export interface UnitPrice {
  readonly service: string;
  readonly description: string;
  readonly usd: number;
  /** What one `usd` buys, such as 'GB-month' or 'million requests'. */
  readonly unit: string;
  /** The AWS pricing page the price belongs to. */
  readonly awsPage: string;
  readonly status: PriceStatus;
  /** The page the number was read on, when not the AWS pricing page itself; for `not-found`, what was found instead. */
  readonly seenAt?: string;
  /** When it was read (or looked for). */
  readonly read: string;
  readonly note?: string;
}

export const PRICE_REGION = 'us-east-1 (US East, N. Virginia)';
export const PRICES_READ = '2026-12-05';

const KINESIS = 'https://aws.amazon.com/kinesis/data-streams/pricing/';
const MSK = 'https://aws.amazon.com/msk/pricing/';
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const FLINK = 'https://aws.amazon.com/managed-service-apache-flink/pricing/';
const FIREHOSE = 'https://aws.amazon.com/firehose/pricing/';
const S3 = 'https://aws.amazon.com/s3/pricing/';
const ATHENA = 'https://aws.amazon.com/athena/pricing/';
const DYNAMODB = 'https://aws.amazon.com/dynamodb/pricing/on-demand/';
const SNS = 'https://aws.amazon.com/sns/pricing/';
const KMS = 'https://aws.amazon.com/kms/pricing/';
const PRIVATELINK = 'https://aws.amazon.com/privatelink/pricing/';

const read = PRICES_READ;
/** The stored copy of the Kinesis pricing page describes the meters (on-demand data in is rounded up to 1 KB per record) but ends before its price table. */
const NOT_FOUND_KINESIS = 'no stored page shows it (the stored Kinesis pricing page ends before its price table)';
/**
 * The stored copies of the Firehose pricing page (https://aws.amazon.com/de/kinesis/data-firehose/pricing/,
 * https://uat.atplus.hk/jp/kinesis/data-firehose/pricing) describe the meters (5 KB rounding for Kinesis-source
 * ingestion and for format conversion; MSK-source ingestion without rounding) but not the numbers.
 */
const NOT_FOUND_FIREHOSE = 'no stored page shows it (the stored Firehose pricing pages describe the meters, not the numbers)';
const MSK_SERVERLESS_GIST = 'https://gist.github.com/EverettBerry/d24aa940ad43c313803248cea6366682 (2022, region not stated)';
const FLINK_TOOLKIT =
  'https://raw.githubusercontent.com/aws/agent-toolkit-for-aws/main/skills/specialized-skills/analytics-skills/developing-applications-on-managed-service-for-apache-flink/references/pricing-calculator.md (AWS-published, us-east-1)';

export const PRICES = {
  kinesisOnDemandStreamHour: {
    service: 'Kinesis Data Streams', description: 'on-demand stream', usd: 0.04, unit: 'stream-hour',
    awsPage: KINESIS, status: 'not-found', seenAt: NOT_FOUND_KINESIS, read,
  },
  kinesisOnDemandIngestGB: {
    service: 'Kinesis Data Streams', description: 'on-demand data in (records rounded up to 1 KB)', usd: 0.08, unit: 'GB',
    awsPage: KINESIS, status: 'not-found', seenAt: NOT_FOUND_KINESIS, read,
  },
  kinesisOnDemandRetrievalGB: {
    service: 'Kinesis Data Streams', description: 'on-demand data out, shared-throughput consumer', usd: 0.04, unit: 'GB',
    awsPage: KINESIS, status: 'not-found', seenAt: NOT_FOUND_KINESIS, read,
  },
  kinesisOnDemandEfoRetrievalGB: {
    service: 'Kinesis Data Streams', description: 'on-demand data out, enhanced fan-out consumer', usd: 0.05, unit: 'GB',
    awsPage: KINESIS, status: 'not-found', seenAt: NOT_FOUND_KINESIS, read,
  },
  kinesisOnDemandExtendedRetentionGBMonth: {
    service: 'Kinesis Data Streams', description: 'on-demand retention beyond 24 h, up to 7 days', usd: 0.10, unit: 'GB-month',
    awsPage: KINESIS, status: 'not-found', seenAt: NOT_FOUND_KINESIS, read,
  },
  kinesisLongTermRetentionGBMonth: {
    service: 'Kinesis Data Streams', description: 'retention beyond 7 days (both modes)', usd: 0.023, unit: 'GB-month',
    awsPage: KINESIS, status: 'not-found', seenAt: NOT_FOUND_KINESIS, read,
  },
  kinesisShardHour: {
    service: 'Kinesis Data Streams', description: 'provisioned shard', usd: 0.015, unit: 'shard-hour',
    awsPage: KINESIS, status: 'third-party', seenAt: 'https://kindatechnical.com/aws-kinesis/lesson-29-understanding-kinesis-pricing.html (region not stated)', read,
  },
  kinesisPutPayloadUnitsMillion: {
    service: 'Kinesis Data Streams', description: 'provisioned PUT payload units (25 KB each)', usd: 0.014, unit: 'million units',
    awsPage: KINESIS, status: 'third-party',
    seenAt: 'https://github.com/EveryMundo/aws-kinesis-client/blob/master/docs/why-we-created-this-package.md (quotes US West (Oregon); us-east-1 assumed equal)', read,
  },
  kinesisProvisionedExtendedRetentionShardHour: {
    service: 'Kinesis Data Streams', description: 'provisioned retention beyond 24 h, up to 7 days', usd: 0.02, unit: 'shard-hour',
    awsPage: KINESIS, status: 'not-found', seenAt: NOT_FOUND_KINESIS, read,
  },
  kinesisEfoConsumerShardHour: {
    service: 'Kinesis Data Streams', description: 'provisioned enhanced fan-out consumer', usd: 0.015, unit: 'consumer-shard-hour',
    awsPage: KINESIS, status: 'not-found', seenAt: NOT_FOUND_KINESIS, read,
  },
  kinesisEfoRetrievalGB: {
    service: 'Kinesis Data Streams', description: 'provisioned enhanced fan-out data out', usd: 0.013, unit: 'GB',
    awsPage: KINESIS, status: 'not-found', seenAt: NOT_FOUND_KINESIS, read,
  },
  mskM7gLargeBrokerHour: {
    service: 'Amazon MSK', description: 'provisioned Standard broker kafka.m7g.large', usd: 0.204, unit: 'broker-hour',
    awsPage: MSK, status: 'not-found',
    seenAt: 'the stored copies of the MSK pricing page show no broker table; a third-party note shows kafka.m5.large at $0.21 (code search), not m7g', read,
  },
  mskStorageGBMonth: {
    service: 'Amazon MSK', description: 'provisioned broker storage (EBS, billed as provisioned)', usd: 0.10, unit: 'GB-month',
    awsPage: MSK, status: 'not-found', seenAt: `only MSK Serverless storage at $0.10 was seen (${MSK_SERVERLESS_GIST})`, read,
  },
  mskServerlessClusterHour: {
    service: 'Amazon MSK', description: 'Serverless cluster', usd: 0.75, unit: 'cluster-hour',
    awsPage: MSK, status: 'third-party', seenAt: MSK_SERVERLESS_GIST, read,
  },
  mskServerlessPartitionHour: {
    service: 'Amazon MSK', description: 'Serverless partition', usd: 0.0015, unit: 'partition-hour',
    awsPage: MSK, status: 'third-party', seenAt: MSK_SERVERLESS_GIST, read,
  },
  mskServerlessDataInGB: {
    service: 'Amazon MSK', description: 'Serverless data in', usd: 0.10, unit: 'GB',
    awsPage: MSK, status: 'third-party', seenAt: MSK_SERVERLESS_GIST, read,
  },
  mskServerlessDataOutGB: {
    service: 'Amazon MSK', description: 'Serverless data out', usd: 0.05, unit: 'GB',
    awsPage: MSK, status: 'third-party', seenAt: MSK_SERVERLESS_GIST, read,
  },
  mskServerlessStorageGBMonth: {
    service: 'Amazon MSK', description: 'Serverless storage', usd: 0.10, unit: 'GB-month',
    awsPage: MSK, status: 'third-party', seenAt: MSK_SERVERLESS_GIST, read,
  },
  vpcInterfaceEndpointAzHour: {
    service: 'VPC (PrivateLink)', description: 'interface endpoint, per AZ', usd: 0.01, unit: 'endpoint-AZ-hour',
    awsPage: PRIVATELINK, status: 'not-found', seenAt: 'not looked up in a stored copy', read,
  },
  lambdaRequestsMillion: {
    service: 'Lambda', description: 'requests', usd: 0.20, unit: 'million requests',
    awsPage: LAMBDA, status: 'third-party',
    seenAt: 'https://cloudchipr.com/blog/aws-lambda-pricing and https://git.mcrn.ar/mariano/lambda_local_runner (docs/lambdas-md/lambda-13-cost.md)', read,
  },
  lambdaArmGBSecond: {
    service: 'Lambda', description: 'duration, arm64, first 7.5 billion GB-s a month', usd: 0.0000133334, unit: 'GB-second',
    awsPage: LAMBDA, status: 'third-party', seenAt: 'https://cloudchipr.com/blog/aws-lambda-pricing (US East (N. Virginia))', read,
  },
  flinkKpuHour: {
    service: 'Managed Service for Apache Flink', description: 'KPU (1 vCPU, 4 GB)', usd: 0.11, unit: 'KPU-hour',
    awsPage: FLINK, status: 'aws', seenAt: FLINK_TOOLKIT, read,
  },
  flinkRunningStorageGBMonth: {
    service: 'Managed Service for Apache Flink', description: 'running application storage beyond the 50 GB each KPU includes', usd: 0.10, unit: 'GB-month',
    awsPage: FLINK, status: 'aws', seenAt: FLINK_TOOLKIT, read,
    note: 'that page says 50 GB per KPU is included and only state above it is billed; the AWS pricing page\'s own example (not seen here) may bill all 50 GB per KPU, which would add $5 per KPU-month',
  },
  firehoseKdsIngestGB: {
    service: 'Data Firehose', description: 'ingestion, Kinesis Data Streams as source (records rounded up to 5 KB), first 500 TB a month', usd: 0.029, unit: 'GB',
    awsPage: FIREHOSE, status: 'not-found', seenAt: NOT_FOUND_FIREHOSE, read,
  },
  firehoseMskIngestGB: {
    service: 'Data Firehose', description: 'ingestion, MSK as source (no rounding)', usd: 0.055, unit: 'GB',
    awsPage: FIREHOSE, status: 'not-found', seenAt: NOT_FOUND_FIREHOSE, read,
  },
  firehoseFormatConversionGB: {
    service: 'Data Firehose', description: 'JSON to Parquet conversion (records rounded up to 5 KB)', usd: 0.018, unit: 'GB',
    awsPage: FIREHOSE, status: 'not-found', seenAt: NOT_FOUND_FIREHOSE, read,
  },
  firehoseDynamicPartitioningGB: {
    service: 'Data Firehose', description: 'dynamic partitioning, data', usd: 0.02, unit: 'GB',
    awsPage: FIREHOSE, status: 'not-found', seenAt: NOT_FOUND_FIREHOSE, read,
  },
  firehoseDynamicPartitioningObjectsThousand: {
    service: 'Data Firehose', description: 'dynamic partitioning, objects delivered to S3', usd: 0.005, unit: 'thousand objects',
    awsPage: FIREHOSE, status: 'not-found', seenAt: NOT_FOUND_FIREHOSE, read,
  },
  firehoseJqHour: {
    service: 'Data Firehose', description: 'dynamic partitioning, JQ processing', usd: 0.07, unit: 'JQ-hour',
    awsPage: FIREHOSE, status: 'not-found', seenAt: NOT_FOUND_FIREHOSE, read,
  },
  s3StandardGBMonth: {
    service: 'S3', description: 'S3 Standard storage, first 50 TB', usd: 0.023, unit: 'GB-month',
    awsPage: S3, status: 'third-party', seenAt: 'https://deepeshsoni.com/archives/256 (US East (N. Virginia), "approximate")', read,
  },
  s3StandardIaGBMonth: {
    service: 'S3', description: 'S3 Standard-IA storage', usd: 0.0125, unit: 'GB-month',
    awsPage: S3, status: 'not-found', seenAt: 'the stored copy of the S3 pricing page ends before its tables', read,
  },
  s3PutThousand: {
    service: 'S3', description: 'PUT, COPY, POST, LIST requests (Standard)', usd: 0.005, unit: 'thousand requests',
    awsPage: S3, status: 'third-party', seenAt: 'https://athena.guide/articles/athena-basics-pricing-model ("$5 per million"), https://www.cloudkaramchari.com/blog/understanding-per-1000-put-copy-post-or-list-requests-in-amazon-s3-pricing/', read,
  },
  athenaTBScanned: {
    service: 'Athena', description: 'SQL queries, data scanned (10 MB minimum per query)', usd: 5.0, unit: 'TB scanned',
    awsPage: ATHENA, status: 'third-party', seenAt: 'https://athena.guide/articles/athena-basics-pricing-model, https://rcpedia.stanford.edu/services/athena.html', read,
  },
  dynamodbWriteRequestsMillion: {
    service: 'DynamoDB', description: 'on-demand write request units (1 KB each)', usd: 0.625, unit: 'million WRU',
    awsPage: DYNAMODB, status: 'third-party', seenAt: 'https://airbyte.com/data-engineering-resources/dynamodb-pricing (US East, after the November 2024 cut)', read,
  },
  snsPublishMillion: {
    service: 'SNS', description: 'standard topic publishes (64 KB chunks)', usd: 0.5, unit: 'million publishes',
    awsPage: SNS, status: 'third-party', seenAt: 'https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/ (2026-06-13)', read,
  },
  kmsKeyMonth: {
    service: 'KMS', description: 'customer managed key', usd: 1.0, unit: 'key-month',
    awsPage: KMS, status: 'aws', seenAt: KMS, read,
    note: 'each automatic rotation adds $1 a month for the retained key material (AWS page); the first year has none',
  },
  kmsRequestsTenThousand: {
    service: 'KMS', description: 'symmetric key requests', usd: 0.03, unit: '10,000 requests',
    awsPage: KMS, status: 'third-party', seenAt: 'https://www.wring.co/blog/aws-kms-pricing-guide, https://www.factualminds.com/blog/aws-kms-pricing-keys-requests-multi-region/', read,
  },
} as const satisfies Record<string, UnitPrice>;

export type PriceKey = keyof typeof PRICES;

/** Prices a quantity of a unit price, in USD. */
export function usd(key: PriceKey, quantity: number): number {
  return PRICES[key].usd * quantity;
}
