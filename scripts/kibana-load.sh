#!/usr/bin/env bash
# Load Rezonans's Kibana saved objects (data view over the article alias, dashboard of volume, tone and share of
# voice) into a running Kibana: bash scripts/kibana-load.sh [KIBANA_URL] [INDEX_PREFIX]
set -euo pipefail
cd "$(dirname "$0")/.."
url=${1:-http://127.0.0.1:5601}
prefix=${2:-${REZONANS_INDEX_PREFIX:-rezonans}}
tmp=$(mktemp --suffix=.ndjson)
trap 'rm -f "$tmp"' EXIT
sed "s/\"title\": \"rezonans-articles\"/\"title\": \"${prefix}-articles\"/" kibana/rezonans.ndjson > "$tmp"
curl -fsS -X POST "$url/api/saved_objects/_import?overwrite=true" -H "kbn-xsrf: true" --form "file=@$tmp"
echo
