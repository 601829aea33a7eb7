import { BATCH_VIEWS } from './batch/batch-views';
import { LakePrefix, SPEED_DEAD_LETTER_PREFIX } from './lake-layout';
import { type GlueColumn, transactionColumns, VIEW_NAMES, viewColumns, viewDescription } from './schemas';

/**
 * Every table of the lake: name, prefix, format, columns and partition keys.
 * The one list both serving layers are built from: the Glue tables that Athena
 * queries in the cloud (LakeStack) and the DuckDB views of the sandbox, so the
 * same SQL finds the same tables in both. Free of CDK on purpose: the sandbox
 * loads it without the construct library.
 */

/** How the files under a table's prefix are stored. */
export type LakeFormat = 'parquet' | 'json';

/** First day partition projection enumerates; queries should always bound `dt`. */
export const PROJECTION_START_DATE = '2020-01-01';

/** A projected partition key of a lake table. */
export interface ProjectedPartition {
  readonly name: string;
  /** Athena partition projection parameters for this key, without the `projection.<name>.` prefix. */
  readonly projection: Record<string, string>;
}

/** `dt=yyyy-MM-dd`, the UTC day. */
export const DATE_PARTITION: ProjectedPartition = {
  name: 'dt',
  projection: { type: 'date', format: 'yyyy-MM-dd', range: `${PROJECTION_START_DATE},NOW`, interval: '1', 'interval.unit': 'DAYS' },
};

/** `hr=HH`, the UTC hour. */
export const HOUR_PARTITION: ProjectedPartition = {
  name: 'hr',
  projection: { type: 'integer', range: '0,23', digits: '2' },
};

/** `v=<n>`, the output version of a stream view: a Kappa replay writes n+1 beside n. */
export const VERSION_PARTITION: ProjectedPartition = {
  name: 'v',
  projection: { type: 'integer', range: '1,9999' },
};

/**
 * `run=<id>`, the batch run that wrote a batch view's rows. Injected: Athena reads only the run a
 * query names (`WHERE run = '...'`), which the Lambda serving views always do.
 */
export const RUN_PARTITION: ProjectedPartition = {
  name: 'run',
  projection: { type: 'injected' },
};

/** Columns of the speed layer's dead-letter records (deadletter/speed/), one JSON line per rejected record. */
export const SPEED_DEAD_LETTER_COLUMNS: GlueColumn[] = [
  { name: 'reason', type: 'string', comment: 'undecodable | bad_json | schema_violation' },
  { name: 'detail', type: 'string', comment: 'what exactly was wrong, for a person' },
  { name: 'errors', type: 'array<struct<path:string,message:string>>', comment: 'schema violations (JSON Pointer and message)' },
  { name: 'event_source', type: 'string', comment: 'aws:kinesis or aws:kafka' },
  { name: 'stream', type: 'string', comment: 'stream ARN or topic' },
  { name: 'shard_id', type: 'string', comment: 'shard, or topic-partition' },
  { name: 'sequence_number', type: 'string', comment: 'sequence number, or offset' },
  { name: 'partition_key', type: 'string' },
  { name: 'arrival_time', type: 'bigint', comment: 'when the log accepted the record, epoch ms' },
  { name: 'data_base64', type: 'string', comment: 'the record exactly as received' },
];

/** Columns of the stream job's rejected records (views/dead_letter/), written beside its views. */
export const STREAM_DEAD_LETTER_COLUMNS: GlueColumn[] = [
  { name: 'raw', type: 'string', comment: 'the record as received' },
  { name: 'reason', type: 'string', comment: 'why the job rejected it' },
  { name: 'received_at', type: 'bigint', comment: 'epoch ms' },
];

export interface LakeTableSpec {
  /** Construct id of the Glue table in LakeStack. */
  readonly id: string;
  readonly tableName: string;
  /** Key prefix of the table's data, without a leading or trailing slash. */
  readonly prefix: string;
  readonly description: string;
  readonly format: LakeFormat;
  readonly columns: GlueColumn[];
  /** Partition keys, outermost first. */
  readonly partitions: ProjectedPartition[];
}

const HOURLY = [DATE_PARTITION, HOUR_PARTITION];
const VERSIONED = [VERSION_PARTITION, DATE_PARTITION, HOUR_PARTITION];
/** By day, not hour: one Athena INSERT writes at most 100 partitions, so a run inserts 100 days per query. */
const PER_RUN = [RUN_PARTITION, DATE_PARTITION];

/** The lake's tables, in the order LakeStack creates them. */
export function lakeTables(): LakeTableSpec[] {
  return [
    {
      id: 'RawTransactions', tableName: 'raw_transactions', prefix: LakePrefix.raw, format: 'parquet', partitions: HOURLY,
      description: 'Every Transaction as it was on the event log (the master dataset), written by the raw archive.',
      columns: transactionColumns(),
    },
    ...(['spend_per_card_minute', 'spend_per_customer_hour', 'alerts'] as const).map((view): LakeTableSpec => ({
      id: `Speed-${view}`, tableName: `speed_${view}`, prefix: `${LakePrefix.speed}/${view}`, format: 'json', partitions: HOURLY,
      description: `Speed layer: ${viewDescription(view)}${view === 'alerts' ? '' : ' Partial sums per batch: add them up.'}`,
      columns: viewColumns(view),
    })),
    ...VIEW_NAMES.map((view): LakeTableSpec => ({
      id: `View-${view}`, tableName: `views_${view}`, prefix: `${LakePrefix.views}/${view}`, format: 'parquet', partitions: VERSIONED,
      description: `Stream processing: ${viewDescription(view)}`,
      columns: viewColumns(view),
    })),
    {
      id: 'View-dead_letter', tableName: 'views_dead_letter', prefix: `${LakePrefix.views}/dead_letter`, format: 'parquet', partitions: VERSIONED,
      description: 'Records the stream job rejected, with the reason.',
      columns: STREAM_DEAD_LETTER_COLUMNS,
    },
    ...BATCH_VIEWS.map((view): LakeTableSpec => ({
      id: `Batch-${view}`, tableName: `batch_${view}`, prefix: `${LakePrefix.batch}/${view}`, format: 'parquet', partitions: PER_RUN,
      description: `Batch layer: ${viewDescription(view)} Recomputed from raw_transactions by each run; query the lambda_ views.`,
      columns: viewColumns(view),
    })),
    {
      id: 'SpeedDeadLetters', tableName: 'deadletter_speed', prefix: SPEED_DEAD_LETTER_PREFIX, format: 'json', partitions: HOURLY,
      description: 'Records the speed layer rejected, with the reason and the record as received.',
      columns: SPEED_DEAD_LETTER_COLUMNS,
    },
  ];
}

/**
 * Serving views: `serving_<view>` over `views_<view>` at one output version, so readers never name a
 * version and a Kappa replay switches them. One definition for the Athena views of the cloud
 * (lib/constructs/reprocessing) and the DuckDB views of the sandbox.
 */

/** The serving view's name for a versioned lake table `views_<view>`. */
export const servingViewName = (table: LakeTableSpec): string => table.tableName.replace(/^views_/, 'serving_');

/** The lake tables a serving view is made for: every table partitioned by output version. */
export const versionedTables = (tables: LakeTableSpec[]): LakeTableSpec[] =>
  tables.filter((table) => table.partitions.some((p) => p.name === VERSION_PARTITION.name));

/** The columns a serving view exposes: the table's columns, then its date and hour partitions (never the version). */
export function servingColumns(table: LakeTableSpec): { name: string; type: string }[] {
  return [
    ...table.columns.map((c) => ({ name: c.name, type: c.type })),
    ...table.partitions.filter((p) => p.name !== VERSION_PARTITION.name).map((p) => ({ name: p.name, type: 'string' })),
  ];
}

/**
 * The view's query for one version: `SELECT <columns> FROM "<db>"."views_<view>" WHERE "v" = '<version>'`,
 * without the database where the engine has none (DuckDB).
 */
export function servingViewSql(database: string | undefined, table: LakeTableSpec, version: number | string): string {
  const columns = servingColumns(table).map((c) => `"${c.name}"`).join(', ');
  const from = database === undefined ? `"${table.tableName}"` : `"${database}"."${table.tableName}"`;
  return `SELECT ${columns} FROM ${from} WHERE "${VERSION_PARTITION.name}" = '${version}'`;
}
