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

  test('the failed-batches queue and the alerts topic are KMS-encrypted and TLS-only', () => {
    const t = dev().templates.SpeedLayer;
    t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } });
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
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
    expect(alarms.map((a) => a.MetricName).sort()).toEqual(
      ['ApproximateNumberOfMessagesVisible', 'DeliveryToS3.DataFreshness', 'ExecutionsFailed', 'GetRecords.IteratorAgeMilliseconds', 'IteratorAge', 'RecordsDeadLettered', 'downtime', 'millisBehindLatest'],
    );
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
