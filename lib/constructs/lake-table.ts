import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DATE_PARTITION, HOUR_PARTITION, type LakeFormat, type ProjectedPartition } from '../lake-catalog';
import type { GlueColumn } from '../schemas';

export interface LakeTableProps {
  readonly database: glue.CfnDatabase;
  readonly bucket: s3.IBucket;
  readonly tableName: string;
  readonly description: string;
  /** Key prefix of the table's data, without a leading or trailing slash. */
  readonly prefix: string;
  readonly columns: GlueColumn[];
  readonly format: LakeFormat;
  /** Projected partition keys, outermost first. @default - dt and hr */
  readonly partitions?: ProjectedPartition[];
}

const FORMATS: Record<LakeFormat, { input: string; output: string; serde: string; serdeParameters: Record<string, string> }> = {
  parquet: {
    input: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    output: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    serdeParameters: { 'serialization.format': '1' },
  },
  json: {
    input: 'org.apache.hadoop.mapred.TextInputFormat',
    output: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
    serde: 'org.openx.data.jsonserde.JsonSerDe',
    // A bad line fails the query loudly rather than reading as nulls.
    serdeParameters: { 'ignore.malformed.json': 'false', 'case.insensitive': 'true' },
  },
};

/**
 * A Glue table over one prefix of the lake, with Athena partition projection so
 * that no crawler or `MSCK REPAIR` is ever needed. Projection keys belong in the
 * table's parameters: Athena ignores them in the storage descriptor.
 */
export class LakeTable extends Construct {
  public readonly table: glue.CfnTable;
  public readonly tableName: string;
  public readonly databaseName: string;
  /** `s3://bucket/prefix/` */
  public readonly location: string;

  constructor(scope: Construct, id: string, props: LakeTableProps) {
    super(scope, id);
    if (props.prefix.startsWith('/') || props.prefix.endsWith('/')) {
      throw new Error(`LakeTable ${props.tableName}: prefix '${props.prefix}' must not start or end with '/'.`);
    }
    const partitions = props.partitions ?? [DATE_PARTITION, HOUR_PARTITION];
    const format = FORMATS[props.format];
    this.location = `s3://${props.bucket.bucketName}/${props.prefix}/`;
    const template = this.location + partitions.map((p) => `${p.name}=\${${p.name}}/`).join('');
    const projection: Record<string, string> = { 'projection.enabled': 'true', 'storage.location.template': template };
    for (const partition of partitions) {
      for (const [key, value] of Object.entries(partition.projection)) projection[`projection.${partition.name}.${key}`] = value;
    }
    this.tableName = props.tableName;
    this.databaseName = props.database.ref;
    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: Stack.of(this).account,
      databaseName: props.database.ref,
      tableInput: {
        name: props.tableName,
        description: props.description,
        tableType: 'EXTERNAL_TABLE',
        parameters: { classification: props.format, EXTERNAL: 'TRUE', ...projection },
        partitionKeys: partitions.map((p) => ({ name: p.name, type: 'string' })),
        storageDescriptor: {
          location: this.location,
          columns: props.columns.map((c) => ({ name: c.name, type: c.type, comment: c.comment })),
          inputFormat: format.input,
          outputFormat: format.output,
          serdeInfo: { serializationLibrary: format.serde, parameters: format.serdeParameters },
          compressed: props.format === 'parquet',
          storedAsSubDirectories: false,
        },
      },
    });
  }
}
