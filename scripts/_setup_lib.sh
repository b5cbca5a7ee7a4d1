# Shared by scripts/setup_test_env.sh and scripts/start_lab.sh (sourced, not run).

# apt_install_missing PKG...: installs Debian packages with apt-get (sudo when not root); when that
# is impossible it only warns, because the features that need them then skip and say why.
apt_install_missing() {
    [ $# -gt 0 ] || return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    if command -v apt-get >/dev/null \
        && $sudo apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"; then
        echo "installed: $*"
    else
        echo "WARNING: could not install $*" >&2
    fi
}

# build_widgets: bundles widgets/ (ES modules + Graphviz WebAssembly) into torchlite/viz/static/.
build_widgets() {
    command -v npm >/dev/null || apt_install_missing nodejs npm
    if command -v npm >/dev/null; then
        (cd widgets && npm ci --no-audit --no-fund && npm run build)
    else
        echo "WARNING: no npm: the widgets are not built (torchlite.viz says how to build them)" >&2
    fi
}
