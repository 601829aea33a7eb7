import { templateTargets } from '../helpers/targets';
import { awsRule, resourcesOfType } from './aws-rule';

// Rules of Lambda that the speed layer's event source mapping and every function rely on.

awsRule({
  targets: templateTargets(),
  rule: 'A Kinesis event source mapping takes a batch size of 1-10000, a batching window of 0-300 s, a parallelization factor of 1-10, retry attempts of -1-10000, a maximum record age of -1 or 60-604800 s and a tumbling window of 0-900 s',
  source: 'https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html',
  check: (synth) => {
    for (const { stack, logicalId, Properties: p } of resourcesOfType(synth, 'AWS::Lambda::EventSourceMapping')) {
      const id = `${stack}/${logicalId}`;
      const within = (value: number | undefined, lo: number, hi: number) => value === undefined || (value >= lo && value <= hi);
      expect([id, 'BatchSize', within(p.BatchSize, 1, 10000)]).toEqual([id, 'BatchSize', true]);
      expect([id, 'MaximumBatchingWindowInSeconds', within(p.MaximumBatchingWindowInSeconds, 0, 300)]).toEqual([id, 'MaximumBatchingWindowInSeconds', true]);
      const kinesis = /:kinesis:/.test(JSON.stringify(p.EventSourceArn));
      if (!kinesis) continue;
      expect([id, 'ParallelizationFactor', within(p.ParallelizationFactor, 1, 10)]).toEqual([id, 'ParallelizationFactor', true]);
      expect([id, 'MaximumRetryAttempts', within(p.MaximumRetryAttempts, -1, 10000)]).toEqual([id, 'MaximumRetryAttempts', true]);
      expect([id, 'MaximumRecordAgeInSeconds', p.MaximumRecordAgeInSeconds === undefined || p.MaximumRecordAgeInSeconds === -1 || within(p.MaximumRecordAgeInSeconds, 60, 604800)])
        .toEqual([id, 'MaximumRecordAgeInSeconds', true]);
      expect([id, 'TumblingWindowInSeconds', within(p.TumblingWindowInSeconds, 0, 900)]).toEqual([id, 'TumblingWindowInSeconds', true]);
    }
  },
});

const RESERVED = ['_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR'];

awsRule({
  targets: templateTargets(),
  rule: 'A function may not set the reserved environment variables the Lambda runtime defines',
  source: 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html',
  check: (synth) => {
    for (const { stack, logicalId, Properties } of resourcesOfType(synth, 'AWS::Lambda::Function')) {
      const set = Object.keys(Properties.Environment?.Variables ?? {});
      expect([`${stack}/${logicalId}`, set.filter((k) => RESERVED.includes(k))]).toEqual([`${stack}/${logicalId}`, []]);
    }
  },
});
