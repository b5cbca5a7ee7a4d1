"""The built front-end bundles (``widgets/`` -> ``torchlite/viz/static/``)."""
from pathlib import Path

STATIC = Path(__file__).parent / "static"
WIDGET_BUNDLE = STATIC / "graph_view.js"
STANDALONE_BUNDLE = STATIC / "graph_view_standalone.js"
STEPPER_BUNDLE = STATIC / "stepper.js"
DASHBOARD_BUNDLE = STATIC / "dashboard.js"
STATIC_VIEWS_BUNDLE = STATIC / "static_views.js"
BUNDLES = (WIDGET_BUNDLE, STANDALONE_BUNDLE, STEPPER_BUNDLE, DASHBOARD_BUNDLE,
           STATIC_VIEWS_BUNDLE)  # everything widgets/build.mjs writes


def bundle(path):
    """The path of a built bundle; a FileNotFoundError telling how to build it when missing."""
    if not path.is_file():
        raise FileNotFoundError(
            f"torchlite.viz front end not built: {path} is missing. Build it from the "
            "repository root with `cd widgets && npm ci && npm run build` (needs Node.js >= 18), "
            "or run `bash scripts/setup_test_env.sh`.")
    return path
