#!/usr/bin/env bash
# Installs what the whole test suite needs on a fresh machine (then `python -m pytest` runs it):
# the Python `test` extra, Debian's Chromium for the browser tests, Node.js, and the widget
# bundle (widgets/ -> torchlite/viz/static/). Chromium or Node.js that cannot be installed
# (no apt-get, not root) only warns: the tests that need them then skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."

pip install -e '.[test]'

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    if command -v apt-get >/dev/null \
        && $sudo apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; then
        echo "installed: ${missing[*]}"
    else
        echo "WARNING: could not install ${missing[*]}: the tests that need them will skip" >&2
    fi
fi

if command -v npm >/dev/null; then
    (cd widgets && npm ci --no-audit --no-fund && npm run build)
fi
