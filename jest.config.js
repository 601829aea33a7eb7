/**
 * Jest runs every TypeScript test under test/ through ts-jest (`npm test`, CI).
 * The fault suite (test/sandbox/faults/) is left out until its open defects are fixed (docs/faults.md,
 * "Not yet in npm test"); `npm run test:faults` runs it (jest.faults.config.js).
 */
const base = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  snapshotSerializers: [],
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/global-setup.ts',
};
module.exports = { ...base, testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/sandbox/faults/'] };
