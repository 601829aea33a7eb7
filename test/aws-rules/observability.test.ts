import { awsRule, resourcesOfType } from './aws-rule';
import { conditionAdmits, conditionOn, referent, render, statementsOf } from './cfn';

// Rules of CloudWatch metrics and logs that the dashboards, alarms and log groups rely on.

awsRule({
  rule: 'Flink 2.2 on Managed Flink removed the fullRestarts metric (use numRestarts); uptime and downtime are deprecated',
  source: 'https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html',
  check: (synth) => {
    if (!synth.platform.streamProcessing) return;
    const dashboards = resourcesOfType(synth, 'AWS::CloudWatch::Dashboard').map(({ Properties }) => render(Properties.DashboardBody));
    const alarms = resourcesOfType(synth, 'AWS::CloudWatch::Alarm').filter(({ Properties }) => Properties.Namespace === 'AWS/KinesisAnalytics').map(({ Properties }) => Properties.MetricName);
    for (const body of dashboards) expect(body).not.toMatch(/"AWS\/KinesisAnalytics","fullRestarts"/);
    expect(alarms).not.toContain('fullRestarts');
    expect(dashboards.some((body) => /"AWS\/KinesisAnalytics","numRestarts"/.test(body))).toBe(true);
  },
});

awsRule({
  rule: "GetRecords.IteratorAgeMilliseconds is the age of the last record of the stream's GetRecords calls: it does not see enhanced fan-out readers, so each reader is alarmed on its own lag (the Flink Kinesis source's millisBehindLatest, the event source mapping's IteratorAge)",
  source: 'https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html',
  check: (synth) => {
    const alarms = resourcesOfType(synth, 'AWS::CloudWatch::Alarm').map(({ Properties }) => Properties);
    const stream = synth.platform.streamProcessing;
    if (stream && stream.application.propertyGroups.Source?.type === 'kinesis' && synth.config.observability.alarmsEnabled) {
      const flinkLag = alarms.filter((a) => a.Namespace === 'AWS/KinesisAnalytics' && a.MetricName === 'millisBehindLatest'
        && (a.Dimensions ?? []).some((d: any) => d.Name === 'Application' && render(d.Value) === stream.application.applicationName));
      expect(flinkLag).toHaveLength(1);
    }
    if (synth.config.observability.alarmsEnabled && resourcesOfType(synth, 'AWS::Kinesis::Stream').length > 0) {
      // Every function on a Kinesis stream (the speed layer, the alert notifier) has its own IteratorAge alarm.
      const readers = resourcesOfType(synth, 'AWS::Lambda::EventSourceMapping')
        // Kinesis (a stream or an enhanced fan-out consumer): the platform's only mappings besides MSK's.
        .filter(({ Properties }) => Properties.AmazonManagedKafkaEventSourceConfig === undefined && Properties.Topics === undefined)
        .map(({ Properties }) => referent(synth, Properties.FunctionName)?.logicalId).sort();
      const alarmed = alarms.filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === 'IteratorAge')
        .map((a) => referent(synth, (a.Dimensions ?? []).find((d: any) => d.Name === 'FunctionName')?.Value)?.logicalId).sort();
      expect(readers.length).toBeGreaterThan(0);
      expect(alarmed).toEqual(readers);
    }
  },
});

awsRule({
  rule: 'A log group encrypted with a KMS key needs the key policy to let logs.<region>.amazonaws.com use it, scoped by kms:EncryptionContext:aws:logs:arn to the log group',
  source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html',
  check: (synth) => {
    // What must be encrypted: the Flink applications' logs and the state machines' execution logs.
    const required = new Set<string>([
      ...resourcesOfType(synth, 'AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption').map(({ Properties }) => render(Properties.CloudWatchLoggingOption.LogStreamARN)),
      ...resourcesOfType(synth, 'AWS::StepFunctions::StateMachine').flatMap(({ Properties }) =>
        (Properties.LoggingConfiguration?.Destinations ?? []).map((d: any) => render(d.CloudWatchLogsLogGroup.LogGroupArn))),
    ]);
    const groups = resourcesOfType(synth, 'AWS::Logs::LogGroup');
    const destination = (logicalId: string, name?: string) => [...required].some((r) => r.includes(`\${${logicalId}.Arn}`) || r.includes(`\${${logicalId}}`) || (name !== undefined && r.includes(`:log-group:${name}:`)));
    for (const { stack, logicalId, Properties } of groups) {
      const name = Properties.LogGroupName ? render(Properties.LogGroupName) : undefined;
      const keyRef = Properties.KmsKeyId;
      if (destination(logicalId, name)) expect({ logGroup: `${stack}/${logicalId}`, encrypted: Boolean(keyRef) }).toEqual({ logGroup: `${stack}/${logicalId}`, encrypted: true });
      if (!keyRef) continue;
      const key = synth.templates[stack].findResources('AWS::KMS::Key')[keyRef['Fn::GetAtt']?.[0]];
      expect(key).toBeDefined();
      // Named, so the key policy can name it: a policy naming the group's generated name would be circular.
      expect({ logGroup: `${stack}/${logicalId}`, named: name !== undefined }).toEqual({ logGroup: `${stack}/${logicalId}`, named: true });
      const arn = `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${name}`;
      const logs = statementsOf(key.Properties.KeyPolicy).filter((s) => s.services.includes('logs.${AWS::Region}.amazonaws.com'));
      expect(logs.some((s) => s.actions.includes('kms:GenerateDataKey') && s.actions.includes('kms:Decrypt') && conditionAdmits(s, 'kms:EncryptionContext:aws:logs:arn', arn))).toBe(true);
      expect(logs.every((s) => conditionOn(s, 'kms:EncryptionContext:aws:logs:arn').length > 0)).toBe(true);
    }
  },
});
