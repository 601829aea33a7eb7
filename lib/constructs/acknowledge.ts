import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on a construct (and what it contains), each
 * with the reason it is right here: `{ 'AwsSolutions-S1': 'why' }`. cdk-nag 3
 * matches findings exactly, one per id: `AwsSolutions-IAM5[Resource::...]`.
 */
export function acknowledge(construct: IConstruct, reasons: Record<string, string>): void {
  for (const [id, reason] of Object.entries(reasons)) Validations.of(construct).acknowledge({ id, reason });
}
