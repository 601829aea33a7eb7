import type { PlatformConfig } from './schema';

/**
 * The defaults every profile starts from: a small, cheap, destroyable Kappa
 * deployment. Profiles in `cdk.json` (context key `profiles`) override parts of it.
 */
export const defaultConfig: PlatformConfig = {
  name: 'tributary',
  architecture: 'kappa',
  dataRemoval: 'destroy',
  eventLog: {
    type: 'kinesis',
    kinesis: {
      capacityMode: 'on-demand',
      shardCount: 2,
      retentionHours: 168,
      enhancedFanOut: false,
    },
    msk: {
      serverless: false,
      kafkaVersion: '3.8.x',
      brokerNodes: 2,
      instanceType: 'kafka.m7g.large',
      storageGiB: 100,
      partitions: 6,
      retentionHours: 168,
      enhancedMonitoring: 'DEFAULT',
    },
  },
  network: {
    availabilityZones: 2,
    cidr: '10.20.0.0/16',
  },
  archive: {
    bufferingIntervalSeconds: 300,
    bufferingSizeMiB: 64,
  },
  speedLayer: {
    batchSize: 500,
    // 0: the event source invokes as soon as it has read records, so the speed path can answer within ~1-2 s;
    // docs/configuration.md says what a short window costs (more invocations and S3 PUTs at low rates).
    maxBatchingWindowSeconds: 0,
    parallelizationFactor: 1,
    retryAttempts: 3,
    maxRecordAgeSeconds: 3600,
    tumblingWindowSeconds: 300,
    memoryMiB: 1024,
    timeoutSeconds: 60,
    startingPosition: 'TRIM_HORIZON',
  },
  alerts: {
    retentionHours: 24,
    shardCount: 1,
    partitions: 3,
    notifier: {
      batchSize: 100,
      maxBatchingWindowSeconds: 0,
      parallelizationFactor: 1,
      retryAttempts: 5,
      maxRecordAgeSeconds: 3600,
      memoryMiB: 256,
      timeoutSeconds: 30,
    },
  },
  streamProcessing: {
    parallelism: 1,
    parallelismPerKpu: 1,
    autoScaling: false,
    checkpointIntervalSeconds: 60,
    snapshotsEnabled: true,
    startOnDeploy: true,
    restoreOnStart: 'latest-snapshot',
    allowNonRestoredState: false,
    outputVersion: 1,
    dedupeTtlHours: 24,
    maxOutOfOrdernessMs: 5000,
    idlenessMs: 60000,
    allowedLatenessMs: 30000,
    logLevel: 'INFO',
  },
  lake: {
    rawInfrequentAccessAfterDays: 30,
    speedExpirationDays: 7,
    noncurrentVersionExpirationDays: 30,
    accessLogRetentionDays: 90,
  },
  serving: {
    bytesScannedCutoffPerQueryMiB: 10240,
    resultsRetentionDays: 7,
  },
  reprocessing: {
    caughtUpLagSeconds: 60,
    caughtUpPolls: 3,
    pollIntervalSeconds: 120,
    maxCatchUpHours: 24,
    startTimeoutMinutes: 30,
    horizonMarginMinutes: 60,
    retireOldVersion: 'keep',
  },
  batch: {
    scheduleHours: 6,
    settleMinutes: 15,
    expireRunsAfterDays: 7,
  },
  observability: {
    alarmsEnabled: false,
    logRetentionDays: 30,
  },
};
