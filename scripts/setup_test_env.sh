#!/usr/bin/env bash
# Installs what the whole test suite needs on a fresh machine (then `python -m pytest` runs it):
# the Python `test` extra, Debian's Chromium for the browser tests, Node.js, and the widget
# bundle (widgets/ -> torchlite/viz/static/). Chromium or Node.js that cannot be installed
# (no apt-get, not root) only warns: the tests that need them then skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup_lib.sh

pip install -e '.[test]'
[ -x /usr/bin/chromium ] || apt_install_missing chromium
build_widgets
