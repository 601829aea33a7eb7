import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../lib/config';
import { FLINK_JAR, FlinkApplication, type FlinkJar, zipEntries } from '../../lib/constructs/flink-application';
import { EventLogStack } from '../../lib/stacks/event-log-stack';
import { LakeStack } from '../../lib/stacks/lake-stack';
import { StreamProcessingStack } from '../../lib/stacks/stream-processing-stack';
import { cdkJsonContext, onlyResource, profileNames, REPO_ROOT, scratchApp, synthProfile } from '../helpers/synth';

interface ContractKey {
  key: string;
  required: boolean;
  allowed?: string[];
  requiredWhen?: { group: string; key: string; equals: string; orGroup?: string; orKey?: string; orEquals?: string };
}
interface Contract {
  propertyGroups: { propertyGroupId: string; properties: ContractKey[] }[];
}

/** flink-apps/property-groups.json: what the Java job reads, proven on the Java side by PropertyContractTest. */
const contract: Contract = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'flink-apps', 'property-groups.json'), 'utf8'));

/** The property groups of the synthesized application, as Managed Flink receives them. */
function deployedGroups(profile: string): Record<string, Record<string, unknown>> {
  const app = onlyResource(synthProfile(profile).templates.StreamProcessing, 'AWS::KinesisAnalyticsV2::Application').Properties;
  return Object.fromEntries(app.ApplicationConfiguration.EnvironmentProperties.PropertyGroups.map((g: any) => [g.PropertyGroupId, g.PropertyMap]));
}

describe.each(profileNames())('the runtime properties contract with the Flink job, profile %s', (profile) => {
  const groups = () => deployedGroups(profile);
  const valueOf = (group: string, key: string) => groups()[group]?.[key];

  test('every group and key the stack sets is one the job reads', () => {
    // The source's own group is named by its type: Kinesis or Kafka.
    const sourceGroup = { kinesis: 'Kinesis', kafka: 'Kafka' }[groups().Source.type as string];
    expect(Object.keys(groups()).sort()).toEqual(['Alerts', 'Job', 'Rules', sourceGroup, 'Source'].sort());
    for (const [group, map] of Object.entries(groups())) {
      const declared = contract.propertyGroups.find((g) => g.propertyGroupId === group);
      expect(declared).toBeDefined();
      for (const key of Object.keys(map)) expect(declared!.properties.map((p) => p.key)).toContain(key);
    }
  });

  test('every key the job requires, always or under this configuration, is set', () => {
    for (const group of contract.propertyGroups) {
      for (const property of group.properties) {
        const when = property.requiredWhen;
        const required = property.required
          || (when !== undefined && (valueOf(when.group, when.key) === when.equals || (when.orGroup !== undefined && valueOf(when.orGroup, when.orKey!) === when.orEquals)));
        if (required) expect([group.propertyGroupId, property.key, valueOf(group.propertyGroupId, property.key) !== undefined]).toEqual([group.propertyGroupId, property.key, true]);
      }
    }
  });

  test('every value with a fixed set of choices is one of them', () => {
    for (const group of contract.propertyGroups) {
      for (const property of group.properties.filter((p) => p.allowed)) {
        const value = valueOf(group.propertyGroupId, property.key);
        if (value !== undefined) expect(property.allowed).toContain(value);
      }
    }
  });
});

describe('the Flink application', () => {
  const application = (profile: string) => onlyResource(synthProfile(profile).templates.StreamProcessing, 'AWS::KinesisAnalyticsV2::Application').Properties;

  test('runs the Flink 2.2 runtime in streaming mode from the jar asset, encrypted with its own key', () => {
    const app = application('dev');
    expect(app).toMatchObject({ RuntimeEnvironment: 'FLINK-2_2', ApplicationMode: 'STREAMING' });
    expect(app.ApplicationConfiguration.ApplicationCodeConfiguration).toMatchObject({
      CodeContentType: 'ZIPFILE',
      CodeContent: { S3ContentLocation: { FileKey: expect.stringMatching(/^[0-9a-f]{64}\.jar$/) } },
    });
    expect(app.ApplicationConfiguration.ApplicationEncryptionConfiguration).toEqual({
      KeyType: 'CUSTOMER_MANAGED_KEY',
      KeyId: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
    });
  });

  test('checkpointing, snapshots, parallelism and autoscaling come from the configuration', () => {
    expect(application('prod').ApplicationConfiguration).toMatchObject({
      FlinkApplicationConfiguration: {
        CheckpointConfiguration: { ConfigurationType: 'CUSTOM', CheckpointingEnabled: true, CheckpointInterval: 60000 },
        ParallelismConfiguration: { ConfigurationType: 'CUSTOM', Parallelism: 4, ParallelismPerKPU: 2, AutoScalingEnabled: true },
      },
      ApplicationSnapshotConfiguration: { SnapshotsEnabled: true },
    });
    expect(application('dev').ApplicationConfiguration.FlinkApplicationConfiguration.CheckpointConfiguration.CheckpointInterval).toBe(30000);
  });

  test('logs to its own CloudWatch log stream', () => {
    synthProfile('dev').templates.StreamProcessing.hasResourceProperties('AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption', {
      ApplicationName: { Ref: Match.stringLikeRegexp('^StreamJobApplication') },
      CloudWatchLoggingOption: { LogStreamARN: Match.anyValue() },
    });
  });

  test('the key lets Managed Flink validate and use it through its two service principals', () => {
    const t = synthProfile('dev').templates.StreamProcessing;
    const keyId = onlyResource(t, 'AWS::KinesisAnalyticsV2::Application').Properties.ApplicationConfiguration.ApplicationEncryptionConfiguration.KeyId['Fn::GetAtt'][0];
    const key = t.findResources('AWS::KMS::Key')[keyId].Properties;
    const principals = key.KeyPolicy.Statement.flatMap((s: any) => [s.Principal?.Service ?? []].flat());
    expect(principals).toEqual(expect.arrayContaining(['kinesisanalytics.amazonaws.com', 'infrastructure.kinesisanalytics.amazonaws.com']));
  });

  test('a key scope that does not name the application is refused, naming keyApplications and the fix', () => {
    const stack = new Stack(scratchApp(), 'Scope');
    expect(() => new FlinkApplication(stack, 'Job', {
      applicationName: 'tributary-dev-stream-v1', description: 'test', runtime: 'FLINK-2_2', jarPath: FLINK_JAR,
      parallelism: 1, parallelismPerKpu: 1, autoScaling: false, checkpointInterval: Duration.minutes(1), snapshotsEnabled: true,
      logLevel: 'INFO', logRetention: logs.RetentionDays.ONE_WEEK, encryptionKey: new kms.Key(stack, 'Key'), removalPolicy: RemovalPolicy.DESTROY,
      keyApplications: 'tributary-prod-stream-v*',
    })).toThrow("keyApplications 'tributary-prod-stream-v*' does not name the application tributary-dev-stream-v1");
  });

  test('its role reads the one jar object, writes only views/ and reads only the card profiles', () => {
    const t = synthProfile('dev').templates.StreamProcessing;
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref.startsWith('StreamJobRole')))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const objectResources = statements.filter((s: any) => [s.Action].flat().some((a: string) => /^s3:(Get|Put|Delete)Object$/.test(a))).map((s: any) => JSON.stringify(s.Resource));
    expect(objectResources.filter((r) => r.includes('tributary-dev-lake')).map((r) => r.match(/\/([a-z_/]+)\/\*"/)?.[1]).sort()).toEqual(['reference/card_profiles', 'views']);
    const jarRead = objectResources.find((r) => r.includes('cdk-') || r.includes('.jar'));
    expect(jarRead).toMatch(/[0-9a-f]{64}\.jar/);
  });
});

describe('start on deploy', () => {
  test('starts the application after it and its logging exist, resuming from the latest snapshot', () => {
    const t = synthProfile('dev').templates.StreamProcessing;
    const [start] = Object.values(t.findResources('Custom::FlinkApplicationStart'));
    expect(start.Properties).toMatchObject({ RestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT', AllowNonRestoredState: 'false' });
    expect(start.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^StreamJobApplication/), expect.stringMatching(/^StreamJobLogging/)]));
  });

  test('restore control: skip the snapshot and allow non-restored state', () => {
    const t = synthProfile('dev', { 'streamProcessing.restoreOnStart': 'skip', 'streamProcessing.allowNonRestoredState': 'true' }).templates.StreamProcessing;
    t.hasResourceProperties('Custom::FlinkApplicationStart', { RestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT', AllowNonRestoredState: 'true' });
  });

  test('with startOnDeploy off the application is only created', () => {
    synthProfile('dev', { 'streamProcessing.startOnDeploy': 'false' }).templates.StreamProcessing.resourceCountIs('Custom::FlinkApplicationStart', 0);
  });

  test('the starter may describe, start and stop this one application only', () => {
    const t = synthProfile('dev').templates.StreamProcessing;
    const starter = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref.startsWith('StreamJobStarterOnEventRole')))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('kinesisanalytics:')));
    expect(starter).toHaveLength(1);
    expect(starter[0].Action).toEqual(['kinesisanalytics:DescribeApplication', 'kinesisanalytics:StartApplication', 'kinesisanalytics:StopApplication']);
    expect(JSON.stringify(starter[0].Resource)).toContain(':application/tributary-dev-stream-v1');
  });
});

describe('the jar and the event log it must read', () => {
  function streamStack(jar: FlinkJar, profile = 'dev') {
    const app = scratchApp({ context: { ...cdkJsonContext(), profile } });
    const { config } = loadConfig(app.node);
    const eventLog = new EventLogStack(app, 'EventLog', { config });
    const lake = new LakeStack(app, 'Lake', { config });
    return new StreamProcessingStack(app, 'StreamProcessing', { config, eventLog: eventLog.eventLog, lake, jar });
  }

  /** A real jar (zip) holding only the job's main class: what a build without the log's connector gives. */
  function jarWithout(connector: string): FlinkJar {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jar-without-'));
    fs.mkdirSync(path.join(dir, 'classes', 'dev', 'tributary', 'flink'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'classes', 'dev', 'tributary', 'flink', 'TributaryStreamJob.class'), 'not really a class');
    const jar = path.join(dir, `without-${connector}.jar`);
    const made = spawnSync('jar', ['--create', '--file', jar, '-C', path.join(dir, 'classes'), '.'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`jar failed: ${made.stderr}`);
    temporary.push(dir);
    return { path: jar };
  }
  const temporary: string[] = [];
  afterAll(() => temporary.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  test('a jar without the Kinesis connector fails synth, naming the profile, the artifact and the fix', () => {
    const jar = jarWithout('kinesis');
    expect(zipEntries(jar.path)).toEqual(expect.arrayContaining(['dev/tributary/flink/TributaryStreamJob.class']));
    for (const profile of ['dev', 'prod']) {
      expect(() => streamStack(jar, profile)).toThrow(
        new RegExp(`Profile '${profile}' reads its event log with org\\.apache\\.flink:flink-connector-aws-kinesis-streams, but the Flink jar .* lacks it.*mvn -f flink-apps/pom\\.xml package.*Maven Central`),
      );
    }
  });

  test('the built jar carries both connectors (one jar for every log), so every profile synthesizes', () => {
    const entries = zipEntries(FLINK_JAR);
    for (const log of [synthProfile('dev').platform.eventLog.eventLog]) {
      expect(entries).toContain(`${log.flinkConnector.className.replace(/\./g, '/')}.class`);
    }
    expect(entries).toContain('org/apache/flink/connector/kafka/source/KafkaSource.class');
    expect(entries).toContain('org/apache/flink/connector/kinesis/sink/KinesisStreamsSink.class');
    expect(() => streamStack({ path: FLINK_JAR })).not.toThrow();
  });

  test('the Kinesis log names its connector, and prod adds the job\'s own enhanced fan-out consumer', () => {
    expect(synthProfile('dev').platform.eventLog.eventLog.flinkConnector.artifact).toBe('org.apache.flink:flink-connector-aws-kinesis-streams');
    expect(deployedGroups('prod').Kinesis['efo.consumer.name']).toBe('tributary-stream-v1');
    expect(deployedGroups('dev').Kinesis['efo.consumer.name']).toBeUndefined();
  });
});

describe('a Flink application in a VPC', () => {
  test('places its interfaces in the private subnets with the given security groups, and may manage them', () => {
    const stack = new Stack(scratchApp(), 'Network');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const group = new ec2.SecurityGroup(stack, 'JobSecurityGroup', { vpc });
    const app = new FlinkApplication(stack, 'Job', {
      applicationName: 'in-vpc', description: 'test', runtime: 'FLINK-2_2', jarPath: FLINK_JAR,
      parallelism: 1, parallelismPerKpu: 1, autoScaling: false, checkpointInterval: Duration.minutes(1), snapshotsEnabled: true,
      logLevel: 'INFO', logRetention: logs.RetentionDays.ONE_WEEK, encryptionKey: new kms.Key(stack, 'Key'), removalPolicy: RemovalPolicy.DESTROY,
      network: { vpc, securityGroups: [group] },
    });
    const template = Template.fromStack(stack);
    const config = onlyResource(template, 'AWS::KinesisAnalyticsV2::Application').Properties.ApplicationConfiguration;
    expect(config.VpcConfigurations).toHaveLength(1);
    expect(config.VpcConfigurations[0].SubnetIds).toEqual(vpc.privateSubnets.map((subnet) => ({ Ref: stack.getLogicalId(subnet.node.defaultChild as CfnResource) })));
    expect(config.VpcConfigurations[0].SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [stack.getLogicalId(group.node.defaultChild as CfnResource), 'GroupId'] }]);
    const actions = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement).flatMap((st: any) => [st.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']));
    expect(app.role).toBeDefined();
  });

  test('without a network there is no VPC configuration and no EC2 permission', () => {
    const config = onlyResource(synthProfile('dev').templates.StreamProcessing, 'AWS::KinesisAnalyticsV2::Application').Properties.ApplicationConfiguration;
    expect(config.VpcConfigurations).toBeUndefined();
    expect(JSON.stringify(synthProfile('dev').templates.StreamProcessing.toJSON())).not.toContain('ec2:CreateNetworkInterface');
  });
});
