// Prints one closing line across both test runners: "total: N passed, M failed".
// Usage: node scripts/test-summary.js <jest --json output> <surefire reports dir>
const fs = require('node:fs');
const path = require('node:path');

const [jestFile, surefireDir] = process.argv.slice(2);
let passed = 0;
let failed = 0;

if (fs.existsSync(jestFile)) {
  const jest = JSON.parse(fs.readFileSync(jestFile, 'utf8'));
  passed += jest.numPassedTests;
  failed += jest.numFailedTests + jest.numRuntimeErrorTestSuites;
} else {
  failed += 1; // jest did not even write its report
}

if (fs.existsSync(surefireDir)) {
  for (const file of fs.readdirSync(surefireDir).filter((f) => /^TEST-.*\.xml$/.test(f))) {
    const head = fs.readFileSync(path.join(surefireDir, file), 'utf8').match(/<testsuite [^>]*>/)?.[0] ?? '';
    const count = (name) => Number(head.match(new RegExp(`\\b${name}="(\\d+)"`))?.[1] ?? 0);
    const bad = count('failures') + count('errors');
    passed += count('tests') - bad - count('skipped');
    failed += bad;
  }
} else {
  failed += 1; // Maven produced no test reports at all
}

console.log(`total: ${passed} passed, ${failed} failed`);
