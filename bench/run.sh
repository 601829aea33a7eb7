#!/usr/bin/env bash
# Runs the benchmarks (all, or the ones named) and writes bench/results/<name>.json.
# Each compares against a baseline measured in the same run, as a ratio, because
# shared machines are noisy: compare ratios across runs, not absolute rates.
#   npm run bench                 # all
#   npm run bench -- handler      # one
#   npm run bench -- handler-profile  # where the handler core's time goes (not part of `all`)
#   npm run bench -- e2e          # the sandbox end to end, ~13 min (flags: see bench/e2e/run.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
all=(handler flink e2e replay)
selected=("${@:-${all[@]}}")
for name in "${selected[@]}"; do
  case "$name" in
    handler) echo "== bench: speed-layer handler"; npx ts-node --prefer-ts-exts bench/handler/run.ts ;;
    handler-profile)
      # Not in `all`: where the handler core's time goes (V8's CPU profiler through --cpu-prof), printed, not written.
      echo "== profile: speed-layer handler core"
      dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
      node --cpu-prof --cpu-prof-dir="$dir" -r ts-node/register/transpile-only bench/handler/profile.ts run
      npx ts-node --transpile-only bench/handler/profile.ts summarize "$dir"/*.cpuprofile ;;
    flink)   echo "== bench: Flink job";           bash bench/flink/run.sh ;;
    e2e)     echo "== bench: sandbox end to end";  npx ts-node --transpile-only bench/e2e/run.ts ;;
    replay)  echo "== bench: Kappa replay";        npx ts-node --transpile-only bench/replay/run.ts ;;
    *) echo "unknown benchmark '$name'; known: ${all[*]}" >&2; exit 2 ;;
  esac
done
