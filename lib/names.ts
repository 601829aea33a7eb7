/**
 * Names and facts that the CDK app (lib/) and the sandbox (sandbox/) must agree on, in one module
 * free of CDK so both import it: the resources' names built from the platform's name, and how the
 * event source mappings handle a failing batch. The lake's layout is lib/lake-layout.ts, also free
 * of CDK and imported by both.
 */

/** A Glue/Athena identifier from a platform name: lower case, anything else an underscore (`my-app` -> `my_app`). */
export const glueName = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '_');

/** The raw archive's table: the master dataset, in the lake database. */
export const RAW_TABLE = 'raw_transactions';

/** The names of a platform called `name` (the config's `name`, e.g. `tributary` or `tributary-dev`). */
export function platformNames(name: string) {
  return {
    /** The Glue database of the lake's tables (Glue lower-cases names; `-` is not allowed unquoted in Athena). */
    lakeDatabase: `${glueName(name)}_lake`,
    /** The Firehose stream of the raw archive, also the prefix of the objects it writes. */
    rawArchive: `${name}-raw-archive`,
    /** The event log: the Kinesis stream or the MSK cluster. */
    eventLog: `${name}-events`,
    /** The alerts log's Kinesis stream. */
    alertsLog: `${name}-alerts-log`,
    /** The Flink application writing output version `version` (its EFO consumer has the same name). */
    streamApplication: (version: number) => `${name}-stream-v${version}`,
  };
}

/**
 * How every event source mapping handles a failing batch, deployed (Lambda's event source mappings) and in
 * the sandbox's stand-in alike: split the batch to isolate a bad record, and let the handler report the
 * records to retry. BisectBatchOnFunctionError applies to every stream source, MSK included:
 * https://docs.aws.amazon.com/cli/v1/reference/lambda/create-event-source-mapping.html
 */
export const EVENT_SOURCE_FAILURE_HANDLING = { bisectBatchOnError: true, reportBatchItemFailures: true } as const;
