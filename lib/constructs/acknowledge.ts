import { Aws, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on a construct (and what it contains), each
 * with the reason it is right here: `{ 'AwsSolutions-S1': 'why' }`. cdk-nag 3
 * matches findings exactly, one per id: `AwsSolutions-IAM5[Resource::...]`.
 */
export function acknowledge(construct: IConstruct, reasons: Record<string, string>): void {
  for (const [id, reason] of Object.entries(reasons)) Validations.of(construct).acknowledge({ id, reason });
}

/** Partition, region and account, for building an ARN or a bucket name. */
export interface PseudoParameters {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** As they resolve when deployed. */
export const DEPLOYED: PseudoParameters = { partition: Aws.PARTITION, region: Aws.REGION, account: Aws.ACCOUNT_ID };

/** As cdk-nag prints them in finding ids, so an ARN builder can name the finding it acknowledges. */
export const AS_PRINTED: PseudoParameters = { partition: '<AWS::Partition>', region: '<AWS::Region>', account: '<AWS::AccountId>' };
