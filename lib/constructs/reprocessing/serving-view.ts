import type { Construct } from 'constructs';
import { AthenaView, prestoType } from '../athena-view';
import { type LakeTableSpec, servingColumns, servingViewName, servingViewSql, versionedTables } from '../../lake-catalog';

export { prestoType, servingColumns, servingViewName, servingViewSql, versionedTables };

/**
 * Serving views: one Athena view per stream view, `serving_<view>`, that
 * selects the view's columns from `views_<view>` for one output version
 * `v`. Readers query the serving view and never name a version; a Kappa
 * replay re-points it with `CREATE OR REPLACE VIEW`, which replaces the
 * Glue table in one call, so a query sees either version whole.
 */

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
 * The serving view of one versioned table, deployed at one version: an
 * {@link AthenaView} whose query is {@link servingViewSql}.
 */
export class ServingView extends AthenaView {
  constructor(scope: Construct, id: string, props: ServingViewProps) {
    super(scope, id, {
      databaseName: props.databaseName,
      viewName: servingViewName(props.table),
      description: `Serving view of ${props.table.tableName}: the version readers see (switched by the Kappa replay)`,
      sql: servingViewSql(props.databaseName, props.table, props.version),
      columns: servingColumns(props.table),
    });
  }
}
