import { awsRule, resourcesOfType } from './aws-rule';

// How an Athena (engine v3, Trino) view is stored in the Glue Data Catalog, as the serving and batch
// layers deploy their views. Trino reads a Glue VIRTUAL_VIEW as one of its views only with
// presto_view=true and comment "Presto View", decodes the base64 JSON of `/* Presto View: ... */`, and
// runs a view that is not run-as-invoker as its owner: the Glue table's Owner (or the definition's
// `owner`), refusing one with neither ("Run-as identity must be set for a run-as definer view").

const PRESTO_VIEW = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/;

function views(synth: Parameters<Parameters<typeof awsRule>[0]['check']>[0]) {
  return resourcesOfType(synth, 'AWS::Glue::Table').filter(({ Properties }) => Properties.TableInput.TableType === 'VIRTUAL_VIEW');
}

awsRule({
  rule: 'An Athena view is a Glue VIRTUAL_VIEW table with parameters presto_view=true and comment "Presto View", its definition (originalSql, catalog, schema, non-empty Trino-typed columns) base64-encoded JSON in ViewOriginalText as /* Presto View: ... */',
  source: 'https://docs.aws.amazon.com/athena/latest/ug/views.html',
  check: (synth) => {
    for (const { Properties } of views(synth)) {
      const input = Properties.TableInput;
      expect(input.Parameters).toMatchObject({ presto_view: 'true', comment: 'Presto View' });
      const encoded = PRESTO_VIEW.exec(input.ViewOriginalText);
      expect(encoded).not.toBeNull();
      const definition = JSON.parse(Buffer.from(encoded![1], 'base64').toString('utf8'));
      expect(typeof definition.originalSql).toBe('string');
      expect(definition.catalog).toBe('awsdatacatalog');
      expect(definition.schema).toBe(input.DatabaseName ?? Properties.DatabaseName);
      expect(definition.columns.length).toBeGreaterThan(0);
      expect(definition.columns.map((c: { name: string }) => c.name)).toEqual(input.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name));
    }
  },
});

awsRule({
  rule: 'A Trino view that is not run-as-invoker (SECURITY DEFINER, the default) runs as its owner, so it must carry one (the Glue table Owner, or the definition owner), and a run-as-invoker view must carry none',
  source: 'https://trino.io/docs/current/sql/create-view.html',
  check: (synth) => {
    for (const { Properties } of views(synth)) {
      const input = Properties.TableInput;
      const definition = JSON.parse(Buffer.from(PRESTO_VIEW.exec(input.ViewOriginalText)![1], 'base64').toString('utf8'));
      const runAsInvoker = definition.runAsInvoker === true;
      const owner = input.Owner ?? definition.owner;
      expect({ view: input.Name, runAsInvoker, hasOwner: Boolean(owner) }).toEqual({ view: input.Name, runAsInvoker, hasOwner: !runAsInvoker });
      if (!runAsInvoker && definition.owner !== undefined) expect(definition.owner).toBe(input.Owner);
    }
  },
});
