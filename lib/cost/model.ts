import { BATCH_VIEWS } from '../batch/batch-views';
import type { PlatformConfig } from '../config/schema';
import { VIEW_NAMES } from '../schemas';
import { type PriceKey, PRICES, usd } from './prices';

/**
 * The monthly cost of one configuration at a steady event rate: pure functions from a validated
 * {@link PlatformConfig} and a workload to priced lines. What each line counts, and every assumption behind
 * it, is in {@link ASSUMPTIONS} and docs/cost.md. Where the configuration cannot carry the rate and does not
 * scale by itself, the line is flagged and left unpriced instead of pricing an impossible setup.
 */

export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
/** Data volumes are priced per GiB (2^30 bytes), as AWS meters GB. */
export const GB = 1024 ** 3;
export const MiB = 1024 ** 2;

/** What the estimate assumes beyond the configuration; each is stated in docs/cost.md. */
export interface Workload {
  /** Events per second, steady, all month. */
  readonly rate: number;
  /** Size of one event as JSON on the log. */
  readonly eventBytes: number;
  /** Alerts per event, per path that detects (speed layer; Flink when present). */
  readonly alertShare: number;
  /** Size of one alert record. */
  readonly alertBytes: number;
  /** Days raw/ and views/ are kept in the lake (nothing in the stacks expires them). */
  readonly lakeDays: number;
  /** Ad-hoc Athena queries a day, each scanning one day of one view. */
  readonly athenaQueriesPerDay: number;
}

export const DEFAULT_WORKLOAD: Omit<Workload, 'rate'> = {
  eventBytes: 1024,
  alertShare: 0.001,
  alertBytes: 512,
  lakeDays: 365,
  athenaQueriesPerDay: 100,
};

/** Model constants: assumptions, each with where it comes from. */
export const ASSUMPTIONS = {
  /** Firehose's Parquet (Snappy) of raw/ is this share of the JSON it reads. Assumed, not measured. */
  parquetShareOfJson: 0.25,
  /** views/ (all Flink views, enriched_transactions being a full copy of the events) as a share of the JSON. Assumed. */
  viewsShareOfJson: 0.4,
  /** speed/ (NDJSON partial aggregates per batch) as a share of the JSON. Assumed. */
  speedShareOfJson: 0.2,
  /** Share of raw/ bytes a batch-layer INSERT reads (Parquet column pruning). Assumed. */
  batchColumnShare: 0.5,
  /**
   * Speed-layer handler core: microseconds per record on one full vCPU. bench/results/handler.json measured
   * 95,920 records/s (10.4 µs) on one x64 core, without I/O; Lambda gives one full vCPU at 1,769 MB.
   */
  speedMicrosPerRecord: 10.4,
  /** Fixed time of one speed-layer invocation: its S3 PUTs and the alerts-log write. Assumed. */
  speedFixedMs: 100,
  /** S3 objects one speed-layer invocation writes (one per speed view; more when a batch spans partitions). Assumed. */
  speedPutsPerInvocation: 2,
  /** Notifier: fixed time per invocation, and per alert (idempotency PutItem + UpdateItem, SNS Publish). Assumed. */
  notifierFixedMs: 30,
  notifierMsPerAlert: 15,
  /** Memory at which Lambda gives a function one full vCPU (Lambda documentation). */
  lambdaFullVcpuMiB: 1769,
  /**
   * Events per second one KPU carries. bench/results/flink.json measured 15,251 events/s for the full job at
   * parallelism 2 on a 2-core machine (about 7,600 per core, local disk); half of that leaves room for network
   * I/O and checkpoints. Assumed from that measurement.
   */
  flinkEventsPerKpuSecond: 3800,
  /** Managed Flink autoscaling stops at the default quota of KPUs per application. */
  flinkMaxKpus: 64,
  /** Kinesis on-demand starts at 4 MB/s of write capacity and keeps about twice the peak (Kinesis documentation). */
  kinesisOnDemandMinShards: 4,
  kinesisOnDemandHeadroom: 2,
  /** A Lambda event source polls a shard or partition about once a second when no batching window is set. */
  pollIntervalSeconds: 1,
  /** KMS requests: data keys are cached (Kinesis about every 5 min per credential; S3 bucket keys; SNS), ~12 an hour per key and principal, ~2 principals per key. Assumed. */
  kmsRequestsPerKeyHour: 24,
  /**
   * MSK Standard broker: write I/O per broker capped by the default EBS throughput, 250 MiB/s, and EBS sized at
   * ingress x retention x RF plus 20 % (aws/agent-toolkit-for-aws, managing-amazon-msk/references/size-and-choose-cluster.md).
   */
  mskBrokerWriteMiBps: 250,
  mskStorageHeadroom: 1.2,
  /** MSK Serverless quotas: ingress per partition and per cluster, MiB/s. From memory of the MSK quota page (not found in a stored copy). */
  mskServerlessPartitionIngressMiBps: 5,
  mskServerlessClusterIngressMiBps: 200,
  /** Interface endpoints the network stack creates for an MSK log (Lambda, STS, SQS, X-Ray). */
  mskVpcEndpoints: 4,
  /** JQ processing hours Firehose bills for dynamic partitioning: one engine all month. Assumed (no rule found). */
  firehoseJqHoursPerMonth: HOURS_PER_MONTH,
} as const;

export type LineStatus = 'priced' | 'over-capacity' | 'no-price';

export interface CostLine {
  readonly service: string;
  readonly item: string;
  /** What is counted, in words and numbers. */
  readonly quantity: string;
  /** USD a month; null when the line is not priced (see status and note). */
  readonly usd: number | null;
  readonly status: LineStatus;
  /** Why it is flagged, or what was scaled. */
  readonly note?: string;
  readonly prices: readonly PriceKey[];
}

export interface Estimate {
  readonly profile: string;
  readonly workload: Workload;
  readonly lines: readonly CostLine[];
  /** Sum of the priced lines. */
  readonly totalUsd: number;
  /** Lines left unpriced because the configuration cannot carry the rate. */
  readonly overCapacity: number;
}

// ---------------------------------------------------------------- small helpers

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const gb = (bytes: number): number => bytes / GB;

function priced(service: string, item: string, quantity: string, amount: number, prices: PriceKey[], note?: string): CostLine {
  return { service, item, quantity, usd: amount, status: 'priced', prices, ...(note ? { note } : {}) };
}

function flagged(service: string, item: string, quantity: string, note: string, prices: PriceKey[]): CostLine {
  return { service, item, quantity, usd: null, status: 'over-capacity', note, prices };
}

/** Bytes a meter counts when it rounds each record up to `unit` bytes. */
export const roundedBytes = (bytes: number, unit: number): number => Math.ceil(bytes / unit) * unit;

// ---------------------------------------------------------------- Lambda event sources

export interface EventSourceInvocations {
  /** Records per invocation. */
  readonly batch: number;
  readonly invocationsPerSecond: number;
}

/**
 * Invocations of a function on a stream with `lanes` independent pollers (shards x parallelization factor,
 * or partitions): each lane hands over what it has gathered at each poll (every second, or the batching
 * window if longer), at most `batchSize` records.
 */
export function eventSourceInvocations(rate: number, lanes: number, batchSize: number, windowSeconds: number): EventSourceInvocations {
  if (rate <= 0) return { batch: 0, invocationsPerSecond: 0 };
  const perLane = rate / lanes;
  const gathered = perLane * Math.max(ASSUMPTIONS.pollIntervalSeconds, windowSeconds);
  const batch = Math.min(batchSize, Math.max(1, gathered));
  return { batch, invocationsPerSecond: rate / batch };
}

export interface LambdaUse {
  readonly invocations: number;
  readonly gbSeconds: number;
  /** Share of the lanes' time spent running; above 1 the function cannot keep up. */
  readonly busy: number;
  readonly durationMs: number;
}

export function lambdaUse(source: EventSourceInvocations, lanes: number, durationMs: number, memoryMiB: number): LambdaUse {
  const invocations = source.invocationsPerSecond * SECONDS_PER_MONTH;
  const seconds = durationMs / 1000;
  return {
    invocations,
    gbSeconds: invocations * seconds * (memoryMiB / 1024),
    busy: (source.invocationsPerSecond * seconds) / lanes,
    durationMs,
  };
}

/** Speed-layer duration of one invocation: fixed I/O plus the measured per-record CPU, slowed below one full vCPU. */
export function speedDurationMs(batch: number, memoryMiB: number): number {
  const slowdown = Math.max(1, ASSUMPTIONS.lambdaFullVcpuMiB / memoryMiB);
  return ASSUMPTIONS.speedFixedMs + (batch * ASSUMPTIONS.speedMicrosPerRecord * slowdown) / 1000;
}

function lambdaLines(name: string, use: LambdaUse, memoryMiB: number, lanes: number, source: EventSourceInvocations): CostLine[] {
  const quantity = `${fmt(use.invocations / 1e6, 2)} M invocations of ~${fmt(source.batch, 1)} records, ~${fmt(use.durationMs)} ms at ${memoryMiB} MB`;
  if (use.busy > 1) {
    return [flagged('Lambda', name, quantity,
      `cannot keep up: needs ${fmt(use.busy * 100)} % of its ${lanes} concurrent lane(s); add shards/partitions or parallelization`, ['lambdaRequestsMillion', 'lambdaArmGBSecond'])];
  }
  const amount = usd('lambdaRequestsMillion', use.invocations / 1e6) + usd('lambdaArmGBSecond', use.gbSeconds);
  return [priced('Lambda', name, `${quantity} = ${fmt(use.gbSeconds)} GB-s (arm64)`, amount, ['lambdaRequestsMillion', 'lambdaArmGBSecond'])];
}

// ---------------------------------------------------------------- the estimate

/** Alerts a second on the alerts log: each detecting path writes its own. */
export function alertsPerSecond(config: PlatformConfig, workload: Workload): number {
  return workload.rate * workload.alertShare * detectingPaths(config);
}

export function detectingPaths(config: PlatformConfig): number {
  return 1 + (streamProcessingOn(config) ? 1 : 0);
}

const streamProcessingOn = (config: PlatformConfig): boolean => config.architecture !== 'lambda';
const batchLayerOn = (config: PlatformConfig): boolean => config.architecture !== 'kappa';

/** Kinesis shards of the events stream: provisioned as configured; on-demand as the stream scales itself. */
export function kinesisShards(config: PlatformConfig, bytesPerSecond: number): number {
  const kinesis = config.eventLog.kinesis;
  if (kinesis.capacityMode === 'provisioned') return kinesis.shardCount;
  return Math.max(ASSUMPTIONS.kinesisOnDemandMinShards, Math.ceil((ASSUMPTIONS.kinesisOnDemandHeadroom * bytesPerSecond) / MiB));
}

/** Shards a provisioned stream needs to take `rate` records of `bytes` (1 MB/s and 1,000 records/s per shard) and feed its shared readers (2 MB/s per shard between them). */
export function kinesisShardsNeeded(rate: number, bytes: number, sharedReaders: number): number {
  const mibps = (rate * bytes) / MiB;
  return Math.max(1, Math.ceil(mibps), Math.ceil(rate / 1000), Math.ceil((sharedReaders * mibps) / 2));
}

export function estimate(profile: string, config: PlatformConfig, workload: Workload): Estimate {
  const lines: CostLine[] = [
    ...eventLogLines(config, workload),
    ...lambdaSpeedLines(config, workload),
    ...notifierLines(config, workload),
    ...(streamProcessingOn(config) ? flinkLines(config, workload) : []),
    ...firehoseLines(config, workload),
    ...s3Lines(config, workload),
    ...athenaLines(config, workload),
    ...alertDeliveryLines(config, workload),
    ...kmsLines(config),
  ];
  const totalUsd = lines.reduce((sum, line) => sum + (line.usd ?? 0), 0);
  return { profile, workload, lines, totalUsd, overCapacity: lines.filter((l) => l.status === 'over-capacity').length };
}

// ---------------------------------------------------------------- event log

function eventLogLines(config: PlatformConfig, w: Workload): CostLine[] {
  return config.eventLog.type === 'kinesis' ? kinesisLines(config, w) : config.eventLog.msk.serverless ? mskServerlessLines(config, w) : mskProvisionedLines(config, w);
}

function kinesisLines(config: PlatformConfig, w: Workload): CostLine[] {
  const k = config.eventLog.kinesis;
  const S = 'Kinesis Data Streams';
  const billedBytes = roundedBytes(w.eventBytes, 1024);
  const ingestGB = gb(w.rate * billedBytes * SECONDS_PER_MONTH);
  const gbPerHour = gb(w.rate * w.eventBytes * 3600);
  // Readers: the speed layer and Flink on enhanced fan-out where configured; Firehose always shares.
  const flink = streamProcessingOn(config);
  const efoReaders = k.enhancedFanOut ? 1 + (flink ? 1 : 0) : 0;
  const sharedReaders = 1 + (flink ? 1 : 0) + 1 - efoReaders;
  const extendedHours = Math.max(0, Math.min(k.retentionHours, 168) - 24);
  const longTermHours = Math.max(0, k.retentionHours - 168);
  const lines: CostLine[] = [];

  if (k.capacityMode === 'on-demand') {
    const shards = kinesisShards(config, w.rate * w.eventBytes);
    lines.push(priced(S, 'events stream (on-demand)', `1 stream x ${HOURS_PER_MONTH} h (scales itself; ~${shards} shards)`, usd('kinesisOnDemandStreamHour', HOURS_PER_MONTH), ['kinesisOnDemandStreamHour']));
    lines.push(priced(S, 'data in', `${fmt(ingestGB)} GB (${fmt(w.eventBytes)} B events billed as ${fmt(billedBytes)} B)`, usd('kinesisOnDemandIngestGB', ingestGB), ['kinesisOnDemandIngestGB']));
    const out = usd('kinesisOnDemandRetrievalGB', ingestGB * sharedReaders) + usd('kinesisOnDemandEfoRetrievalGB', ingestGB * efoReaders);
    lines.push(priced(S, 'data out', `${fmt(ingestGB * (sharedReaders + efoReaders))} GB: ${sharedReaders} shared reader(s)${efoReaders ? `, ${efoReaders} enhanced fan-out` : ''} (speed layer, Firehose${flink ? ', Flink' : ''})`,
      out, ['kinesisOnDemandRetrievalGB', 'kinesisOnDemandEfoRetrievalGB']));
    if (extendedHours > 0) {
      lines.push(priced(S, 'retention 24 h - 7 days', `${fmt(gbPerHour * extendedHours)} GB-month (${k.retentionHours} h retention)`, usd('kinesisOnDemandExtendedRetentionGBMonth', gbPerHour * extendedHours), ['kinesisOnDemandExtendedRetentionGBMonth']));
    }
  } else {
    const needed = kinesisShardsNeeded(w.rate, w.eventBytes, sharedReaders);
    const shardItem = `events stream (provisioned, ${k.shardCount} shards)`;
    const perShard = ['kinesisShardHour', ...(extendedHours > 0 ? ['kinesisProvisionedExtendedRetentionShardHour'] : []), ...(efoReaders > 0 ? ['kinesisEfoConsumerShardHour'] : [])] as PriceKey[];
    if (needed > k.shardCount) {
      lines.push(flagged(S, shardItem, `${k.shardCount} shards configured`,
        `over capacity: ${fmt(w.rate)} events/s of ${fmt(w.eventBytes)} B need ${needed} shards (1 MB/s and 1,000 records/s in, 2 MB/s out shared by ${sharedReaders} reader(s), per shard); provisioned streams do not scale themselves. Not priced: shard-hours${extendedHours > 0 ? ', retention shard-hours' : ''}${efoReaders > 0 ? ', fan-out consumer shard-hours' : ''}`,
        perShard));
    } else {
      const shardHours = k.shardCount * HOURS_PER_MONTH;
      const amount = usd('kinesisShardHour', shardHours) + (extendedHours > 0 ? usd('kinesisProvisionedExtendedRetentionShardHour', shardHours) : 0) + usd('kinesisEfoConsumerShardHour', efoReaders * shardHours);
      lines.push(priced(S, shardItem, `${k.shardCount} shards x ${HOURS_PER_MONTH} h (needs ${needed})${extendedHours > 0 ? ', + retention to 7 days' : ''}${efoReaders ? `, + ${efoReaders} fan-out consumer(s)` : ''}`, amount, perShard));
    }
    const units = w.rate * Math.ceil(w.eventBytes / (25 * 1024)) * SECONDS_PER_MONTH;
    lines.push(priced(S, 'PUT payload units', `${fmt(units / 1e6)} M (one per record up to 25 KB)`, usd('kinesisPutPayloadUnitsMillion', units / 1e6), ['kinesisPutPayloadUnitsMillion']));
    if (efoReaders > 0) {
      lines.push(priced(S, 'enhanced fan-out data out', `${fmt(efoReaders * ingestGB)} GB (${efoReaders} consumer(s): speed layer${flink ? ', Flink' : ''})`, usd('kinesisEfoRetrievalGB', efoReaders * ingestGB), ['kinesisEfoRetrievalGB']));
    }
  }
  if (longTermHours > 0) {
    lines.push(priced(S, 'retention beyond 7 days', `${fmt(gbPerHour * longTermHours)} GB-month (${k.retentionHours} h retention)`, usd('kinesisLongTermRetentionGBMonth', gbPerHour * longTermHours), ['kinesisLongTermRetentionGBMonth']));
  }

  // The alerts log: a provisioned stream of its own (alerts.shardCount), read by the notifier.
  const alerts = alertsPerSecond(config, w);
  const alertShards = config.alerts.shardCount;
  const alertItem = `alerts stream (provisioned, ${alertShards} shard${alertShards > 1 ? 's' : ''})`;
  if (kinesisShardsNeeded(alerts, w.alertBytes, 1) > alertShards) {
    lines.push(flagged(S, alertItem, `${fmt(alerts, 1)} alerts/s`, `over capacity: needs ${kinesisShardsNeeded(alerts, w.alertBytes, 1)} shards`, ['kinesisShardHour']));
  } else {
    const units = alerts * SECONDS_PER_MONTH;
    const retention = config.alerts.retentionHours > 24 ? usd('kinesisProvisionedExtendedRetentionShardHour', alertShards * HOURS_PER_MONTH) : 0;
    lines.push(priced(S, alertItem, `${alertShards} x ${HOURS_PER_MONTH} h, ${fmt(units / 1e6, 2)} M PUT units (${fmt(alerts, 1)} alerts/s)${retention ? `, ${config.alerts.retentionHours} h retention` : ''}`,
      usd('kinesisShardHour', alertShards * HOURS_PER_MONTH) + usd('kinesisPutPayloadUnitsMillion', units / 1e6) + retention,
      ['kinesisShardHour', 'kinesisPutPayloadUnitsMillion', 'kinesisProvisionedExtendedRetentionShardHour']));
  }
  return lines;
}

/** Replication factor of the topics on a provisioned cluster (msk-event-log.ts). */
export const mskReplicationFactor = (brokers: number): number => Math.min(3, brokers);

function mskProvisionedLines(config: PlatformConfig, w: Workload): CostLine[] {
  const m = config.eventLog.msk;
  const S = 'Amazon MSK';
  const lines: CostLine[] = [];
  const rf = mskReplicationFactor(m.brokerNodes);
  const ingress = w.rate * w.eventBytes + alertsPerSecond(config, w) * w.alertBytes;
  const writePerBroker = (ingress * rf) / m.brokerNodes / MiB;
  const storagePerBrokerGiB = ((ingress * m.retentionHours * 3600 * rf) / m.brokerNodes / GB) * ASSUMPTIONS.mskStorageHeadroom;
  const brokerItem = `${m.brokerNodes} x ${m.instanceType} brokers`;
  const brokerPrice: PriceKey = 'mskM7gLargeBrokerHour';
  if (m.instanceType !== 'kafka.m7g.large') {
    lines.push({ service: S, item: brokerItem, quantity: `${m.brokerNodes} x ${HOURS_PER_MONTH} h`, usd: null, status: 'no-price', note: `no price in lib/cost/prices.ts for ${m.instanceType}`, prices: [] });
  } else if (writePerBroker > ASSUMPTIONS.mskBrokerWriteMiBps) {
    lines.push(flagged(S, brokerItem, `${fmt(writePerBroker)} MiB/s written per broker (RF ${rf})`,
      `over capacity: above the ${ASSUMPTIONS.mskBrokerWriteMiBps} MiB/s default EBS throughput of a broker; needs ${Math.ceil((ingress * rf) / MiB / ASSUMPTIONS.mskBrokerWriteMiBps)} brokers (a multiple of ${config.network.availabilityZones})`, [brokerPrice]));
  } else {
    lines.push(priced(S, brokerItem, `${m.brokerNodes} x ${HOURS_PER_MONTH} h (${fmt(writePerBroker, 1)} MiB/s written per broker, RF ${rf})`, usd(brokerPrice, m.brokerNodes * HOURS_PER_MONTH), [brokerPrice]));
  }
  const storageItem = `broker storage (${m.brokerNodes} x ${m.storageGiB} GiB)`;
  if (storagePerBrokerGiB > m.storageGiB) {
    lines.push(flagged(S, storageItem, `${fmt(storagePerBrokerGiB)} GiB needed per broker`,
      `disks fill: ${m.retentionHours} h of ${fmt(ingress / MiB, 2)} MiB/s x RF ${rf} + 20 % needs ${fmt(storagePerBrokerGiB)} GiB per broker; storage does not scale itself here (raise storageGiB or lower retentionHours)`, ['mskStorageGBMonth']));
  } else {
    lines.push(priced(S, storageItem, `${fmt(m.brokerNodes * m.storageGiB)} GB-month provisioned (${fmt(storagePerBrokerGiB)} GiB used per broker)`, usd('mskStorageGBMonth', m.brokerNodes * m.storageGiB), ['mskStorageGBMonth']));
  }
  lines.push(vpcEndpointLine(config));
  return lines;
}

function mskServerlessLines(config: PlatformConfig, w: Workload): CostLine[] {
  const m = config.eventLog.msk;
  const S = 'Amazon MSK';
  const lines: CostLine[] = [];
  const alerts = alertsPerSecond(config, w);
  const eventsMiBps = (w.rate * w.eventBytes) / MiB;
  const partitions = m.partitions + config.alerts.partitions;
  const neededPartitions = Math.ceil(eventsMiBps / ASSUMPTIONS.mskServerlessPartitionIngressMiBps);
  const ingress = w.rate * w.eventBytes + alerts * w.alertBytes;
  const readers = 2 + (streamProcessingOn(config) ? 1 : 0);
  const inGB = gb(ingress * SECONDS_PER_MONTH);
  const outGB = gb((w.rate * w.eventBytes * readers + alerts * w.alertBytes) * SECONDS_PER_MONTH);
  const storedGB = gb(w.rate * w.eventBytes * m.retentionHours * 3600 + alerts * w.alertBytes * config.alerts.retentionHours * 3600);
  lines.push(priced(S, 'Serverless cluster', `1 x ${HOURS_PER_MONTH} h`, usd('mskServerlessClusterHour', HOURS_PER_MONTH), ['mskServerlessClusterHour']));
  const partitionItem = `Serverless partitions (events ${m.partitions} + alerts ${config.alerts.partitions})`;
  if (ingress / MiB > ASSUMPTIONS.mskServerlessClusterIngressMiBps) {
    lines.push(flagged(S, partitionItem, `${fmt(ingress / MiB, 1)} MiB/s in`, `over capacity: above the ${ASSUMPTIONS.mskServerlessClusterIngressMiBps} MiB/s ingress quota of a Serverless cluster`, ['mskServerlessPartitionHour']));
  } else if (neededPartitions > m.partitions) {
    lines.push(flagged(S, partitionItem, `${fmt(eventsMiBps, 1)} MiB/s in`,
      `over capacity: at ${ASSUMPTIONS.mskServerlessPartitionIngressMiBps} MiB/s in per partition the events topic needs ${neededPartitions} partitions; its partition count does not change by itself`, ['mskServerlessPartitionHour']));
  } else {
    lines.push(priced(S, partitionItem, `${partitions} x ${HOURS_PER_MONTH} h`, usd('mskServerlessPartitionHour', partitions * HOURS_PER_MONTH), ['mskServerlessPartitionHour']));
  }
  lines.push(priced(S, 'Serverless data in', `${fmt(inGB)} GB`, usd('mskServerlessDataInGB', inGB), ['mskServerlessDataInGB']));
  lines.push(priced(S, 'Serverless data out', `${fmt(outGB)} GB (${readers} readers of the events: speed layer, Firehose${readers > 2 ? ', Flink' : ''}; the notifier)`, usd('mskServerlessDataOutGB', outGB), ['mskServerlessDataOutGB']));
  lines.push(priced(S, 'Serverless storage', `${fmt(storedGB)} GB-month (${m.retentionHours} h retention)`, usd('mskServerlessStorageGBMonth', storedGB), ['mskServerlessStorageGBMonth']));
  lines.push(vpcEndpointLine(config));
  return lines;
}

function vpcEndpointLine(config: PlatformConfig): CostLine {
  const azHours = ASSUMPTIONS.mskVpcEndpoints * config.network.availabilityZones * HOURS_PER_MONTH;
  return priced('VPC (PrivateLink)', 'interface endpoints', `${ASSUMPTIONS.mskVpcEndpoints} endpoints x ${config.network.availabilityZones} AZs x ${HOURS_PER_MONTH} h (data processed not counted)`,
    usd('vpcInterfaceEndpointAzHour', azHours), ['vpcInterfaceEndpointAzHour']);
}

// ---------------------------------------------------------------- Lambda

/** Concurrent lanes of the speed layer: shards x parallelization factor on Kinesis, partitions on MSK. */
export function speedLanes(config: PlatformConfig, w: Workload): number {
  if (config.eventLog.type === 'msk') return config.eventLog.msk.partitions;
  return kinesisShards(config, w.rate * w.eventBytes) * config.speedLayer.parallelizationFactor;
}

function lambdaSpeedLines(config: PlatformConfig, w: Workload): CostLine[] {
  const s = config.speedLayer;
  const lanes = speedLanes(config, w);
  const source = eventSourceInvocations(w.rate, lanes, s.batchSize, s.maxBatchingWindowSeconds);
  const use = lambdaUse(source, lanes, speedDurationMs(source.batch, s.memoryMiB), s.memoryMiB);
  return lambdaLines('speed layer', use, s.memoryMiB, lanes, source);
}

function notifierLines(config: PlatformConfig, w: Workload): CostLine[] {
  const n = config.alerts.notifier;
  const lanes = config.eventLog.type === 'msk' ? config.alerts.partitions : config.alerts.shardCount * n.parallelizationFactor;
  const source = eventSourceInvocations(alertsPerSecond(config, w), lanes, n.batchSize, n.maxBatchingWindowSeconds);
  const duration = ASSUMPTIONS.notifierFixedMs + source.batch * ASSUMPTIONS.notifierMsPerAlert;
  return lambdaLines('alert notifier', lambdaUse(source, lanes, duration, n.memoryMiB), n.memoryMiB, lanes, source);
}

// ---------------------------------------------------------------- Managed Flink

/** KPUs the job runs on: parallelism / parallelismPerKpu, rounded up. */
export const configuredKpus = (config: PlatformConfig): number => Math.ceil(config.streamProcessing.parallelism / config.streamProcessing.parallelismPerKpu);
export const kpusNeeded = (rate: number): number => Math.max(1, Math.ceil(rate / ASSUMPTIONS.flinkEventsPerKpuSecond));

function flinkLines(config: PlatformConfig, w: Workload): CostLine[] {
  const S = 'Managed Service for Apache Flink';
  const configured = configuredKpus(config);
  const needed = kpusNeeded(w.rate);
  const autoscaling = config.streamProcessing.autoScaling;
  if (needed > configured && (!autoscaling || needed > ASSUMPTIONS.flinkMaxKpus)) {
    return [flagged(S, 'stream job', `${configured} KPU${configured > 1 ? 's' : ''} configured (+ 1 orchestration)`,
      autoscaling
        ? `over capacity: needs ${needed} KPUs, above the default ${ASSUMPTIONS.flinkMaxKpus}-KPU quota autoscaling stops at`
        : `over capacity: needs ${needed} KPUs at ~${fmt(ASSUMPTIONS.flinkEventsPerKpuSecond)} events/s each; autoscaling is off (raise parallelism or turn on streamProcessing.autoScaling)`,
      ['flinkKpuHour'])];
  }
  const kpus = Math.max(configured, needed);
  const scaled = kpus > configured ? ` (autoscaled from ${configured})` : '';
  return [priced(S, 'stream job', `(${kpus} + 1 orchestration) KPUs x ${HOURS_PER_MONTH} h${scaled}; running storage within the 50 GB/KPU included`,
    usd('flinkKpuHour', (kpus + 1) * HOURS_PER_MONTH), ['flinkKpuHour', 'flinkRunningStorageGBMonth'], scaled ? `autoscaled to ${kpus} KPUs` : undefined)];
}

// ---------------------------------------------------------------- Firehose, S3, Athena

/** Objects Firehose writes a month: one per buffer flush, on time or on size, whichever comes first. */
export function firehoseObjects(config: PlatformConfig, w: Workload): number {
  const a = config.archive;
  const bySize = (w.rate * w.eventBytes * SECONDS_PER_MONTH) / (a.bufferingSizeMiB * MiB);
  return Math.max(SECONDS_PER_MONTH / a.bufferingIntervalSeconds, bySize);
}

function firehoseLines(config: PlatformConfig, w: Workload): CostLine[] {
  const S = 'Data Firehose';
  const records = w.rate * SECONDS_PER_MONTH;
  const actualGB = gb(records * w.eventBytes);
  const rounded5k = gb(records * roundedBytes(w.eventBytes, 5 * 1024));
  const fromKinesis = config.eventLog.type === 'kinesis';
  const ingest = fromKinesis
    ? priced(S, 'ingestion from Kinesis', `${fmt(rounded5k)} GB billed (${fmt(w.eventBytes)} B records rounded up to 5 KB; ${fmt(actualGB)} GB actual)`, usd('firehoseKdsIngestGB', rounded5k), ['firehoseKdsIngestGB'])
    : priced(S, 'ingestion from MSK', `${fmt(actualGB)} GB (no rounding)`, usd('firehoseMskIngestGB', actualGB), ['firehoseMskIngestGB']);
  const objects = firehoseObjects(config, w);
  const partitioning = usd('firehoseDynamicPartitioningGB', actualGB) + usd('firehoseDynamicPartitioningObjectsThousand', objects / 1000) + usd('firehoseJqHour', ASSUMPTIONS.firehoseJqHoursPerMonth);
  return [
    ingest,
    priced(S, 'Parquet conversion', `${fmt(rounded5k)} GB billed (5 KB rounding)`, usd('firehoseFormatConversionGB', rounded5k), ['firehoseFormatConversionGB']),
    priced(S, 'dynamic partitioning (dt/hr)', `${fmt(actualGB)} GB, ${fmt(objects)} objects, ${ASSUMPTIONS.firehoseJqHoursPerMonth} JQ-hours`, partitioning,
      ['firehoseDynamicPartitioningGB', 'firehoseDynamicPartitioningObjectsThousand', 'firehoseJqHour']),
  ];
}

/** Bytes of JSON events a day. */
const jsonPerDay = (w: Workload): number => w.rate * w.eventBytes * 86400;

function s3Lines(config: PlatformConfig, w: Workload): CostLine[] {
  const S = 'S3';
  const day = jsonPerDay(w);
  const rawDaily = day * ASSUMPTIONS.parquetShareOfJson;
  const iaAfter = config.lake.rawInfrequentAccessAfterDays;
  const standardDays = iaAfter === 0 ? w.lakeDays : Math.min(w.lakeDays, iaAfter);
  const iaDays = w.lakeDays - standardDays;
  const rawStdGB = gb(rawDaily * standardDays);
  const rawIaGB = gb(rawDaily * iaDays);
  const lines: CostLine[] = [
    priced(S, 'raw/ (Parquet)', `${fmt(rawStdGB)} GB Standard + ${fmt(rawIaGB)} GB Standard-IA (${w.lakeDays} days kept, IA after ${iaAfter || 'never'})`,
      usd('s3StandardGBMonth', rawStdGB) + usd('s3StandardIaGBMonth', rawIaGB), ['s3StandardGBMonth', 's3StandardIaGBMonth']),
  ];
  if (streamProcessingOn(config)) {
    const viewsGB = gb(day * ASSUMPTIONS.viewsShareOfJson * w.lakeDays);
    lines.push(priced(S, 'views/ (Flink, Parquet)', `${fmt(viewsGB)} GB Standard (${w.lakeDays} days kept)`, usd('s3StandardGBMonth', viewsGB), ['s3StandardGBMonth']));
  }
  const speedGB = gb(day * ASSUMPTIONS.speedShareOfJson * config.lake.speedExpirationDays);
  lines.push(priced(S, 'speed/ (NDJSON)', `${fmt(speedGB)} GB Standard (expires after ${config.lake.speedExpirationDays} days)`, usd('s3StandardGBMonth', speedGB), ['s3StandardGBMonth']));

  const lanes = speedLanes(config, w);
  const speed = eventSourceInvocations(w.rate, lanes, config.speedLayer.batchSize, config.speedLayer.maxBatchingWindowSeconds);
  const speedPuts = speed.invocationsPerSecond * SECONDS_PER_MONTH * ASSUMPTIONS.speedPutsPerInvocation;
  const firehosePuts = firehoseObjects(config, w);
  const flinkPuts = streamProcessingOn(config)
    ? VIEW_NAMES.length * Math.max(config.streamProcessing.parallelism, kpusNeeded(w.rate)) * (SECONDS_PER_MONTH / config.streamProcessing.checkpointIntervalSeconds)
    : 0;
  const puts = speedPuts + firehosePuts + flinkPuts;
  lines.push(priced(S, 'PUT requests', `${fmt(puts / 1e6, 2)} M: speed layer ${fmt(speedPuts / 1e6, 2)} M, Firehose ${fmt(firehosePuts / 1e6, 2)} M${flinkPuts ? `, Flink ${fmt(flinkPuts / 1e6, 2)} M (${VIEW_NAMES.length} views x subtasks x checkpoints)` : ''}`,
    usd('s3PutThousand', puts / 1000), ['s3PutThousand']));
  return lines;
}

/** Bytes one batch-layer INSERT scans: a chunk of up to 100 days of raw/, the columns the view reads. */
export function batchChunkScanBytes(w: Workload): number {
  return Math.min(100, w.lakeDays) * jsonPerDay(w) * ASSUMPTIONS.parquetShareOfJson * ASSUMPTIONS.batchColumnShare;
}

function athenaLines(config: PlatformConfig, w: Workload): CostLine[] {
  const S = 'Athena';
  const day = jsonPerDay(w);
  const views = streamProcessingOn(config) ? VIEW_NAMES.length : BATCH_VIEWS.length;
  const perQuery = Math.max(10 * MiB, (day * (streamProcessingOn(config) ? ASSUMPTIONS.viewsShareOfJson : ASSUMPTIONS.parquetShareOfJson)) / views);
  const queries = w.athenaQueriesPerDay * (HOURS_PER_MONTH / 24);
  const adHocTB = (queries * perQuery) / 1024 ** 4;
  const lines = [priced(S, 'queries', `${fmt(queries)} queries x ${fmt(perQuery / GB, 2)} GB (one day of one view each) = ${fmt(adHocTB, 2)} TB`, usd('athenaTBScanned', adHocTB), ['athenaTBScanned'])];
  if (batchLayerOn(config)) {
    const runs = HOURS_PER_MONTH / config.batch.scheduleHours;
    const chunk = batchChunkScanBytes(w);
    const cutoff = config.serving.bytesScannedCutoffPerQueryMiB * MiB;
    const perRun = BATCH_VIEWS.length * w.lakeDays * day * ASSUMPTIONS.parquetShareOfJson * ASSUMPTIONS.batchColumnShare;
    const tb = (runs * perRun) / 1024 ** 4;
    const item = `batch layer (${fmt(runs)} runs recomputing ${BATCH_VIEWS.length} views from all of raw/)`;
    if (chunk > cutoff) {
      lines.push(flagged(S, item, `${fmt(chunk / GB)} GB per 100-day INSERT chunk`,
        `over capacity: a chunk scans more than serving.bytesScannedCutoffPerQueryMiB (${fmt(cutoff / GB)} GB), so Athena cancels it and every run fails`, ['athenaTBScanned']));
    } else {
      lines.push(priced(S, item, `${fmt(tb, 1)} TB scanned (${w.lakeDays} days of raw/ per run)`, usd('athenaTBScanned', tb), ['athenaTBScanned']));
    }
  }
  return lines;
}

// ---------------------------------------------------------------- alerts: DynamoDB, SNS; KMS

function alertDeliveryLines(config: PlatformConfig, w: Workload): CostLine[] {
  const alerts = alertsPerSecond(config, w) * SECONDS_PER_MONTH;
  // Powertools idempotency: a conditional PutItem (in progress) and an UpdateItem (completed) per alert and path, each under 1 KB.
  const writes = 2 * alerts;
  return [
    priced('DynamoDB', 'idempotency table (on-demand)', `${fmt(writes / 1e6, 2)} M writes (2 per alert and path, ${fmt(alerts / 1e6, 2)} M alerts)`, usd('dynamodbWriteRequestsMillion', writes / 1e6), ['dynamodbWriteRequestsMillion']),
    priced('SNS', 'alert publishes', `${fmt(alerts / 1e6, 2)} M publishes (deliveries to subscribers not counted)`, usd('snsPublishMillion', alerts / 1e6), ['snsPublishMillion']),
  ];
}

/** Customer managed keys the stacks create (lib/stacks, lib/constructs), for this configuration. */
export function kmsKeys(config: PlatformConfig): number {
  const log = config.eventLog.type === 'kinesis' ? 2 : config.eventLog.msk.serverless ? 0 : 1;
  // speed layer, alerts, lake, observability, the custom-resource providers' logs
  const always = 5;
  // Flink state, the Flink starter's logs, the Kappa replay's execution log
  const stream = streamProcessingOn(config) ? 3 : 0;
  const batch = batchLayerOn(config) ? 1 : 0;
  return log + always + stream + batch;
}

function kmsLines(config: PlatformConfig): CostLine[] {
  const keys = kmsKeys(config);
  const requests = keys * ASSUMPTIONS.kmsRequestsPerKeyHour * HOURS_PER_MONTH;
  return [priced('KMS', 'customer managed keys', `${keys} keys, ~${fmt(requests)} requests (data keys cached)`, usd('kmsKeyMonth', keys) + usd('kmsRequestsTenThousand', requests / 10000),
    ['kmsKeyMonth', 'kmsRequestsTenThousand'])];
}

/** Every price key some line can use, to list in the docs. */
export const PRICE_KEYS = Object.keys(PRICES) as PriceKey[];
