import { z } from 'zod';

/**
 * The one typed configuration of a Tributary deployment.
 *
 * Every key has a default (see `defaults.ts`); a profile in `cdk.json` overrides
 * some of them, and `-c section.key=value` on the command line overrides any one.
 * Objects are strict: a misspelt key fails synth instead of being ignored.
 */

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,20}$/, 'a lowercase name of 2-21 letters, digits or dashes, starting with a letter');

const kinesisLogSchema = z.strictObject({
  /** ON_DEMAND scales by itself; PROVISIONED needs `shardCount` and costs less at a steady rate. */
  capacityMode: z.enum(['on-demand', 'provisioned']),
  /** Shards of a provisioned stream; ignored on-demand. */
  shardCount: z.int().min(1).max(500),
  /**
   * How long the log keeps records. This is the replay horizon: a Kappa replay
   * can go back no further than this. Kinesis allows 24 h to 365 days.
   */
  retentionHours: z.int().min(24).max(8760),
  /** Give the speed layer a dedicated enhanced fan-out consumer (2 MB/s per shard of its own, push delivery). */
  enhancedFanOut: z.boolean(),
});

const mskLogSchema = z.strictObject({
  /** MSK Serverless (pay per throughput, no brokers to size) or provisioned brokers. */
  serverless: z.boolean(),
  /** Kafka version of a provisioned cluster, as MSK names it (e.g. 3.8.x). */
  kafkaVersion: z.string().regex(/^\d+\.\d+\.(\d+|x)$/, 'an MSK Kafka version such as 3.8.x'),
  /** Brokers of a provisioned cluster: a multiple of network.availabilityZones. */
  brokerNodes: z.int().min(2).max(30),
  /** Broker instance type of a provisioned cluster. */
  instanceType: z.string().regex(/^kafka\.[a-z0-9]+\.[a-z0-9]+$/, 'an MSK broker type such as kafka.m7g.large'),
  /** EBS storage per broker of a provisioned cluster. */
  storageGiB: z.int().min(1).max(16384),
  /** Partitions of the events topic: the parallelism of every consumer. */
  partitions: z.int().min(1).max(2000),
  /** How long the topic keeps records. This is the replay horizon. */
  retentionHours: z.int().min(1).max(87600),
  /** Broker metrics CloudWatch gets from a provisioned cluster. */
  enhancedMonitoring: z.enum(['DEFAULT', 'PER_BROKER', 'PER_TOPIC_PER_BROKER', 'PER_TOPIC_PER_PARTITION']),
});

const eventLogSchema = z.strictObject({
  /** Which log: Kinesis Data Streams or Amazon MSK. Only its own section below is used. */
  type: z.enum(['kinesis', 'msk']),
  kinesis: kinesisLogSchema,
  msk: mskLogSchema,
});

const networkSchema = z.strictObject({
  /** Availability zones the private subnets span (a log in a VPC needs one). */
  availabilityZones: z.int().min(2).max(3),
  /** The VPC's address range. */
  cidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/, 'an IPv4 CIDR from /16 to /24, such as 10.20.0.0/16'),
});

const archiveSchema = z.strictObject({
  /** Firehose buffering interval. With Parquet conversion Firehose accepts 60-900 s. */
  bufferingIntervalSeconds: z.int().min(60).max(900),
  /** Firehose buffering size. Record format conversion needs at least 64 MiB. */
  bufferingSizeMiB: z.int().min(64).max(128),
});

const speedLayerSchema = z.strictObject({
  /** Records per invocation, as the Kinesis event source allows (1-10000). */
  batchSize: z.int().min(1).max(10000),
  /** How long the event source gathers records before invoking (0-300 s). */
  maxBatchingWindowSeconds: z.int().min(0).max(300),
  /** Concurrent batches per shard (1-10). Order per partition key is kept. */
  parallelizationFactor: z.int().min(1).max(10),
  /** Retries of a failed batch before it goes to the on-failure destination (0-10000; -1, infinite, is not allowed here). */
  retryAttempts: z.int().min(0).max(10000),
  /** Records older than this are sent to the on-failure destination instead (60-604800 s). */
  maxRecordAgeSeconds: z.int().min(60).max(604800),
  /** Tumbling window that carries fraud-rule state across batches (0 turns it off, max 900 s). */
  tumblingWindowSeconds: z.int().min(0).max(900),
  /** Lambda memory; CPU scales with it. */
  memoryMiB: z.int().min(128).max(10240),
  /** Lambda timeout; the event source waits this long for a batch. */
  timeoutSeconds: z.int().min(1).max(900),
  /** Where the event source starts on first deploy. */
  startingPosition: z.enum(['LATEST', 'TRIM_HORIZON']),
});

const alertNotifierSchema = z.strictObject({
  /** Alerts per invocation of the notifier (1-10000). */
  batchSize: z.int().min(1).max(10000),
  /** How long the event source gathers alerts before invoking (0-300 s): 0 delivers each alert as soon as it is read. */
  maxBatchingWindowSeconds: z.int().min(0).max(300),
  /** Concurrent batches per shard (1-10), Kinesis only. Order per card is kept. */
  parallelizationFactor: z.int().min(1).max(10),
  /** Retries of a failed batch before it goes to the on-failure destination (0-10000). */
  retryAttempts: z.int().min(0).max(10000),
  /** Alerts older than this go to the on-failure destination instead (60-604800 s; at most the alerts log's retention). */
  maxRecordAgeSeconds: z.int().min(60).max(604800),
  /** Lambda memory of the notifier. */
  memoryMiB: z.int().min(128).max(10240),
  /** Lambda timeout of the notifier. */
  timeoutSeconds: z.int().min(1).max(900),
});

const alertsSchema = z.strictObject({
  /**
   * How long the alerts log keeps alerts. Kinesis allows 24 h to 365 days; a Kafka topic any length.
   * A redelivery of the log can come no later than this, so the notifier remembers each delivered alert at
   * least this long (and at least the event log's retention, from which producers may re-emit them).
   */
  retentionHours: z.int().min(1).max(8760),
  /** Shards of the alerts stream (Kinesis, provisioned): one shard takes 1,000 alerts/s. */
  shardCount: z.int().min(1).max(500),
  /** Partitions of the alerts topic (MSK): the notifier's parallelism. */
  partitions: z.int().min(1).max(2000),
  /** The alert notifier: alerts log -> SNS, exactly once per alert and path. */
  notifier: alertNotifierSchema,
});

const streamProcessingSchema = z.strictObject({
  /** Parallel subtasks of the Flink job; Managed Flink bills KPUs = parallelism / parallelismPerKpu. */
  parallelism: z.int().min(1).max(1024),
  /** Subtasks per KPU (1 vCPU, 4 GB): more for I/O-bound jobs, 1 for CPU-bound ones. */
  parallelismPerKpu: z.int().min(1).max(8),
  /** Let Managed Flink raise parallelism under load (and lower it again). */
  autoScaling: z.boolean(),
  /** How often Flink checkpoints; views are committed to the lake on each checkpoint. */
  checkpointIntervalSeconds: z.int().min(10).max(3600),
  /** Take a snapshot when the application stops or updates, so state survives. */
  snapshotsEnabled: z.boolean(),
  /** Start the application when it is deployed (CloudFormation alone only creates it). */
  startOnDeploy: z.boolean(),
  /** On start: resume from the latest snapshot, or start with empty state. */
  restoreOnStart: z.enum(['latest-snapshot', 'skip']),
  /** Start even if the snapshot holds state no operator of the new code claims (after removing an operator). */
  allowNonRestoredState: z.boolean(),
  /** The version v=<n> the job writes its views under; a Kappa replay writes n+1. */
  outputVersion: z.int().min(1).max(9999),
  /** How long a txnId is remembered to drop duplicates. */
  dedupeTtlHours: z.int().min(1).max(720),
  /** Bounded out-of-orderness of the watermarks. */
  maxOutOfOrdernessMs: z.int().min(0).max(3600000),
  /** A silent shard stops holding the watermark back after this long. */
  idlenessMs: z.int().min(1000).max(3600000),
  /** Events later than the watermark by more than this go to late_events instead of the views. */
  allowedLatenessMs: z.int().min(0).max(86400000),
  /** Application log level in CloudWatch Logs. */
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']),
});

const lakeSchema = z.strictObject({
  /** Days before raw/ objects move to S3 Infrequent Access (0 keeps them in Standard). */
  rawInfrequentAccessAfterDays: z
    .int()
    .min(0)
    .max(3650)
    .refine((days) => days === 0 || days >= 30, 'S3 moves objects to Infrequent Access after 30 days at the earliest: use 0 (never) or 30 or more'),
  /** Days before speed/ objects expire: the speed view is superseded by stream and batch views. */
  speedExpirationDays: z.int().min(1).max(3650),
  /** Days before noncurrent object versions expire. */
  noncurrentVersionExpirationDays: z.int().min(1).max(3650),
  /** Days the access logs are kept. */
  accessLogRetentionDays: z.int().min(1).max(3650),
});

const servingSchema = z.strictObject({
  /** Athena stops a query that would scan more than this (Athena's minimum is 10 MiB). */
  bytesScannedCutoffPerQueryMiB: z.int().min(10),
  /** Days Athena query results are kept. */
  resultsRetentionDays: z.int().min(1).max(3650),
});

const reprocessingSchema = z.strictObject({
  /** The replay counts as caught up when its source lag is at most this (seconds). */
  caughtUpLagSeconds: z.int().min(1).max(3600),
  /** ... for this many consecutive polls. */
  caughtUpPolls: z.int().min(1).max(60),
  /** Time between two polls of the replay application (its status and lag); CloudWatch has one point a minute. */
  pollIntervalSeconds: z.int().min(60).max(3600),
  /** A replay not caught up after this long is stopped, deleted and reported; the old version keeps serving. */
  maxCatchUpHours: z.int().min(1).max(336),
  /** How long the replay application may take to reach RUNNING after it is started. */
  startTimeoutMinutes: z.int().min(5).max(120),
  /** A replay must start at least this far inside the log's retention, so no record it needs expires while it starts. */
  horizonMarginMinutes: z.int().min(0).max(1440),
  /** What happens to the retired version's data: kept (delete it by hand, see docs/reprocessing.md). */
  retireOldVersion: z.enum(['keep']),
});

/** Each poll of the catch-up loop writes about 16 events to the execution history, whose limit is 25,000. */
export const MAX_CATCH_UP_POLLS = 1200;

const batchSchema = z.strictObject({
  /** Hours between two scheduled batch runs (an EventBridge Scheduler `rate`). */
  scheduleHours: z.int().min(1).max(168),
  /** raw/ is taken as complete up to this long before a run starts: the run's watermark. */
  settleMinutes: z.int().min(1).max(1440),
  /** Batch runs' files under batch/ expire this many days after they were written (S3 lifecycle). */
  expireRunsAfterDays: z.int().min(1).max(3650),
});

const observabilitySchema = z.strictObject({
  /** Create CloudWatch alarms (iterator age, dead letters, archive failures). */
  alarmsEnabled: z.boolean(),
  /** Days of log retention for every log group the platform creates. */
  logRetentionDays: z.union([
    z.literal(1), z.literal(3), z.literal(5), z.literal(7), z.literal(14), z.literal(30),
    z.literal(60), z.literal(90), z.literal(120), z.literal(150), z.literal(180), z.literal(365),
  ]),
});

export const platformConfigSchema = z.strictObject({
  /** Prefix of every stack and resource name. */
  name: identifier,
  /**
   * `kappa`: stream processing and its replay, served by the `serving_` views; `lambda`: the batch layer
   * merged with the speed layer, served by the `lambda_` views; `both`: everything. The speed layer is in every mode.
   */
  architecture: z.enum(['kappa', 'lambda', 'both']),
  /** `destroy` empties and deletes data with the stacks (dev); `retain` keeps it (prod). */
  dataRemoval: z.enum(['destroy', 'retain']),
  /** Deploy target; unset means the CLI's current account and region (environment-agnostic synth). */
  account: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id').optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1').optional(),
  eventLog: eventLogSchema,
  network: networkSchema,
  archive: archiveSchema,
  speedLayer: speedLayerSchema,
  /** The real-time alerts log beside the event log, and the notifier that delivers it to SNS (docs/architecture.md). */
  alerts: alertsSchema,
  streamProcessing: streamProcessingSchema,
  lake: lakeSchema,
  serving: servingSchema,
  /** The Kappa replay (docs/reprocessing.md). */
  reprocessing: reprocessingSchema,
  /** The Lambda architecture's batch layer (docs/reprocessing.md), built when `architecture` is lambda or both. */
  batch: batchSchema,
  observability: observabilitySchema,
}).superRefine((config, context) => {
  const msk = config.eventLog.msk;
  if (config.eventLog.type === 'msk' && !msk.serverless && msk.brokerNodes % config.network.availabilityZones !== 0) {
    context.addIssue({
      code: 'custom',
      path: ['eventLog', 'msk', 'brokerNodes'],
      message: `must be a multiple of network.availabilityZones (${config.network.availabilityZones}): MSK places the same number of brokers in each zone`,
    });
  }
  if (config.eventLog.type === 'msk' && !msk.serverless) {
    // The events topic is made with the MSK topic API (Kafka 3.6.0 or later), and Firehose reads through
    // multi-VPC private connectivity, which t3.small brokers do not support.
    const [major, minor] = msk.kafkaVersion.split('.').map(Number);
    if (major * 100 + minor < 306) {
      context.addIssue({
        code: 'custom',
        path: ['eventLog', 'msk', 'kafkaVersion'],
        message: 'the events topic is created with the MSK topic API, which needs Apache Kafka 3.6.0 or later: use 3.6.0 or later, such as 3.8.x',
      });
    }
    if (msk.instanceType === 'kafka.t3.small') {
      context.addIssue({
        code: 'custom',
        path: ['eventLog', 'msk', 'instanceType'],
        message: "multi-VPC private connectivity, through which Firehose archives the log, is not supported on t3.small brokers: use an m5, m7g or larger type, such as kafka.m7g.large",
      });
    }
  }
  if (config.eventLog.type === 'kinesis' && config.alerts.retentionHours < 24) {
    context.addIssue({
      code: 'custom',
      path: ['alerts', 'retentionHours'],
      message: 'the alerts log is a Kinesis stream here (eventLog.type = kinesis), which keeps records 24 h at least: use 24 or more',
    });
  }
  if (config.alerts.notifier.maxRecordAgeSeconds > config.alerts.retentionHours * 3600) {
    context.addIssue({
      code: 'custom',
      path: ['alerts', 'notifier', 'maxRecordAgeSeconds'],
      message: `must be at most the alerts log's retention (alerts.retentionHours = ${config.alerts.retentionHours} h = ${config.alerts.retentionHours * 3600} s): an older alert is gone from the log already`,
    });
  }
  const replay = config.reprocessing;
  const polls = Math.ceil((replay.maxCatchUpHours * 3600) / replay.pollIntervalSeconds);
  if (polls > MAX_CATCH_UP_POLLS) {
    context.addIssue({
      code: 'custom',
      path: ['reprocessing', 'maxCatchUpHours'],
      message: `with reprocessing.pollIntervalSeconds = ${replay.pollIntervalSeconds} this is ${polls} polls; at most ${MAX_CATCH_UP_POLLS} fit in one execution's history: raise pollIntervalSeconds or lower maxCatchUpHours`,
    });
  }
  if (config.batch.settleMinutes * 60 <= config.archive.bufferingIntervalSeconds) {
    context.addIssue({
      code: 'custom',
      path: ['batch', 'settleMinutes'],
      message: `must be longer than the archive's buffering (archive.bufferingIntervalSeconds = ${config.archive.bufferingIntervalSeconds} s), or a run would read raw/ before the archive has written it: raise it to at least ${Math.floor(config.archive.bufferingIntervalSeconds / 60) + 1}`,
    });
  }
  if (config.batch.expireRunsAfterDays * 24 < 3 * config.batch.scheduleHours) {
    context.addIssue({
      code: 'custom',
      path: ['batch', 'expireRunsAfterDays'],
      message: `must cover at least three runs (batch.scheduleHours = ${config.batch.scheduleHours}), or the served run could expire after two failed runs: raise it to at least ${Math.ceil((3 * config.batch.scheduleHours) / 24)}`,
    });
  }
  const retentionHours = config.eventLog[config.eventLog.type].retentionHours;
  if (replay.horizonMarginMinutes >= retentionHours * 60) {
    context.addIssue({
      code: 'custom',
      path: ['reprocessing', 'horizonMarginMinutes'],
      message: `must be less than the log's retention (eventLog.${config.eventLog.type}.retentionHours = ${retentionHours} h), or no replay could ever start`,
    });
  }
});

export type PlatformConfig = z.infer<typeof platformConfigSchema>;
