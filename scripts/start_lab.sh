#!/usr/bin/env bash
# The main job: installs torchlite with the `lab` extra, builds the widgets and opens JupyterLab on
# the tour notebook, serving on 127.0.0.1. Headless machines get the URL (with its token) printed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup_lib.sh

pip install -e '.[lab]'
build_widgets

args=(notebooks/00_tour.ipynb --ServerApp.ip=127.0.0.1)
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || args+=(--no-browser)
[ "$(id -u)" -ne 0 ] || args+=(--allow-root)
exec jupyter lab "${args[@]}" "$@"
