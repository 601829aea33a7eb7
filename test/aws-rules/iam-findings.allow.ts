/**
 * The parliament findings test/aws-rules/iam-policies.test.ts accepts, each with its reason. Nothing
 * else passes: a finding no entry matches fails the test, and so does an entry that matches nothing
 * (so a fixed policy takes its entry with it).
 *
 * Two kinds:
 * - `tool`: parliament is wrong or the finding is a design choice AWS documents; stays.
 * - `defect`: a real defect in a template, recorded here so the suite stays green until the fix lands.
 *   The coordinator empties these after merging the fixes (issue 11).
 */
export interface AllowedFinding {
  readonly issue: string;
  /** The policy: `<stack>/<logical id>[ trust policy| inline NAME]`. */
  readonly policy: RegExp;
  /** parliament's detail, as JSON text. */
  readonly detail: RegExp;
  readonly kind: 'tool' | 'defect';
  readonly reason: string;
}

export const ALLOWED_FINDINGS: AllowedFinding[] = [
  // --- parliament's own limits -------------------------------------------------------------------
  {
    issue: 'MISMATCHED_TYPE', policy: /^Lake\/(AccessLogs|Lake|QueryResults)Policy/, detail: /s3:TlsVersion requires a value of type Numeric but given \['1\.2'\]/, kind: 'tool',
    reason: 'parliament 1.6.4 matches Numeric values with ^\\d+$, so a decimal fails; IAM compares numbers with decimals, and S3\'s own example denies "NumericLessThan": {"s3:TlsVersion": 1.2} '
      + '(https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html). The statement is aws-cdk-lib\'s enforceSSL/minimumTLSVersion deny.',
  },
  {
    issue: 'RESOURCE_MISMATCH', policy: /^BatchLayer\/BatchRunRoleDefaultPolicy/, detail: /states:ListExecutions.*mapRun/, kind: 'tool',
    reason: 'states:ListExecutions takes the state machine\'s ARN (ListExecutions\' stateMachineArn, https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html) '
      + 'and the Service Authorization Reference lists stateMachine as one of its resource types; parliament 1.6.4 requires both its listed types (mapRun and stateMachine) at once.',
  },
  {
    issue: 'RESOURCE_POLICY_PRIVILEGE_ESCALATION', policy: /^Lake\/(AccessLogs|Lake|QueryResults)Policy/, detail: /s3:(Put|Get)Object not being allowed, but does allow s3:PutBucketPolicy/, kind: 'tool',
    reason: 'A heuristic, not an AWS rule: with dataRemoval "destroy" aws-cdk-lib\'s autoDeleteObjects lets its own custom-resource role put the bucket policy (to block writes while it empties the bucket); '
      + 'that role is the only principal the statement names.',
  },
  {
    issue: 'UNKNOWN_CONDITION_FOR_ACTION', policy: /^\w+\/\w*Logs?Key/, detail: /kms:EncryptionContext:aws:logs:arn for action kms:DescribeKey/, kind: 'tool',
    reason: 'The key policy CloudWatch Logs documents for an encrypted log group grants kms:Describe* under the kms:EncryptionContext:aws:logs:arn condition '
      + '(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html); DescribeKey has no encryption context, so that grant is inert, as on AWS\'s page.',
  },
  {
    issue: 'MISMATCHED_TYPE', policy: /^\w+\/\w*Logs?Key/, detail: /ArnEquals requires a value of type Arn but given String/, kind: 'tool',
    reason: 'CloudWatch Logs documents ArnEquals/ArnLike on kms:EncryptionContext:aws:logs:arn (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html), '
      + 'a String key in the Service Authorization Reference whose values are ARNs.',
  },
  {
    issue: 'RESOURCE_MISMATCH', policy: /^EventLog\/EventLogClusterPolicy/, detail: /kafka:CreateVpcConnection.*vpc-connection/, kind: 'tool',
    reason: 'The MSK cluster policy for multi-VPC private connectivity names kafka:CreateVpcConnection and kafka:GetBootstrapBrokers on the cluster ARN, as MSK documents it '
      + '(https://docs.aws.amazon.com/msk/latest/developerguide/mvpc-cluster-owner-action-policy.html); parliament checks it as an identity policy.',
  },
  {
    issue: 'RESOURCE_STAR', policy: /^(SpeedLayer\/HandlerRole|StreamProcessing\/StreamJobRole|Reprocessing\/ReplayApplicationRole|EventLog\/EventLogTopicProviderOnEventRole|Alerts\/NotifierRole)DefaultPolicy/, detail: /ec2:CreateNetworkInterface/, kind: 'tool',
    reason: 'Lambda (for the speed layer on MSK and the MSK topic custom resource in the VPC, and the MSK event source mappings\' pollers, the alert notifier\'s among them, in the cluster\'s subnets) and Managed Flink create their ENIs in the VPC under the function\'s or application\'s role; AWS documents these ENI actions on "*" '
      + '(AWSLambdaVPCAccessExecutionRole, https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html; https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html; https://docs.aws.amazon.com/managed-flink/latest/java/vpc-permissions.html).',
  },
  {
    issue: 'RESOURCE_STAR', policy: /^(StreamProcessing\/StreamJobStarter|EventLog\/EventLogConnectivity)ProviderwaiterstatemachineRoleDefaultPolicy/, detail: /logs:CreateLogStream/, kind: 'tool',
    reason: 'aws-cdk-lib\'s custom-resource Provider framework writes this policy for its waiter state machine (not our code); CloudWatch Logs delivery for Step Functions needs the log delivery actions on "*" '
      + '(https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).',
  },
  {
    issue: 'RESOURCE_MISMATCH', policy: /^(Archive\/Role|SpeedLayer\/HandlerRole|StreamProcessing\/StreamJobRole|Reprocessing\/ReplayApplicationRole|Alerts\/NotifierRole)DefaultPolicy/,
    detail: /^\[\{"action":"kinesis:DescribeStreamConsumer".*"kinesis:ListStreams".*"kinesis:SubscribeToShard"[^\]]*\]$/, kind: 'tool',
    reason: 'aws-cdk-lib\'s Stream.grantRead lists kinesis:DescribeStreamConsumer and SubscribeToShard (consumer resources) and ListStreams ("*") on the stream ARN; IAM accepts the policy and those '
      + 'three grant nothing there. The consumer grants the enhanced fan-out path needs are separate statements on the consumer ARN.',
  },
  // --- defects in the templates: none open. The two this checker found (kinesisanalytics:CreateApplication and
  // kafka:GetBootstrapBrokers granted on resources they do not support) are fixed in lib/ and held by this test.
];
