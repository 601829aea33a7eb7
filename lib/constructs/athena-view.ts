import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';

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

export interface AthenaViewProps {
  /** The Glue database's literal name: it is written into the view's definition. */
  readonly databaseName: string;
  /** The view's name. */
  readonly viewName: string;
  readonly description: string;
  /** The view's query, as `CREATE VIEW <name> AS <sql>` would take it. */
  readonly sql: string;
  /** The columns the query returns, in order, with their Glue (Hive) types. */
  readonly columns: { name: string; type: string }[];
}

/**
 * The owner a deployed view runs as. Athena's engine (Trino) runs a view that is not run-as-invoker
 * (SECURITY DEFINER, its default) as its owner, taken from the Glue table's `Owner` or the definition's
 * `owner`, and refuses one with neither: "Run-as identity must be set for a run-as definer view". Athena
 * writes `hadoop` as the owner of what its DDL creates in the Glue catalog; Athena authorizes every
 * query with the caller's IAM permissions all the same, so the name grants nothing.
 */
export const VIEW_OWNER = 'hadoop';

/**
 * An Athena view as the Glue table Athena itself writes for `CREATE VIEW`:
 * `TableType` `VIRTUAL_VIEW`, its `Owner`, the `presto_view` and `comment`
 * parameters, the definition (SQL, catalog, schema, Trino-typed columns,
 * owner, not run-as-invoker) base64-encoded in `ViewOriginalText` as
 * `/* Presto View: ... *\/`, and the columns with their Hive types in the
 * storage descriptor. A `CREATE OR REPLACE VIEW` of the same name replaces it
 * in place, in one catalog update.
 */
export class AthenaView extends Construct {
  public readonly table: glue.CfnTable;
  public readonly viewName: string;

  constructor(scope: Construct, id: string, props: AthenaViewProps) {
    super(scope, id);
    this.viewName = props.viewName;
    const definition = {
      originalSql: props.sql,
      catalog: 'awsdatacatalog',
      schema: props.databaseName,
      columns: props.columns.map((c) => ({ name: c.name, type: prestoType(c.type) })),
      owner: VIEW_OWNER,
      runAsInvoker: false,
    };
    this.table = new glue.CfnTable(this, 'View', {
      catalogId: Stack.of(this).account,
      databaseName: props.databaseName,
      tableInput: {
        name: props.viewName,
        description: props.description,
        owner: VIEW_OWNER,
        tableType: 'VIRTUAL_VIEW',
        parameters: { presto_view: 'true', comment: 'Presto View' },
        viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(definition)).toString('base64')} */`,
        viewExpandedText: '/* Presto View */',
        partitionKeys: [],
        storageDescriptor: {
          columns: props.columns.map((c) => ({ name: c.name, type: c.type })),
          serdeInfo: {},
        },
      },
    });
  }
}
