import { z } from 'zod';

/**
 * The pieces every function's environment schema is made of, and the one way each function reads its
 * environment: parse it whole at init, or fail naming every missing or invalid variable.
 */

/** An S3 key prefix without leading or trailing slash ("speed", "deadletter/speed"). */
export const keyPrefix = z
  .string()
  .regex(/^[A-Za-z0-9!_.*'()=-]+(\/[A-Za-z0-9!_.*'()=-]+)*$/, 'must be an S3 key prefix without leading or trailing "/"');

export const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name');

export const snsTopicArn = z.string().regex(/^arn:[a-z-]+:sns:[a-z0-9-]*:\d*:[A-Za-z0-9_-]+(\.fifo)?$/, 'must be an SNS topic ARN');

/** Powertools: TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL or SILENT (any case). */
export const powertoolsLogLevel = z
  .string()
  .transform((level) => level.toUpperCase())
  .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']));

/** Parse `source` with `schema`, or throw `<what> environment: A is not set; B is invalid: ...`. */
export function parseEnvironment<S extends z.ZodType>(what: string, schema: S, source: Record<string, string | undefined>): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    return source[name] === undefined ? `${name} is not set` : `${name} is invalid: ${issue.message}`;
  });
  throw new Error(`${what} environment: ${problems.join('; ')}`);
}
