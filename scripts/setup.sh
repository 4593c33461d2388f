#!/usr/bin/env bash
# Install everything Rezonans needs on a fresh Debian machine (idempotent): system packages, the Python
# package with its test extras, and the Elasticsearch distribution (fetched with mvn, cached).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v runuser >/dev/null 2>&1 || need_apt+=(util-linux)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# PDF reports: WeasyPrint (the Python wheel) renders with Debian's pango; DejaVu fonts carry Cyrillic;
# poppler-utils (pdftoppm, pdftotext, pdfinfo) lets the tests look at the PDF.
for pkg in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)              # browser tests of `rezonans serve`
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages first: ${need_apt[*]}" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
echo "setup: installing the rezonans Python package"
"$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore -e '.[test,train,redis]'
echo "setup: fetching Elasticsearch (cached after the first time)"
rezonans es install
