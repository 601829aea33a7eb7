import { templateTargets } from '../helpers/targets';
import { awsRule, resourcesOfType } from './aws-rule';

// Rules of Amazon Data Firehose that the raw archive (lib/stacks/archive-stack.ts) relies on.

const s3Destinations = (synth: Parameters<Parameters<typeof awsRule>[0]['check']>[0]) =>
  resourcesOfType(synth, 'AWS::KinesisFirehose::DeliveryStream').map((d) => ({ id: `${d.stack}/${d.logicalId}`, s3: d.Properties.ExtendedS3DestinationConfiguration }));

awsRule({
  targets: templateTargets(),
  rule: 'With dynamic partitioning, the buffer size must be at least 64 MiB (and at most the 128 MiB BufferingHints allows)',
  source: 'https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html',
  check: (synth) => {
    const destinations = s3Destinations(synth);
    expect(destinations.length).toBeGreaterThan(0);
    for (const { id, s3 } of destinations) {
      if (!s3?.DynamicPartitioningConfiguration?.Enabled) continue;
      const size = s3.BufferingHints?.SizeInMBs;
      expect([id, size >= 64 && size <= 128]).toEqual([id, true]);
    }
  },
});

awsRule({
  targets: templateTargets(),
  rule: 'Zero buffering is not available with dynamic partitioning: the buffer interval must be set, above 0 and at most 900 seconds',
  source: 'https://docs.aws.amazon.com/firehose/latest/dev/buffering.html',
  check: (synth) => {
    for (const { id, s3 } of s3Destinations(synth)) {
      if (!s3?.DynamicPartitioningConfiguration?.Enabled) continue;
      const interval = s3.BufferingHints?.IntervalInSeconds;
      expect([id, interval > 0 && interval <= 900]).toEqual([id, true]);
    }
  },
});

awsRule({
  targets: templateTargets(),
  rule: 'With record format conversion enabled, the buffer size must be at least 64 MiB',
  source: 'https://docs.aws.amazon.com/firehose/latest/dev/record-format-conversion.html',
  check: (synth) => {
    for (const { id, s3 } of s3Destinations(synth)) {
      if (!s3?.DataFormatConversionConfiguration || s3.DataFormatConversionConfiguration.Enabled === false) continue;
      expect([id, s3.BufferingHints?.SizeInMBs >= 64]).toEqual([id, true]);
    }
  },
});

awsRule({
  targets: templateTargets(),
  rule: 'With dynamic partitioning, the S3 prefix must use partitionKeyFromQuery or partitionKeyFromLambda namespaces and the error output prefix must contain !{firehose:error-output-type}',
  source: 'https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-s3bucketprefix.html',
  check: (synth) => {
    for (const { id, s3 } of s3Destinations(synth)) {
      if (!s3?.DynamicPartitioningConfiguration?.Enabled) continue;
      const prefix: string = s3.Prefix;
      const errorPrefix: string = s3.ErrorOutputPrefix;
      expect([id, /!\{partitionKeyFrom(Query|Lambda):[A-Za-z0-9_]+\}/.test(prefix)]).toEqual([id, true]);
      expect([id, errorPrefix.includes('!{firehose:error-output-type}')]).toEqual([id, true]);
      // Every key the prefix reads must be extracted by the MetadataExtraction query (jq), unless a Lambda supplies it.
      const query = s3.ProcessingConfiguration?.Processors?.find((p: any) => p.Type === 'MetadataExtraction')
        ?.Parameters?.find((p: any) => p.ParameterName === 'MetadataExtractionQuery')?.ParameterValue ?? '';
      for (const [, key] of prefix.matchAll(/!\{partitionKeyFromQuery:([A-Za-z0-9_]+)\}/g)) expect([id, key, new RegExp(`[{,]\\s*${key}\\s*:`).test(query)]).toEqual([id, key, true]);
      // Both prefixes end in "/" so objects land under a folder, and neither starts with one.
      for (const p of [prefix, errorPrefix]) expect([id, p.endsWith('/') && !p.startsWith('/')]).toEqual([id, true]);
    }
  },
});
