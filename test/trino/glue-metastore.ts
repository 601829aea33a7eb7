import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';

/**
 * The synthesized Glue catalog (every `AWS::Glue::Database` and `AWS::Glue::Table` of the
 * templates, TableInput exactly as deployed) written into a Trino file metastore, so the Hive
 * connector reads the same definitions Athena reads from Glue: columns and types, partition keys,
 * SerDe and formats, table parameters (partition projection among them), and for views the
 * `/* Presto View: <base64> *\/` text as Athena decodes it. The one thing replaced is the bucket:
 * `s3://<lake bucket>/...` becomes `local:///lake/...`, a folder Trino reads and writes.
 *
 * The file format is Trino's own (io.trino.plugin.hive.metastore.file.TableMetadata): one
 * `.trinoSchema` JSON per database and per table, the same fields Trino's Glue converter fills
 * from a Glue TableInput.
 */

export interface GlueTableInput {
  Name: string;
  TableType: 'EXTERNAL_TABLE' | 'VIRTUAL_VIEW';
  Owner?: string;
  Parameters?: Record<string, unknown>;
  PartitionKeys?: { Name: string; Type: string; Comment?: string }[];
  StorageDescriptor: {
    Columns: { Name: string; Type: string; Comment?: string }[];
    Location?: unknown;
    InputFormat?: string;
    OutputFormat?: string;
    SerdeInfo?: { SerializationLibrary?: string; Parameters?: Record<string, string> };
  };
  ViewOriginalText?: string;
  ViewExpandedText?: string;
}

export interface GlueCatalog {
  readonly database: string;
  readonly tables: GlueTableInput[];
}

/** The one Glue database of the templates and every table in it, in stack order. */
export function glueCatalog(templates: Record<string, Template>): GlueCatalog {
  const resources = Object.values(templates).flatMap((t) => Object.values(t.toJSON().Resources ?? {}) as any[]);
  const databases = resources.filter((r) => r.Type === 'AWS::Glue::Database').map((r) => r.Properties.DatabaseInput.Name as string);
  if (databases.length !== 1) throw new Error(`expected one Glue database in the templates, found ${databases.length}`);
  const tables = resources.filter((r) => r.Type === 'AWS::Glue::Table').map((r) => r.Properties.TableInput as GlueTableInput);
  return { database: databases[0], tables };
}

/** The local folder (under Trino's `local.location`) that stands for the lake bucket. */
export const LAKE_URI = 'local:///lake';
export const METASTORE_URI = 'local:///metastore';

/**
 * A value of a TableInput as deployed: a string, or `Fn::Join` over strings and the bucket's `Ref`
 * (the only reference a lake location holds), with `s3://<bucket>` replaced by {@link LAKE_URI}.
 */
function resolveValue(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`${where}: ${JSON.stringify(value)} is neither a string nor an Fn::Join`);
  const text = join[1].map((part) => {
    if (typeof part === 'string') return part;
    if (part && typeof part === 'object' && 'Ref' in part) return '<bucket>';
    throw new Error(`${where}: cannot resolve ${JSON.stringify(part)}`);
  }).join(join[0]);
  if (!text.startsWith('s3://<bucket>/')) throw new Error(`${where}: '${text}' is not in the lake bucket`);
  return text.replace('s3://<bucket>', LAKE_URI);
}

const column = (c: { Name: string; Type: string; Comment?: string }) => ({ name: c.Name, type: c.Type, ...(c.Comment ? { comment: c.Comment } : {}), properties: {} });

/** Trino's file-metastore record for one Glue TableInput. */
export function trinoTableMetadata(input: GlueTableInput, trinoVersion: string): Record<string, unknown> {
  const sd = input.StorageDescriptor;
  const parameters = Object.fromEntries(Object.entries(input.Parameters ?? {}).map(([k, v]) => [k, resolveValue(v, `${input.Name} parameter ${k}`)]));
  const view = input.TableType === 'VIRTUAL_VIEW';
  return {
    writerVersion: trinoVersion,
    ...(input.Owner !== undefined ? { owner: input.Owner } : {}),
    tableType: input.TableType,
    dataColumns: sd.Columns.map(column),
    partitionColumns: (input.PartitionKeys ?? []).map(column),
    parameters,
    originalStorageFormat: view ? {} : { serde: sd.SerdeInfo?.SerializationLibrary, inputFormat: sd.InputFormat, outputFormat: sd.OutputFormat },
    serdeParameters: sd.SerdeInfo?.Parameters ?? {},
    ...(view ? {} : { externalLocation: resolveValue(sd.Location, `${input.Name} location`) }),
    ...(input.ViewOriginalText !== undefined ? { viewOriginalText: input.ViewOriginalText } : {}),
    ...(input.ViewExpandedText !== undefined ? { viewExpandedText: input.ViewExpandedText } : {}),
    columnStatistics: {},
  };
}

/** Writes the catalog into `<root>/metastore` (the database and every table) and makes `<root>/lake`. */
export function writeFileMetastore(root: string, catalog: GlueCatalog, trinoVersion: string): void {
  const metastore = path.join(root, 'metastore');
  fs.mkdirSync(path.join(metastore, catalog.database), { recursive: true });
  fs.mkdirSync(path.join(root, 'lake'), { recursive: true });
  fs.writeFileSync(path.join(metastore, `.${catalog.database}.trinoSchema`), JSON.stringify({ writerVersion: trinoVersion, ownerName: 'tributary', ownerType: 'USER', parameters: {} }));
  for (const table of catalog.tables) {
    const dir = path.join(metastore, catalog.database, table.Name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, '.trinoSchema'), JSON.stringify(trinoTableMetadata(table, trinoVersion), null, 1));
  }
}

/** The Hive catalog `awsdatacatalog` (the catalog name Athena's views carry) over that metastore and lake. */
export function lakeCatalogProperties(root: string): Record<string, string> {
  return {
    'connector.name': 'hive',
    'hive.metastore': 'file',
    'hive.metastore.catalog.dir': METASTORE_URI,
    'fs.native-local.enabled': 'true',
    'local.location': root,
    // Athena writes into the lake's external tables (the batch layer's INSERT INTO); Trino must be told it may.
    'hive.non-managed-table-writes-enabled': 'true',
    // Athena projects a partition whose prefix holds no object as empty, not an error
    // (https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html); Trino fails the query unless told.
    'hive.ignore-absent-partitions': 'true',
  };
}
