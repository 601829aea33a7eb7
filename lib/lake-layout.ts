/**
 * Top-level prefixes of the lake bucket. Each layer writes only under its own
 * prefix; the Glue tables, the handlers' environment and the IAM grants are all
 * built from these names, so they cannot drift apart.
 */
export const LakePrefix = {
  /** The master dataset: every event as it was on the log, Parquet, by event date and hour. */
  raw: 'raw',
  /** Speed-layer results: partial aggregates and alerts, NDJSON. */
  speed: 'speed',
  /** Stream-processing and reprocessing results, Parquet, versioned `v=<n>`. */
  views: 'views',
  /** Batch-layer results, recomputed from raw/ on a schedule, Parquet, one folder per run `run=<id>`. */
  batch: 'batch',
  /** Reference tables the jobs join with, such as card profiles. */
  reference: 'reference',
  /** Records a path could not process, each with its reason. */
  deadLetter: 'deadletter',
  /** Records the raw archive could not convert or partition, as Firehose writes them. */
  archiveErrors: 'errors/raw',
} as const;

/** The speed layer's own dead-letter prefix. */
export const SPEED_DEAD_LETTER_PREFIX = `${LakePrefix.deadLetter}/speed`;

/** The card-profile reference table the stream job joins into enriched_transactions (NDJSON or CSV). */
export const CARD_PROFILES_PREFIX = `${LakePrefix.reference}/card_profiles`;
