#!/usr/bin/env bash
# Events per second of the full Flink job vs a pass-through job (source, parse, one Parquet sink)
# over the same generated input, on a local MiniCluster at parallelism 2.
# Usage: bench/flink/run.sh [events]   (default 300000). Result: bench/results/flink.json
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${1:-300000}"
APP=flink-apps
CLASSPATH_FILE="$APP/target/bench-classpath.txt"

# Build (skipping tests) when sources are newer than the compiled benchmark.
if [[ ! -f "$APP/target/test-classes/dev/tributary/flink/bench/FlinkBenchmark.class" || ! -f "$CLASSPATH_FILE" ]] \
   || [[ -n "$(find "$APP/src" "$APP/pom.xml" -newer "$APP/target/test-classes/dev/tributary/flink/bench/FlinkBenchmark.class" -type f | head -1)" ]]; then
  mvn -B -q -f "$APP/pom.xml" -DskipTests test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
fi

mkdir -p bench/results
OPENS=$(sed -n 's:.*<java17.opens>\(.*\)</java17.opens>.*:\1:p' "$APP/pom.xml")
# shellcheck disable=SC2086
java -Xmx4g $OPENS -Dlog4j2.configurationFile="$APP/src/test/resources/log4j2-test.properties" \
  -cp "$APP/target/test-classes:$APP/target/classes:$(cat "$CLASSPATH_FILE")" \
  dev.tributary.flink.bench.FlinkBenchmark "$EVENTS" bench/results/flink.json
