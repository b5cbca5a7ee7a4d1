#!/usr/bin/env bash
# The main job: installs torchlite with the `lab` extra, builds the widgets and opens JupyterLab on
# the tour notebook, serving on 127.0.0.1. Headless machines get the URL (with its token) printed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup_lib.sh

pip install -e '.[lab]'
build_widgets

# A free port and our own token, so that the URL of the tour itself can be printed up front
# (JupyterLab serves the folder of the notebook it is given: notebooks/).
read -r port token < <(python - <<'PY'
import secrets, socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1], secrets.token_hex(24))
PY
)
args=(notebooks/00_tour.ipynb --ServerApp.ip=127.0.0.1 --ServerApp.port="$port"
      --IdentityProvider.token="$token")
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || args+=(--no-browser)
[ "$(id -u)" -ne 0 ] || args+=(--allow-root)
echo
echo "The torchlite tour: http://127.0.0.1:$port/lab/tree/00_tour.ipynb?token=$token"
echo
exec jupyter lab "${args[@]}" "$@"
