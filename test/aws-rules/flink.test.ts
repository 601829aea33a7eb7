import type { Synthesized } from '../helpers/synth';
import { awsRule, resourcesOfType } from './aws-rule';
import { allows, conditionAdmits, conditionOn, render, roleStatements, type Statement, statementsOf } from './cfn';

// Rules of Managed Service for Apache Flink that the stream-processing and reprocessing templates rely on.

const MSF = 'kinesisanalytics.amazonaws.com';
const MSF_INFRASTRUCTURE = 'infrastructure.kinesisanalytics.amazonaws.com';
const ENCRYPTION_CONTEXT = 'kms:EncryptionContext:aws:kinesisanalytics:arn';
const applicationArn = (name: string) => `arn:\${AWS::Partition}:kinesisanalytics:\${AWS::Region}:\${AWS::AccountId}:application/${name}`;

interface DeployedApplication {
  readonly stack: string;
  readonly name: string;
  readonly Properties: Record<string, any>;
}

function applications(synth: Synthesized): DeployedApplication[] {
  return resourcesOfType(synth, 'AWS::KinesisAnalyticsV2::Application').map(({ stack, Properties }) => ({ stack, name: render(Properties.ApplicationName), Properties }));
}

/**
 * The names of the applications that run with each deployed one's configuration: itself and, where the
 * Kappa replay is built, the replay it creates next (`<name>-stream-v<n+1>`, same key, same settings).
 */
function applicationNames(synth: Synthesized, app: DeployedApplication): string[] {
  const replay = synth.platform.reprocessing ? [`${synth.config.name}-stream-v${synth.config.streamProcessing.outputVersion + 1}`] : [];
  return [app.name, ...replay];
}

/** The key policy statements of the customer-managed key an application is encrypted with. */
function keyPolicyOf(synth: Synthesized, app: DeployedApplication): Statement[] {
  const encryption = app.Properties.ApplicationConfiguration.ApplicationEncryptionConfiguration;
  expect(encryption?.KeyType).toBe('CUSTOMER_MANAGED_KEY');
  const keyLogicalId = encryption.KeyId['Fn::GetAtt']?.[0];
  const key = synth.templates[app.stack].findResources('AWS::KMS::Key')[keyLogicalId];
  if (!key) throw new Error(`${app.name}: its key ${JSON.stringify(encryption.KeyId)} is not a key of stack ${app.stack}`);
  return statementsOf(key.Properties.KeyPolicy);
}

const grantsTo = (statements: Statement[], service: string, action: string, arn: string, scoped: boolean) =>
  allows(statements.filter((s) => s.services.includes(service)), action, (s) => !scoped || conditionAdmits(s, ENCRYPTION_CONTEXT, arn));

awsRule({
  rule: 'A Managed Flink customer managed key lets kinesisanalytics.amazonaws.com describe it, generate data keys and decrypt (durable state), and infrastructure.kinesisanalytics.amazonaws.com describe it, decrypt, GenerateDataKeyWithoutPlaintext and CreateGrant (running state), each use scoped to the application by kms:EncryptionContext:aws:kinesisanalytics:arn',
  source: 'https://docs.aws.amazon.com/managed-flink/latest/java/manage-cmk-api.html',
  check: (synth) => {
    for (const app of applications(synth)) {
      const policy = keyPolicyOf(synth, app);
      for (const name of applicationNames(synth, app)) {
        const arn = applicationArn(name);
        const missing = [
          [MSF, 'kms:DescribeKey', false], [MSF, 'kms:GenerateDataKey', true], [MSF, 'kms:Decrypt', true],
          [MSF_INFRASTRUCTURE, 'kms:DescribeKey', false], [MSF_INFRASTRUCTURE, 'kms:Decrypt', true],
          [MSF_INFRASTRUCTURE, 'kms:GenerateDataKeyWithoutPlaintext', true], [MSF_INFRASTRUCTURE, 'kms:CreateGrant', true],
        ].filter(([service, action, scoped]) => !grantsTo(policy, service as string, action as string, arn, scoped as boolean))
          .map(([service, action]) => `${service} ${action}`);
        expect({ application: name, missing }).toEqual({ application: name, missing: [] });
      }
      // Nothing else for the service principals: every use of the key is bound to an application's encryption context.
      const unscoped = policy.filter((s) => s.services.some((p) => p === MSF || p === MSF_INFRASTRUCTURE)
        && s.actions.some((a) => a !== 'kms:DescribeKey') && !s.conditions.StringEquals?.[ENCRYPTION_CONTEXT] && !s.conditions.StringLike?.[ENCRYPTION_CONTEXT]);
      expect(unscoped.map((s) => s.actions)).toEqual([]);
    }
  },
});

awsRule({
  rule: 'Whoever creates or starts a Managed Flink application encrypted with a customer managed key (the API caller) needs kms:DescribeKey, and kms:Decrypt, kms:GenerateDataKey, kms:GenerateDataKeyWithoutPlaintext and kms:CreateGrant through kinesisanalytics for that application',
  source: 'https://docs.aws.amazon.com/managed-flink/latest/java/manage-cmk-api.html',
  check: (synth) => {
    const callers = resourcesOfType(synth, 'AWS::IAM::Policy').filter(({ Properties }) => {
      const statements = statementsOf(Properties.PolicyDocument);
      return allows(statements, 'kinesisanalytics:StartApplication') || allows(statements, 'kinesisanalytics:CreateApplication');
    }).flatMap(({ stack, Properties }) => (Properties.Roles as any[]).map((r) => ({ stack, role: r.Ref as string })));
    if (synth.platform.streamProcessing?.application && synth.config.streamProcessing.startOnDeploy) expect(callers.length).toBeGreaterThan(0);
    const name = synth.config.name;
    for (const { stack, role } of callers) {
      const statements = roleStatements(synth, stack, role);
      const viaFlink = (s: Statement) => s.resources.every((r) => r !== '*')
        && conditionOn(s, 'kms:ViaService').length > 0 && conditionOn(s, ENCRYPTION_CONTEXT).some(({ values }) => values.some((v) => v.includes(`:application/${name}-stream-v`)));
      const missing = ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:CreateGrant']
        .filter((action) => !allows(statements, action, viaFlink));
      if (!allows(statements, 'kms:DescribeKey', (s) => s.resources.every((r) => r !== '*'))) missing.push('kms:DescribeKey');
      expect({ stack, role, missing }).toEqual({ stack, role, missing: [] });
    }
  },
});

awsRule({
  rule: 'A Managed Flink application runs a runtime the service offers: the jobs are built for FLINK-2_2 (Flink 2.2, Java 17)',
  source: 'https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_CreateApplication.html',
  check: (synth) => {
    for (const app of applications(synth)) expect({ app: app.name, runtime: app.Properties.RuntimeEnvironment }).toEqual({ app: app.name, runtime: 'FLINK-2_2' });
  },
});

awsRule({
  rule: 'An application name is 1 to 128 characters of [a-zA-Z0-9_.-]',
  source: 'https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_CreateApplication.html',
  check: (synth) => {
    for (const app of applications(synth)) {
      for (const name of applicationNames(synth, app)) expect(name).toMatch(/^[a-zA-Z0-9_.-]{1,128}$/);
    }
  },
});

awsRule({
  rule: 'An application has at most 50 property groups; a group id is 1 to 50 characters of [a-zA-Z0-9_.-] and holds 1 to 50 properties whose keys and values are 1 to 2048 characters',
  source: 'https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_PropertyGroup.html',
  check: (synth) => {
    for (const app of applications(synth)) {
      const groups: { PropertyGroupId: string; PropertyMap: Record<string, unknown> }[] =
        app.Properties.ApplicationConfiguration.EnvironmentProperties?.PropertyGroups ?? [];
      expect(groups.length).toBeLessThanOrEqual(50);
      for (const { PropertyGroupId, PropertyMap } of groups) {
        expect(PropertyGroupId).toMatch(/^[a-zA-Z0-9_.-]{1,50}$/);
        const entries = Object.entries(PropertyMap);
        expect(entries.length).toBeGreaterThanOrEqual(1);
        expect(entries.length).toBeLessThanOrEqual(50);
        for (const [key, value] of entries) {
          // A replay rewrites start.timestamp and output.version; their values stay short (an ISO time, a number).
          const text = render(value);
          expect({ group: PropertyGroupId, key, keyLength: key.length >= 1 && key.length <= 2048, valueLength: text.length >= 1 && text.length <= 2048 })
            .toEqual({ group: PropertyGroupId, key, keyLength: true, valueLength: true });
        }
      }
    }
  },
});

awsRule({
  rule: 'Parallelism is 1 to 256 and ParallelismPerKPU 1 to 8, set only with a CUSTOM parallelism configuration; the parallelism needs at most 64 KPUs (Parallelism / ParallelismPerKPU) by default',
  source: 'https://docs.aws.amazon.com/managed-flink/latest/java/how-scaling.html',
  check: (synth) => {
    for (const app of applications(synth)) {
      const p = app.Properties.ApplicationConfiguration.FlinkApplicationConfiguration.ParallelismConfiguration;
      expect(p.ConfigurationType).toBe('CUSTOM');
      expect(p.Parallelism).toBeGreaterThanOrEqual(1);
      expect(p.Parallelism).toBeLessThanOrEqual(256);
      expect(p.ParallelismPerKPU).toBeGreaterThanOrEqual(1);
      expect(p.ParallelismPerKPU).toBeLessThanOrEqual(8);
      expect(Math.ceil(p.Parallelism / p.ParallelismPerKPU)).toBeLessThanOrEqual(64);
    }
  },
});

awsRule({
  rule: "Managed Flink publishes the Kinesis source's millisBehindLatest (connector 6.0.0 for Flink 2.2) at the Application level for the stream, and -1 until it has a value; the replay's catch-up wait reads it and counts -1 as no data",
  source: 'https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html',
  check: (synth) => {
    const stream = synth.platform.streamProcessing;
    if (!stream || stream.application.propertyGroups.Source?.type !== 'kinesis') return;
    for (const app of applications(synth)) {
      const monitoring = app.Properties.ApplicationConfiguration.FlinkApplicationConfiguration.MonitoringConfiguration;
      // Every level publishes the application-level metrics (PARALLELISM adds the per-shard ones).
      expect(['APPLICATION', 'TASK', 'OPERATOR', 'PARALLELISM']).toContain(monitoring.MetricsLevel);
    }
    const replay = resourcesOfType(synth, 'AWS::StepFunctions::StateMachine').filter(({ stack }) => stack === 'Reprocessing');
    for (const { Properties } of replay) {
      const definition = render(Properties.DefinitionString);
      expect(definition).toMatch(/Namespace=\\+"AWS\/KinesisAnalytics\\+" MetricName=\\+"millisBehindLatest\\+"/);
      expect(definition).toContain('$v >= 0');
    }
  },
});
