#!/usr/bin/env bash
# Set everything up, check style (ruff, mypy), start the local Elasticsearch if none answers, run the whole
# test suite, stop what we started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "test: ruff check, ruff format --check, mypy"
ruff check --quiet .
ruff format --check --quiet .
mypy

started=0
if ! rezonans es status >/dev/null 2>&1; then
  rezonans es start
  started=1
fi
cleanup() { if [ "$started" = 1 ]; then rezonans es stop || true; fi; }
trap cleanup EXIT

set +e
python3 -m pytest "$@"
rc=$?
set -e
exit $rc
