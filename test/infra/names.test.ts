import { platformNames } from '../../lib/names';
import { synthProfile } from '../helpers/synth';

/**
 * lib/names.ts is where the stacks and the sandbox take the names they share from: what each profile
 * deploys is exactly what the module gives for the profile's name (the sandbox's archiver names its
 * error records' database and its objects from the same module: test/sandbox/archiver.test.ts).
 */

const resourcesOf = (template: { toJSON(): any }, type: string) => Object.values(template.toJSON().Resources as Record<string, any>).filter((r) => r.Type === type);

describe.each(['dev', 'prod'])('profile %s deploys the names of lib/names.ts', (profile) => {
  const { config, templates } = synthProfile(profile);
  const names = platformNames(config.name);

  test('the lake database, the raw archive and the Flink application', () => {
    expect(resourcesOf(templates.Lake, 'AWS::Glue::Database').map((r) => r.Properties.DatabaseInput.Name)).toEqual([names.lakeDatabase]);
    expect(resourcesOf(templates.Archive, 'AWS::KinesisFirehose::DeliveryStream').map((r) => r.Properties.DeliveryStreamName)).toEqual([names.rawArchive]);
    expect(resourcesOf(templates.StreamProcessing, 'AWS::KinesisAnalyticsV2::Application').map((r) => r.Properties.ApplicationName)).toEqual([
      names.streamApplication(config.streamProcessing.outputVersion),
    ]);
  });

  test('a name with a dash gives the database Athena can read', () => {
    expect(platformNames('tributary-dev').lakeDatabase).toBe('tributary_dev_lake');
  });
});
