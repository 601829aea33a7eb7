#!/usr/bin/env bash
# Fails with how to install them when Java 17+ or Maven is missing: the Flink jobs need both.
set -euo pipefail
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  echo "Java 17+ and Maven are needed to build and test flink-apps/." >&2
  echo "  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jdk-headless maven" >&2
  echo "  macOS:         brew install openjdk@17 maven" >&2
  exit 1
fi
major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
if [ "${major%%.*}" -lt 17 ]; then
  echo "Java $major found; flink-apps/ needs Java 17 or newer (Managed Service for Apache Flink runs Java 17)." >&2
  exit 1
fi
