import type { PropertyGroups } from '../flink-application';

/**
 * How far a replay application is behind the head of the log, as a
 * CloudWatch metric search the state machine runs with GetMetricData. The
 * metric is the Flink job's source connector's, so it follows the job's own
 * `Source/type` (flink-apps/property-groups.json), not the event log's kind:
 *
 * - `kinesis`: the Kinesis source connector's `millisBehindLatest`, which
 *   Managed Flink publishes in `AWS/KinesisAnalytics` under the application's
 *   name (one series per level it reports: any of them lagging counts).
 * - `kafka`: the Kafka source commits its offsets to its own consumer group
 *   (`<Kafka/id.prefix>-v<n>`) at each checkpoint, and MSK publishes that
 *   group's `EstimatedMaxTimeLag` (seconds) in `AWS/Kafka`.
 *
 * A search, not a fixed metric, because the dimensions besides the
 * application's or group's name (stream, topic, cluster, shard) are the
 * connector's and the service's to choose.
 */
export interface CatchUpLag {
  /** One line for people: which metric, where. */
  readonly description: string;
  /**
   * A JSONata expression (without `{% %}`) that evaluates to the SEARCH
   * expression for the replay writing version `version`, run by `application`.
   * @param application JSONata expression of the replay application's name
   * @param version JSONata expression of its output version
   */
  search(application: string, version: string): string;
  /** Multiply a value of the metric by this to get seconds. */
  readonly toSeconds: number;
}

/** A string as a JSONata literal (JSONata reads JSON's string escapes). */
export const jsonataString = (text: string): string => JSON.stringify(text);

/** `SEARCH('<term>', 'Maximum', 60)` around a term built in JSONata from literal and computed parts. */
function searchOf(parts: string[]): string {
  return [jsonataString("SEARCH('"), ...parts, jsonataString("', 'Maximum', 60)")].join(' & ');
}

/** The lag metric of a Flink job reading from the source these property groups describe. */
export function catchUpLagFor(groups: PropertyGroups): CatchUpLag {
  const type = groups.Source?.type;
  switch (type) {
    case 'kinesis':
      return {
        description: "the Kinesis source's millisBehindLatest (AWS/KinesisAnalytics, Application=<replay application>)",
        search: (application) => searchOf([
          jsonataString('Namespace="AWS/KinesisAnalytics" MetricName="millisBehindLatest" Application="'), application, jsonataString('"'),
        ]),
        toSeconds: 0.001,
      };
    case 'kafka': {
      const prefix = groups.Kafka?.['id.prefix'];
      if (!prefix) throw new Error('A Kafka source without Kafka/id.prefix: the replay\'s consumer group cannot be named.');
      return {
        description: `the consumer group's EstimatedMaxTimeLag (AWS/Kafka, Consumer Group=${prefix}-v<n>)`,
        search: (_application, version) => searchOf([
          jsonataString(`Namespace="AWS/Kafka" MetricName="EstimatedMaxTimeLag" "Consumer Group"="${prefix}-v`), `$string(${version})`, jsonataString('"'),
        ]),
        toSeconds: 1,
      };
    }
    default:
      throw new Error(`No catch-up lag metric for a Flink source of type '${String(type)}'.`);
  }
}
