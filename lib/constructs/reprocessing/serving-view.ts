import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import { type LakeTableSpec, servingColumns, servingViewName, servingViewSql, versionedTables } from '../../lake-catalog';

export { servingColumns, servingViewName, servingViewSql, versionedTables };

/**
 * Serving views: one Athena view per stream view, `serving_<view>`, that
 * selects the view's columns from `views_<view>` for one output version
 * `v`. Readers query the serving view and never name a version; a Kappa
 * replay re-points it with `CREATE OR REPLACE VIEW`, which replaces the
 * Glue table in one call, so a query sees either version whole.
 */

/** A Hive (Glue) type as Athena's engine (Trino) names it in a view's definition. */
export function prestoType(hiveType: string): string {
  const type = hiveType.trim();
  const inner = (open: string) => type.slice(open.length, -1);
  if (type.startsWith('array<')) return `array(${prestoType(inner('array<'))})`;
  if (type.startsWith('map<')) {
    const [key, ...value] = splitTopLevel(inner('map<'));
    return `map(${prestoType(key)}, ${prestoType(value.join(','))})`;
  }
  if (type.startsWith('struct<')) {
    return `row(${splitTopLevel(inner('struct<')).map((field) => {
      const colon = field.indexOf(':');
      return `${field.slice(0, colon).trim()} ${prestoType(field.slice(colon + 1))}`;
    }).join(', ')})`;
  }
  const simple: Record<string, string> = { string: 'varchar', int: 'integer', tinyint: 'tinyint', smallint: 'smallint', bigint: 'bigint', float: 'real', double: 'double', boolean: 'boolean', date: 'date', timestamp: 'timestamp', binary: 'varbinary' };
  if (simple[type]) return simple[type];
  if (/^decimal\(\d+,\s*\d+\)$/.test(type) || /^(var)?char\(\d+\)$/.test(type)) return type.replace(/\s+/g, '');
  throw new Error(`No Athena view type for the Glue type '${hiveType}'.`);
}

/** Splits `a:int,b:struct<c:int,d:string>` at the commas outside angle brackets. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '<' || text[i] === '(') depth++;
    else if (text[i] === '>' || text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Where the version goes in {@link servingViewSql}'s text. */
export const VERSION_PLACEHOLDER = '{{version}}';

/** The statement a replay runs to point the view at a version. */
export function replaceServingViewSql(database: string, table: LakeTableSpec, version: number | string): string {
  return `CREATE OR REPLACE VIEW "${database}"."${servingViewName(table)}" AS ${servingViewSql(database, table, version)}`;
}

export interface ServingViewProps {
  /** The Glue database's literal name: it is written into the view's definition. */
  readonly databaseName: string;
  /** The versioned lake table the view reads. */
  readonly table: LakeTableSpec;
  /** The version the view serves when deployed. */
  readonly version: number;
}

/**
 * An Athena view as the Glue table Athena itself writes for `CREATE VIEW`:
 * `TableType` `VIRTUAL_VIEW`, the `presto_view` parameter, the definition
 * (SQL, catalog, schema and Trino-typed columns) base64-encoded in
 * `ViewOriginalText` as `/* Presto View: ... *\/`, and the columns with their
 * Hive types in the storage descriptor.
 */
export class ServingView extends Construct {
  public readonly table: glue.CfnTable;
  public readonly viewName: string;

  constructor(scope: Construct, id: string, props: ServingViewProps) {
    super(scope, id);
    this.viewName = servingViewName(props.table);
    const columns = servingColumns(props.table);
    const definition = {
      originalSql: servingViewSql(props.databaseName, props.table, props.version),
      catalog: 'awsdatacatalog',
      schema: props.databaseName,
      columns: columns.map((c) => ({ name: c.name, type: prestoType(c.type) })),
    };
    this.table = new glue.CfnTable(this, 'View', {
      catalogId: Stack.of(this).account,
      databaseName: props.databaseName,
      tableInput: {
        name: this.viewName,
        description: `Serving view of ${props.table.tableName}: the version readers see (switched by the Kappa replay)`,
        tableType: 'VIRTUAL_VIEW',
        parameters: { presto_view: 'true', comment: 'Presto View' },
        viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(definition)).toString('base64')} */`,
        viewExpandedText: '/* Presto View */',
        partitionKeys: [],
        storageDescriptor: {
          columns: columns.map((c) => ({ name: c.name, type: c.type })),
          serdeInfo: {},
        },
      },
    });
  }
}
