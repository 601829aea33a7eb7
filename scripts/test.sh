#!/usr/bin/env bash
# The test command (`npm test`): everything CI runs, in one go.
#   1. the Python test tools (.venv: cfn-lint, sqlglot)
#   2. a full typecheck of the CDK app, the handlers, the tests and the benchmarks
#   3. jest: config, snapshots, assertions, cdk-nag, cfn-lint, contracts, handlers, and the sandbox
#      (its engines, stand-ins and generator, and end to end on Kafka and Kinesis)
#   4. Maven: builds the Flink jar and runs its MiniCluster tests
# Before jest, Trino (Athena engine v3's engine, for test/trino/) is fetched from Maven Central and
# unpacked once; it runs on Java 24+ (TRINO_JAVA_HOME, else /usr/lib/jvm/temurin-25-jdk-amd64).
# Ends with one line "total: N passed, M failed" across jest and Maven.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-python.sh
bash scripts/require-java.sh

echo "== typecheck"
npx tsc --noEmit -p .

echo "== Trino for test/trino/ (fetched and unpacked once)"
# A failure here (no Java 24+, no network) does not stop the run: test/trino/ then fails with the same message.
node -r ts-node/register/transpile-only test/helpers/trino.ts install || echo "Trino could not be installed; test/trino/ will fail (see above)."

echo "== jest"
results=$(mktemp -d)
jest_status=0
npx jest --ci --json --outputFile="$results/jest.json" || jest_status=$?

echo "== flink-apps (Maven: build the jar, MiniCluster tests)"
maven_status=0
mvn -B -ntp -f flink-apps/pom.xml verify || maven_status=$?

node scripts/test-summary.js "$results/jest.json" flink-apps/target/surefire-reports
[ "$jest_status" -eq 0 ] && [ "$maven_status" -eq 0 ]
