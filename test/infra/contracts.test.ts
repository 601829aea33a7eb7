import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kinesisDecoder } from '../../lambdas/shared/kinesis';
import { processBatch } from '../../lambdas/speed-layer/core';
import { speedLayerEnvSchema } from '../../lambdas/speed-layer/env';
import { EMPTY_RULE_STATE } from '../../lambdas/speed-layer/rules';
import { ensureFlinkJar } from '../../lib/constructs/flink-application';
import { LakePrefix, SPEED_DEAD_LETTER_PREFIX } from '../../lib/lake-layout';
import { toSnakeCase } from '../../lib/schemas';
import { RUNTIME_ENVIRONMENT_KEYS } from '../../lib/stacks/speed-layer-stack';
import { flinkRuntimeClasspath } from '../../sandbox/engines/classpath';
import * as transactionSchema from '../../schemas/transaction.schema.json';
import * as views from '../../schemas/views.json';
import { onlyResource, synthProfile } from '../helpers/synth';
import { kinesisEvent, POISON, T0, txn } from '../lambdas/fixtures';

const lake = () => synthProfile('dev').templates.Lake;

/** Glue table name -> its TableInput. */
function glueTables(): Record<string, any> {
  return Object.fromEntries(Object.values(lake().findResources('AWS::Glue::Table')).map((t: any) => [t.Properties.TableInput.Name, t.Properties.TableInput]));
}
const columnsOf = (table: any) => table.StorageDescriptor.Columns.map((c: any) => ({ name: c.Name, type: c.Type }));
/** The table whose location is exactly s3://<lake>/<prefix>/. */
function tableAt(prefix: string): any {
  const matches = Object.values(glueTables()).filter((t: any) => JSON.stringify(t.StorageDescriptor.Location).endsWith(`/${prefix}/"]]}`));
  if (matches.length !== 1) throw new Error(`expected one table at ${prefix}/, found ${matches.length}`);
  return matches[0];
}

describe('schemas/transaction.schema.json is the source of truth', () => {
  const properties = Object.entries(transactionSchema.properties as Record<string, { 'x-glue-type': string }>);

  test('the raw table has one column per event property, in order, typed by x-glue-type', () => {
    expect(columnsOf(glueTables().raw_transactions)).toEqual(properties.map(([name, p]) => ({ name: toSnakeCase(name), type: p['x-glue-type'] })));
  });

  test('the archive maps every raw column to its camelCase key in the event', () => {
    const firehose = onlyResource(synthProfile('dev').templates.Archive, 'AWS::KinesisFirehose::DeliveryStream').Properties;
    const mappings = firehose.ExtendedS3DestinationConfiguration.DataFormatConversionConfiguration.InputFormatConfiguration.Deserializer.OpenXJsonSerDe.ColumnToJsonKeyMappings;
    expect(mappings).toEqual(Object.fromEntries(properties.map(([name]) => [toSnakeCase(name), name])));
  });

  test('every required property is a column: nothing the handler validates is lost by the archive', () => {
    const columns = columnsOf(glueTables().raw_transactions).map((c: any) => c.name);
    for (const required of transactionSchema.required) expect(columns).toContain(toSnakeCase(required));
  });
});

describe('schemas/views.json defines the speed tables', () => {
  test.each(['spend_per_card_minute', 'spend_per_customer_hour', 'alerts'] as const)('speed_%s has the columns of the view', (view) => {
    expect(columnsOf(glueTables()[`speed_${view}`])).toEqual(views.views[view].columns);
  });
});

describe('what the handler writes is what the tables read', () => {
  // A realistic batch: an R1 burst, ordinary spend and one poison record of each kind.
  const payloads = [
    txn({ txnId: 'r1-a', amount: 150, eventTime: T0 }),
    txn({ txnId: 'r1-b', amount: 220, eventTime: T0 + 10_000 }),
    txn({ txnId: 'r1-c', amount: 310, eventTime: T0 + 20_000 }),
    POISON.schemaViolation(1),
    POISON.badJson(2),
    txn({ txnId: 'small', amount: 12.5, eventTime: T0 + 30_000, cardId: 'card-9' }),
  ];
  const records = kinesisDecoder.decode(kinesisEvent(0, payloads));
  const result = processBatch({ records, ruleState: EMPTY_RULE_STATE, now: T0 + 60_000, layout: { speedPrefix: LakePrefix.speed, deadLetterPrefix: SPEED_DEAD_LETTER_PREFIX } });
  const objects = result.units.flatMap((unit) => unit.objects);

  test('every object lands under a table location, in a dt=/hr= partition, and every line has exactly the table columns', () => {
    const prefixes = [
      `${LakePrefix.speed}/spend_per_card_minute`,
      `${LakePrefix.speed}/spend_per_customer_hour`,
      `${LakePrefix.speed}/alerts`,
      SPEED_DEAD_LETTER_PREFIX,
    ];
    const seen = new Set<string>();
    for (const object of objects) {
      const prefix = prefixes.find((p) => object.key.startsWith(`${p}/`));
      expect(prefix).toBeDefined();
      seen.add(prefix!);
      expect(object.key.slice(prefix!.length + 1)).toMatch(/^dt=\d{4}-\d{2}-\d{2}\/hr=\d{2}\/[^/]+\.json$/);
      const columns = columnsOf(tableAt(prefix!)).map((c: any) => c.name).sort();
      for (const line of object.body.trim().split('\n')) expect(Object.keys(JSON.parse(line)).sort()).toEqual(columns);
    }
    expect([...seen].sort()).toEqual([...prefixes].sort());
  });
});

describe('the speed layer environment contract', () => {
  const variables = (profile: string) => onlyResource(synthProfile(profile).templates.SpeedLayer, 'AWS::Lambda::Function').Properties.Environment.Variables;
  // The alerts log's variables of the other kind of log are not set (docs/speed-layer.md).
  const ONLY_FOR: Record<'kinesis' | 'kafka', string[]> = {
    kinesis: ['ALERTS_STREAM_NAME'],
    kafka: ['ALERTS_KAFKA_BROKERS', 'ALERTS_KAFKA_TOPIC', 'ALERTS_KAFKA_AUTH'],
  };

  test.each([['dev', 'kinesis'], ['msk', 'kafka']] as const)('%s: the stack sets every variable the handler reads for its alerts log (%s), and only those plus the runtime\'s own', (profile, log) => {
    const other = log === 'kinesis' ? ONLY_FOR.kafka : ONLY_FOR.kinesis;
    const expected = Object.keys(speedLayerEnvSchema.shape).filter((key) => !other.includes(key));
    expect(Object.keys(variables(profile)).sort()).toEqual([...expected, ...RUNTIME_ENVIRONMENT_KEYS].sort());
    expect(variables(profile).ALERTS_LOG_TYPE).toBe(log);
  });

  test.each(['dev', 'msk'])('%s: every literal value the stack sets passes the handler\'s own validation', (profile) => {
    const literal = Object.fromEntries(Object.entries(variables(profile)).filter(([, v]) => typeof v === 'string'));
    for (const [name, value] of Object.entries(literal)) {
      const schema = (speedLayerEnvSchema.shape as Record<string, any>)[name];
      if (schema) expect([name, schema.safeParse(value).success]).toEqual([name, true]);
    }
    expect(literal.SPEED_PREFIX).toBe(LakePrefix.speed);
    expect(literal.DEAD_LETTER_PREFIX).toBe(SPEED_DEAD_LETTER_PREFIX);
  });
});

describe('the Kinesis property groups the stacks synthesize, read by the jar\'s compiled Kinesis code', () => {
  // CloudFormation resolves these at deploy; the probe gets what they resolve to.
  const REGION = 'eu-west-1';
  const STREAM_ARN = `arn:aws:kinesis:${REGION}:111122223333:stream/tributary-events`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kinesis-contract-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  /** The StreamProcessing stack's property groups, deploy-time values filled in, as Managed Flink hands them to the job. */
  function deployed(profile: string): Record<string, Record<string, string>> {
    const app = onlyResource(synthProfile(profile).templates.StreamProcessing, 'AWS::KinesisAnalyticsV2::Application').Properties;
    const groups: Record<string, Record<string, unknown>> = Object.fromEntries(
      app.ApplicationConfiguration.EnvironmentProperties.PropertyGroups.map((g: any) => [g.PropertyGroupId, g.PropertyMap]),
    );
    expect(groups.Kinesis['aws.region']).toEqual({ Ref: 'AWS::Region' });
    expect(JSON.stringify(groups.Kinesis['stream.arn'])).toMatch(/Stream.*Arn/);
    const literal = (map: Record<string, unknown>) => Object.fromEntries(Object.entries(map).map(([k, v]) => [k, typeof v === 'string' ? v : `token:${k}`]));
    const resolved = Object.fromEntries(Object.entries(groups).map(([id, map]) => [id, literal(map)]));
    resolved.Kinesis = { ...resolved.Kinesis, 'aws.region': REGION, 'stream.arn': STREAM_ARN };
    return resolved;
  }

  /** The source configuration the jar's KinesisConnectors builds from `groups` (test/infra/flink/KinesisSourceProbe.java). */
  function probe(name: string, groups: Record<string, Record<string, string>>): Record<string, string> {
    const file = path.join(work, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(Object.entries(groups).map(([id, map]) => ({ PropertyGroupId: id, PropertyMap: map }))));
    const classpath = flinkRuntimeClasspath(ensureFlinkJar().path).join(path.delimiter);
    const run = spawnSync('java', ['-cp', classpath, path.join(__dirname, 'flink', 'KinesisSourceProbe.java'), file], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`KinesisSourceProbe failed: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').pop()!);
  }

  test('dev: the polling reader on the stack\'s stream and region, from the trim horizon', () => {
    expect(probe('dev', deployed('dev'))).toEqual({
      'aws.region': REGION,
      'stream.arn': STREAM_ARN,
      'source.reader.type': 'POLLING',
      // One GetRecords a second on an idle shard, leaving the shard's 5 reads/s for the speed layer and the archive.
      'source.reader.empty-records-fetch-interval': '1 s',
      'source.init.position': 'TRIM_HORIZON',
    });
  });

  test('prod: the enhanced fan-out reader with the consumer the stack grants, from the trim horizon', () => {
    const groups = deployed('prod');
    expect(probe('prod', groups)).toEqual({
      'aws.region': REGION,
      'stream.arn': STREAM_ARN,
      'source.reader.type': 'EFO',
      'source.efo.consumer.name': groups.Kinesis['efo.consumer.name'],
      'source.init.position': 'TRIM_HORIZON',
    });
  });

  test('a Kappa replay (the state machine adds Source/start.timestamp and its own consumer): AT_TIMESTAMP, in the connector\'s format', () => {
    const groups = deployed('prod');
    const replay = { ...groups, Source: { ...groups.Source, 'start.timestamp': '2026-11-21T00:00:00Z' }, Kinesis: { ...groups.Kinesis, 'efo.consumer.name': 'tributary-stream-v2' } };
    expect(probe('replay', replay)).toMatchObject({
      'source.reader.type': 'EFO',
      'source.efo.consumer.name': 'tributary-stream-v2',
      'source.init.position': 'AT_TIMESTAMP',
      // KinesisSourceConfigOptions.STREAM_TIMESTAMP_DATE_FORMAT's default, yyyy-MM-dd'T'HH:mm:ss.SSSXXX.
      'source.init.timestamp': '2026-11-21T00:00:00.000Z',
    });
  });
});
