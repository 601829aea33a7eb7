import type * as ec2 from 'aws-cdk-lib/aws-ec2';

/** Where clients of a log that lives in a VPC run: the speed-layer function and the Flink job. */
export interface LogNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The security group every client of the log runs in; the log allows it in. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
}
