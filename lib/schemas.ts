import * as transactionSchema from '../schemas/transaction.schema.json';
import * as viewsFile from '../schemas/views.json';

/** A Glue (Hive) column. */
export interface GlueColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

/** A raw-table column and the event's JSON key it is read from. */
export interface EventColumn extends GlueColumn {
  readonly jsonKey: string;
}

/** `eventTime` -> `event_time`: the lake's columns are snake_case, like Athena's and DuckDB's conventions. */
export const toSnakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

interface SchemaProperty {
  readonly description?: string;
  readonly 'x-glue-type'?: string;
}

/**
 * The raw table's columns, derived from the event schema: each property in the
 * schema's order, snake_cased, typed by its `x-glue-type`. A property without
 * one is a schema bug.
 */
export function transactionColumns(): EventColumn[] {
  const properties = transactionSchema.properties as Record<string, SchemaProperty>;
  return Object.entries(properties).map(([name, property]) => {
    const type = property['x-glue-type'];
    if (!type) throw new Error(`schemas/transaction.schema.json: property '${name}' has no x-glue-type.`);
    return { name: toSnakeCase(name), jsonKey: name, type, comment: property.description };
  });
}

/** The names of the result views declared in schemas/views.json. */
export type ViewName = keyof typeof viewsFile.views;

/** Every view declared in schemas/views.json, in the file's order. */
export const VIEW_NAMES = Object.keys(viewsFile.views) as ViewName[];

/** The columns of one result view, from schemas/views.json. */
export function viewColumns(view: ViewName): GlueColumn[] {
  return viewsFile.views[view].columns.map((column) => ({ name: column.name, type: column.type }));
}

/** The description of one result view, from schemas/views.json. */
export function viewDescription(view: ViewName): string {
  return viewsFile.views[view].description;
}
