/** Jest runs every TypeScript test under test/ through ts-jest. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': 'ts-jest' },
  snapshotSerializers: [],
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/global-setup.ts',
};
