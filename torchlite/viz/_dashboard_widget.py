"""The anywidget view of a ``TrainingDashboard`` (points arrive as custom messages)."""
try:
    import anywidget
    import traitlets
except ImportError as e:  # the `lab` extra
    raise ImportError("the TrainingDashboard view needs anywidget: pip install 'torchlite[lab]'"
                      ) from e

from ._static import DASHBOARD_BUNDLE, bundle


class DashboardWidget(anywidget.AnyWidget):
    """Loss/metric curves, gradient-norm heat strip, parameter table and alerts. The page asks
    for the whole history when it renders ({"event": "sync"}), then receives appends."""

    params = traitlets.List(traitlets.Unicode()).tag(sync=True)
    activations = traitlets.List(traitlets.Unicode()).tag(sync=True)
    every = traitlets.Int(10).tag(sync=True)
    _esm = traitlets.Unicode().tag(sync=True)

    @traitlets.default("_esm")
    def _bundle_text(self):
        return bundle(DASHBOARD_BUNDLE).read_text("utf-8")
