import { Match } from 'aws-cdk-lib/assertions';
import { LakePrefix, SPEED_DEAD_LETTER_PREFIX } from '../../lib/lake-layout';
import { onlyResource, synthProfile } from '../helpers/synth';

const dev = () => synthProfile('dev');
const prod = () => synthProfile('prod');

/** Every statement of every IAM policy attached to a role whose logical id starts with `rolePrefix`. */
function statementsOf(template: ReturnType<typeof dev>['templates'][string], rolePrefix: string): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy: any) => policy.Properties.Roles.some((role: any) => role.Ref?.startsWith(rolePrefix)))
    .flatMap((policy: any) => policy.Properties.PolicyDocument.Statement);
}
const actionsOf = (statement: any): string[] => [statement.Action].flat();

describe('encryption at rest and in transit', () => {
  test('the event log is encrypted with a customer-managed, rotating key', () => {
    const t = dev().templates.EventLog;
    t.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventLogKey'), 'Arn'] } },
    });
    t.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('every bucket blocks public access, requires TLS and is encrypted', () => {
    const t = dev().templates.Lake;
    const buckets = t.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(3);
    t.allResourcesProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.anyValue() })] },
    });
    const policies = Object.values(t.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(3);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  test('the lake and query results use SSE-KMS with the lake key; access logs (which S3 can only deliver to SSE-S3) use SSE-S3', () => {
    const buckets = Object.values(dev().templates.Lake.findResources('AWS::S3::Bucket'));
    const algorithms = buckets.map((b: any) => b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).sort();
    expect(algorithms).toEqual(['AES256', 'aws:kms', 'aws:kms']);
  });

  test('the failed-batches queues and the alerts topic are KMS-encrypted and TLS-only', () => {
    for (const t of [dev().templates.SpeedLayer, dev().templates.Alerts]) {
      t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } });
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
    const alerts = dev().templates.Alerts;
    alerts.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'tributary-dev-alerts', KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } });
    alerts.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    // The speed layer no longer publishes: the topic moved to the alert notifier.
    dev().templates.SpeedLayer.resourceCountIs('AWS::SNS::Topic', 0);
  });

  test('the archive writes with the lake key and Athena results are SSE-KMS', () => {
    const firehose = onlyResource(dev().templates.Archive, 'AWS::KinesisFirehose::DeliveryStream').Properties;
    expect(firehose.ExtendedS3DestinationConfiguration.EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN).toEqual(
      expect.objectContaining({ 'Fn::GetStackOutput': expect.objectContaining({ OutputName: expect.stringMatching(/Key/) }) }),
    );
    dev().templates.Serving.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: { ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() } } },
    });
  });
});

describe('event log', () => {
  test('dev: on-demand, 7 days of retention', () => {
    dev().templates.EventLog.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      RetentionPeriodHours: 168,
      ShardCount: Match.absent(),
    });
  });

  test('prod: provisioned with 4 shards, 30 days of retention, an enhanced fan-out consumer for the speed layer', () => {
    const t = prod().templates.EventLog;
    t.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'PROVISIONED' }, ShardCount: 4, RetentionPeriodHours: 720 });
    t.resourceCountIs('AWS::Kinesis::StreamConsumer', 1);
  });

  test('retention outside 24 h to 365 days is refused by the construct itself', () => {
    expect(() => synthProfile('dev', { 'eventLog.kinesis.retentionHours': '12' })).toThrow('eventLog.kinesis.retentionHours = 12: must be >= 24');
  });
});

describe('speed layer', () => {
  // Distinct values for each setting, so two swapped properties cannot pass.
  const tuned = () =>
    synthProfile('dev', {
      'speedLayer.batchSize': '321',
      'speedLayer.maxBatchingWindowSeconds': '7',
      'speedLayer.parallelizationFactor': '3',
      'speedLayer.retryAttempts': '4',
      'speedLayer.maxRecordAgeSeconds': '5555',
      'speedLayer.tumblingWindowSeconds': '120',
      'speedLayer.startingPosition': 'LATEST',
    });

  test('the event source mapping carries every setting from the configuration, each in its own place', () => {
    const mapping = onlyResource(tuned().templates.SpeedLayer, 'AWS::Lambda::EventSourceMapping').Properties;
    expect(mapping).toMatchObject({
      BatchSize: 321,
      MaximumBatchingWindowInSeconds: 7,
      ParallelizationFactor: 3,
      MaximumRetryAttempts: 4,
      MaximumRecordAgeInSeconds: 5555,
      TumblingWindowInSeconds: 120,
      StartingPosition: 'LATEST',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(mapping.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FailedBatches/), 'Arn'] });
  });

  test('a tumbling window of 0 turns the window off', () => {
    const mapping = onlyResource(synthProfile('dev', { 'speedLayer.tumblingWindowSeconds': '0' }).templates.SpeedLayer, 'AWS::Lambda::EventSourceMapping').Properties;
    expect(mapping.TumblingWindowInSeconds).toBeUndefined();
  });

  test('prod reads through the enhanced fan-out consumer, dev polls the stream', () => {
    const prodMapping = onlyResource(prod().templates.SpeedLayer, 'AWS::Lambda::EventSourceMapping').Properties;
    expect(JSON.stringify(prodMapping.EventSourceArn)).toMatch(/SpeedLayerConsumer/);
    const devMapping = onlyResource(dev().templates.SpeedLayer, 'AWS::Lambda::EventSourceMapping').Properties;
    expect(JSON.stringify(devMapping.EventSourceArn)).toMatch(/EventLogStream/);
  });

  test('the handler runs Node.js 22 on ARM64 with tracing, bundled with source maps', () => {
    dev().templates.SpeedLayer.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
    });
  });

  test('the handler may only put objects under speed/ and deadletter/speed/, and uses no managed policy', () => {
    const t = dev().templates.SpeedLayer;
    const s3 = statementsOf(t, 'HandlerRole').filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    expect([...new Set(s3.flatMap(actionsOf))]).toEqual(['s3:PutObject']);
    const resources = JSON.stringify(s3.map((s) => s.Resource));
    expect(resources).toContain(`/${LakePrefix.speed}/*`);
    expect(resources).toContain(`/${SPEED_DEAD_LETTER_PREFIX}/*`);
    t.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: Match.anyValue(), ManagedPolicyArns: Match.absent() });
  });
});

describe('raw archive', () => {
  const firehose = () => onlyResource(dev().templates.Archive, 'AWS::KinesisFirehose::DeliveryStream').Properties;

  test('reads the event log and writes Parquet to raw/ by event date and hour', () => {
    const props = firehose();
    expect(props.DeliveryStreamType).toBe('KinesisStreamAsSource');
    const s3 = props.ExtendedS3DestinationConfiguration;
    expect(s3.Prefix).toBe('raw/dt=!{partitionKeyFromQuery:dt}/hr=!{partitionKeyFromQuery:hr}/');
    expect(s3.ErrorOutputPrefix).toMatch(/^errors\/raw\/!\{firehose:error-output-type\}\//);
    expect(s3.DynamicPartitioningConfiguration.Enabled).toBe(true);
    expect(s3.ProcessingConfiguration.Processors[0].Type).toBe('MetadataExtraction');
    expect(s3.DataFormatConversionConfiguration.OutputFormatConfiguration.Serializer.ParquetSerDe).toBeDefined();
    expect(s3.DataFormatConversionConfiguration.SchemaConfiguration.TableName).toBe('raw_transactions');
    expect(s3.CompressionFormat).toBe('UNCOMPRESSED');
  });

  test('buffering hints come from the configuration', () => {
    const hints = onlyResource(synthProfile('dev', { 'archive.bufferingIntervalSeconds': '120', 'archive.bufferingSizeMiB': '100' }).templates.Archive,
      'AWS::KinesisFirehose::DeliveryStream').Properties.ExtendedS3DestinationConfiguration.BufferingHints;
    expect(hints).toEqual({ IntervalInSeconds: 120, SizeInMBs: 100 });
  });

  test('its role can write raw/ and errors/raw/ only, and delete nothing', () => {
    const statements = statementsOf(dev().templates.Archive, 'Role');
    const s3Actions = statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:'));
    expect(s3Actions.some((a) => /Delete|\*/.test(a))).toBe(false);
    const objectWrites = statements.filter((s) => actionsOf(s).includes('s3:PutObject'));
    const resources = JSON.stringify(objectWrites.map((s) => s.Resource));
    expect(resources).toContain('/raw/*"');
    expect(resources).toContain('/errors/raw/*"');
    expect(resources.match(/\/\*"/g)).toHaveLength(2);
  });
});

describe('serving layer', () => {
  test('every lake table declares partition projection in the table parameters, not in the storage descriptor', () => {
    const tables = Object.values(dev().templates.Lake.findResources('AWS::Glue::Table'));
    expect(tables.length).toBeGreaterThanOrEqual(5);
    for (const table of tables) {
      const input = (table as any).Properties.TableInput;
      const keys = input.PartitionKeys.map((k: any) => k.Name);
      // Stream views are versioned (v=<n>) for Kappa replays; batch views are per run (run=<id>) and day, as one
      // Athena INSERT writes at most 100 partitions; everything else is by date and hour.
      const expected = input.Name.startsWith('views_') ? ['v', 'dt', 'hr'] : input.Name.startsWith('batch_') ? ['run', 'dt'] : ['dt', 'hr'];
      expect(keys).toEqual(expected);
      expect(input.Parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        ...(keys.includes('hr') ? { 'projection.hr.type': 'integer' } : {}),
        ...(keys.includes('run') ? { 'projection.run.type': 'injected' } : {}),
        'storage.location.template': expect.anything(),
      });
      expect(JSON.stringify(input.StorageDescriptor)).not.toContain('projection.');
    }
  });

  test('the workgroup enforces its configuration, engine v3, and the scan cutoff from the configuration', () => {
    const { templates, config } = dev();
    templates.Serving.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        BytesScannedCutoffPerQuery: config.serving.bytesScannedCutoffPerQueryMiB * 1024 * 1024,
        PublishCloudWatchMetricsEnabled: true,
      },
    });
  });

  test('each reference query is saved in the workgroup', () => {
    const queries = Object.values(dev().templates.Serving.findResources('AWS::Athena::NamedQuery'));
    expect(queries.length).toBeGreaterThanOrEqual(5);
    for (const query of queries) expect((query as any).Properties.WorkGroup).toEqual({ Ref: expect.stringMatching(/^WorkGroup/) });
  });
});

describe('data removal', () => {
  test('dev deletes its buckets with the stack; prod retains them', () => {
    for (const [synthesized, policy] of [[dev(), 'Delete'], [prod(), 'Retain']] as const) {
      const buckets = Object.values(synthesized.templates.Lake.findResources('AWS::S3::Bucket'));
      expect(buckets.map((b: any) => b.DeletionPolicy)).toEqual(buckets.map(() => policy));
    }
  });
});

describe('observability', () => {
  test('both profiles get the dashboard; dev creates no alarms', () => {
    for (const synthesized of [dev(), prod()]) synthesized.templates.Observability.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    dev().templates.Observability.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  test('prod alarms on reader lag, speed-layer age, failed batches, dead letters, Flink lag and downtime, archive freshness and failed batch runs, each notifying the encrypted topic', () => {
    const t = prod().templates.Observability;
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties);
    expect(alarms.map((a) => a.MetricName).sort()).toEqual([
      // The speed layer's and the alert notifier's failed-batches queues, iterator ages; the notifier's errors.
      'ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesVisible', 'DeliveryToS3.DataFreshness', 'Errors', 'ExecutionsFailed',
      'GetRecords.IteratorAgeMilliseconds', 'IteratorAge', 'IteratorAge', 'RecordsDeadLettered', 'downtime', 'millisBehindLatest',
    ]);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
      expect(alarm.AlarmDescription.length).toBeGreaterThan(40);
    }
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  test('the dead-letter alarm watches the metric the handler emits, where Powertools puts it', () => {
    const alarm = Object.values(prod().templates.Observability.findResources('AWS::CloudWatch::Alarm'))
      .map((a: any) => a.Properties).find((a) => a.MetricName === 'RecordsDeadLettered');
    const env = onlyResource(prod().templates.SpeedLayer, 'AWS::Lambda::Function').Properties.Environment.Variables;
    expect(alarm.Namespace).toBe(env.POWERTOOLS_METRICS_NAMESPACE);
    expect(alarm.Dimensions).toEqual([{ Name: 'service', Value: env.POWERTOOLS_SERVICE_NAME }]);
  });
});

describe('alerts log and alert notifier', () => {
  const msk = () => synthProfile('msk');
  const streams = (t: ReturnType<typeof dev>['templates'][string]) => Object.entries(t.findResources('AWS::Kinesis::Stream')).map(([id, r]: [string, any]) => ({ id, ...r.Properties }));
  const alertsStream = (synth = dev()) => streams(synth.templates.EventLog).find((s) => s.Name === `${synth.config.name}-alerts-log`)!;
  const notifierMapping = (synth = dev()) => onlyResource(synth.templates.Alerts, 'AWS::Lambda::EventSourceMapping').Properties;

  test('Kinesis: a second stream, provisioned, with its own rotating key and the configured retention', () => {
    const stream = alertsStream();
    expect(stream).toMatchObject({ StreamModeDetails: { StreamMode: 'PROVISIONED' }, ShardCount: 1, RetentionPeriodHours: 24 });
    expect(stream.StreamEncryption).toEqual({ EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [expect.stringMatching(/^EventLogAlertsKey/), 'Arn'] } });
    expect(alertsStream(prod()).RetentionPeriodHours).toBe(168);
    expect(alertsStream(synthProfile('dev', { 'alerts.shardCount': '3', 'alerts.retentionHours': '48' }))).toMatchObject({ ShardCount: 3, RetentionPeriodHours: 48 });
  });

  test('a Kafka alerts topic may keep less than a day (a Kinesis stream may not: test/config/config.test.ts)', () => {
    const topics = Object.values(synthProfile('msk-serverless').templates.EventLog.findResources('Custom::MskTopic')).map((r: any) => r.Properties);
    expect(topics.find((t) => t.TopicName === 'alerts').Configs).toBe(JSON.stringify({ 'retention.ms': String(12 * 3600_000) }));
  });

  test('MSK: a second topic on the cluster, created like the events topic, with its own partitions and retention.ms', () => {
    const topics = Object.values(msk().templates.EventLog.findResources('AWS::MSK::Topic')).map((r: any) => r.Properties);
    const alerts = topics.find((t) => t.TopicName === 'alerts');
    expect(alerts).toMatchObject({ PartitionCount: 3, ReplicationFactor: 3 });
    expect(JSON.parse(Buffer.from(alerts.Configs, 'base64').toString())).toEqual({ 'retention.ms': String(24 * 3600_000) });
  });

  test('the speed layer writes its alerts to the alerts log (PutRecord(s) on that stream and GenerateDataKey on its key only) and no longer publishes to SNS', () => {
    const t = dev().templates.SpeedLayer;
    const env = onlyResource(t, 'AWS::Lambda::Function').Properties.Environment.Variables;
    expect(env).toMatchObject({ ALERTS_LOG_TYPE: 'kinesis', ALERTS_STREAM_NAME: expect.anything() });
    expect(JSON.stringify(env.ALERTS_STREAM_NAME)).toMatch(/EventLogAlertsStream/);
    expect(env.ALERTS_TOPIC_ARN).toBeUndefined();
    const statements = statementsOf(t, 'HandlerRole');
    expect(statements.flatMap(actionsOf)).not.toContain('sns:Publish');
    const kinesisWrites = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kinesis:Put')));
    expect(kinesisWrites).toHaveLength(1);
    expect(actionsOf(kinesisWrites[0]).sort()).toEqual(['kinesis:PutRecord', 'kinesis:PutRecords']);
    expect(JSON.stringify(kinesisWrites[0].Resource)).toMatch(/EventLogAlertsStream/);
    const kms = statements.filter((s) => JSON.stringify(s.Resource).includes('EventLogAlertsKey'));
    expect(kms.flatMap(actionsOf)).toEqual(['kms:GenerateDataKey']);
  });

  test('MSK: the speed layer gets the brokers, the alerts topic and IAM auth, and may write that topic', () => {
    const env = onlyResource(msk().templates.SpeedLayer, 'AWS::Lambda::Function').Properties.Environment.Variables;
    expect(env).toMatchObject({ ALERTS_LOG_TYPE: 'kafka', ALERTS_KAFKA_TOPIC: 'alerts', ALERTS_KAFKA_AUTH: 'iam' });
    expect(JSON.stringify(env.ALERTS_KAFKA_BROKERS)).toMatch(/BootstrapBrokerStringSaslIam/);
    const writes = statementsOf(msk().templates.SpeedLayer, 'HandlerRole').filter((s) => actionsOf(s).includes('kafka-cluster:WriteData'));
    expect(writes).toHaveLength(1);
    expect(JSON.stringify(writes[0].Resource)).toMatch(/:topic\/tributary-msk-events\/\*\/alerts"/);
  });

  test('the notifier\'s event source: the alerts stream from the trim horizon, with the speed layer\'s failure handling and the configured settings', () => {
    const tuned = synthProfile('dev', {
      'alerts.notifier.batchSize': '37', 'alerts.notifier.maxBatchingWindowSeconds': '2', 'alerts.notifier.parallelizationFactor': '4',
      'alerts.notifier.retryAttempts': '6', 'alerts.notifier.maxRecordAgeSeconds': '4321',
    });
    const mapping = notifierMapping(tuned);
    expect(mapping).toMatchObject({
      BatchSize: 37, MaximumBatchingWindowInSeconds: 2, ParallelizationFactor: 4, MaximumRetryAttempts: 6, MaximumRecordAgeInSeconds: 4321,
      StartingPosition: 'TRIM_HORIZON', BisectBatchOnFunctionError: true, FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(JSON.stringify(mapping.EventSourceArn)).toMatch(/EventLogAlertsStream/);
    expect(mapping.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FailedBatches/), 'Arn'] });
    expect(mapping.TumblingWindowInSeconds).toBeUndefined();
  });

  test('MSK: the notifier reads the alerts topic with its own consumer group, bisecting and reporting failures, from outside the VPC', () => {
    const mapping = notifierMapping(msk());
    expect(mapping).toMatchObject({
      Topics: ['alerts'], StartingPosition: 'TRIM_HORIZON', BisectBatchOnFunctionError: true, FunctionResponseTypes: ['ReportBatchItemFailures'],
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'tributary-msk-events-alert-notifier' },
    });
    expect(onlyResource(msk().templates.Alerts, 'AWS::Lambda::Function').Properties.VpcConfig).toBeUndefined();
  });

  test('the idempotency table: key id (string), TTL on expiration, point-in-time recovery, encrypted, removed like the other data', () => {
    for (const [synth, policy] of [[dev(), 'Delete'], [prod(), 'Retain']] as const) {
      const tables = Object.values(synth.templates.Alerts.findResources('AWS::DynamoDB::Table')) as any[];
      expect(tables).toHaveLength(1);
      expect(tables[0].DeletionPolicy).toBe(policy);
      expect(tables[0].Properties).toMatchObject({
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    }
  });

  test('the notifier may use its table (the four calls Powertools makes), publish to the topic and put dead letters under deadletter/alerts/, nothing else of the lake', () => {
    const statements = statementsOf(dev().templates.Alerts, 'NotifierRole');
    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap(actionsOf).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(dynamo.flatMap((s) => [s.Resource].flat())).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^Idempotency/), 'Arn'] }]);
    expect(statements.filter((s) => actionsOf(s).includes('sns:Publish')).map((s) => s.Resource)).toEqual([{ Ref: expect.stringMatching(/^AlertsTopic/) }]);
    const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    expect([...new Set(s3.flatMap(actionsOf))]).toEqual(['s3:PutObject']);
    expect(JSON.stringify(s3.map((s) => s.Resource))).toContain(`/${LakePrefix.deadLetter}/alerts/*`);
  });

  test('the notifier\'s records last as long as any producer can deliver an alert again: the longer of the two logs\' retentions', () => {
    const env = (synth: ReturnType<typeof dev>) => onlyResource(synth.templates.Alerts, 'AWS::Lambda::Function').Properties.Environment.Variables;
    expect(env(dev()).IDEMPOTENCY_EXPIRY_SECONDS).toBe(String(168 * 3600));
    expect(env(synthProfile('dev', { 'alerts.retentionHours': '200' })).IDEMPOTENCY_EXPIRY_SECONDS).toBe(String(200 * 3600));
    expect(env(dev())).toMatchObject({ DEAD_LETTER_PREFIX: LakePrefix.deadLetter, ALERTS_TOPIC_ARN: { Ref: expect.stringMatching(/^AlertsTopic/) } });
  });

  test('the Flink job writes alerts to the alerts log: the Alerts group names it, and its role may write it', () => {
    const groups = (synth: ReturnType<typeof dev>) => Object.fromEntries(
      onlyResource(synth.templates.StreamProcessing, 'AWS::KinesisAnalyticsV2::Application').Properties
        .ApplicationConfiguration.EnvironmentProperties.PropertyGroups.map((g: any) => [g.PropertyGroupId, g.PropertyMap]),
    );
    const kinesis = groups(dev()).Alerts;
    expect(kinesis.sink).toBe('kinesis');
    expect(JSON.stringify(kinesis['stream.arn'])).toMatch(/EventLogAlertsStream/);
    expect(groups(msk()).Alerts).toEqual({ sink: 'kafka', topic: 'alerts' });
    const writes = Object.values(dev().templates.StreamProcessing.findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement).filter((s: any) => actionsOf(s).includes('kinesis:PutRecords'));
    expect(JSON.stringify(writes.map((s: any) => s.Resource))).toMatch(/EventLogAlertsStream/);
  });
});
