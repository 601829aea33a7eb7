import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIAGRAMS_DIR, diagramSource, profileNames } from '../../scripts/diagrams';

/**
 * The committed architecture diagrams (diagrams/<profile>.mmd) are the ones `npm run diagrams` derives from
 * the synthesized app now: a change to the stacks that moves the picture must come with new diagrams.
 */
describe('architecture diagrams', () => {
  const profiles = profileNames();
  const sources = new Map<string, string>();
  const sourceOf = (profile: string) => sources.get(profile) ?? sources.set(profile, diagramSource(profile)).get(profile)!;

  test('every profile in cdk.json has a diagram and its rendering', () => {
    for (const profile of profiles) {
      expect([profile, fs.existsSync(path.join(DIAGRAMS_DIR, `${profile}.mmd`))]).toEqual([profile, true]);
      expect([profile, fs.existsSync(path.join(DIAGRAMS_DIR, `${profile}.svg`))]).toEqual([profile, true]);
    }
  });

  test.each(profiles)('diagrams/%s.mmd is current (else run `npm run diagrams`)', (profile) => {
    const committed = fs.readFileSync(path.join(DIAGRAMS_DIR, `${profile}.mmd`), 'utf8');
    const current = sourceOf(profile);
    if (committed !== current) {
      throw new Error(`diagrams/${profile}.mmd is stale: the synthesized app has changed. Run \`npm run diagrams\` and commit diagrams/.\n`
        + `--- committed\n${committed}\n--- from the app now\n${current}`);
    }
  });

  test('the default profile shows its stacks, the event log type, the alerts log and the notifier, with data flow', () => {
    const dev = sourceOf('dev');
    expect(dev).toMatch(/subgraph EventLog\["tributary-dev-event-log: event log on Kinesis Data Streams"\]/);
    expect(dev).toContain('Kinesis stream<br/>EventLog/Alerts/Stream');
    expect(dev).toContain('Lambda<br/>Notifier');
    // The alerts log feeds the notifier; the speed layer and Flink write to it; the log feeds the speed layer.
    expect(dev).toMatch(/EventLog_EventLogAlertsStream\w+ -->\|event source\| Alerts_Notifier\w+/);
    expect(dev).toMatch(/SpeedLayer_Handler\w+ --> EventLog_EventLogAlertsStream\w+/);
    expect(dev).toMatch(/StreamProcessing_StreamJobApplication\w+ --> EventLog_EventLogAlertsStream\w+/);
    expect(dev).toMatch(/EventLog_EventLogStream\w+ -->\|event source\| SpeedLayer_Handler\w+/);
    expect(dev).toMatch(/Archive_RawArchive --> Lake_Lake\w+/);
  });
});
