#!/usr/bin/env bash
# Creates .venv with the pinned Python test tools, or refreshes it when
# requirements-dev.txt changed. Idempotent; safe to run before every test run.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
  echo "setup-python: $python not found. Install Python 3.10+ (Debian: apt-get install python3 python3-venv)." >&2
  exit 1
fi
stamp=.venv/.requirements.sha256
wanted=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
  exit 0
fi
echo "setup-python: installing requirements-dev.txt into .venv" >&2
"$python" -m venv .venv || { echo "setup-python: could not create .venv (Debian: apt-get install python3-venv)." >&2; exit 1; }
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
echo "$wanted" > "$stamp"
