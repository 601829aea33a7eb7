/** The fault suite alone (`npm run test:faults`): see jest.config.js and docs/faults.md. */
const { testPathIgnorePatterns, ...base } = require('./jest.config.js');
module.exports = { ...base, testMatch: ['<rootDir>/test/sandbox/faults/**/*.test.ts'] };
