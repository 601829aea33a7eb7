import { normalizeAssetHashes, profileNames, synthProfile } from '../helpers/synth';

// One snapshot per stack per profile. Asset hashes are normalized, so a change
// to a handler's code does not churn them; a change to a template does.
describe.each(profileNames())('profile %s', (profile) => {
  const { templates } = synthProfile(profile);
  test.each(Object.keys(templates))('stack %s matches its snapshot', (stack) => {
    expect(normalizeAssetHashes(templates[stack].toJSON())).toMatchSnapshot();
  });
});
