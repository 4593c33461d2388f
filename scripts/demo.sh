#!/usr/bin/env bash
# Set everything up, then run the demo: local Elasticsearch, crawl of a bundled site on 127.0.0.1,
# analysis, indexing and the weekly report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
rezonans demo "$@"
