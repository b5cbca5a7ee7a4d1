"""The torchlite widgets on static pages, offline: the myst-nb renderer of the widgets' static
view (``application/vnd.torchlite.view+json``, see ``torchlite/viz/_static_repr.py``).

Each view becomes a ``<div class="torchlite-static-view">`` holding its saved state as JSON;
pages that have one load ``_static/static_views.js`` (copied from ``torchlite/viz/static/``),
which runs the widget's own front end on that state. myst-nb finds mime renderers through the
``myst_nb.mime_renderers`` entry point: ``docs/_ext/torchlite_docs-0.dist-info`` declares it.
"""
import html
import json

from docutils import nodes

from torchlite.viz._static import bundle
from torchlite.viz._static import STATIC_VIEWS_BUNDLE
from torchlite.viz._static_repr import STATIC_MIME

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CSS_CLASS = "torchlite-static-view"


def view_html(payload):
    """The element the bundle mounts: the view's name and its state as inline JSON."""
    data = json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    return (f'<div class="{CSS_CLASS}" data-view="{html.escape(payload["view"])}">'
            f'<script type="application/json">{data}</script></div>')


class StaticViewRenderer:
    """myst-nb mime render plugin: the static view first on HTML pages; the live widget view
    (which needs a widget manager from a CDN) is never used there."""

    mime_priority_overrides = [("html", STATIC_MIME, 1), ("html", WIDGET_MIME, None),
                               ("dirhtml", STATIC_MIME, 1), ("dirhtml", WIDGET_MIME, None)]

    @staticmethod
    def handle_mime(renderer, data, inline):
        if data.mime_type != STATIC_MIME:
            return None
        return [nodes.raw("", view_html(data.content), format="html", classes=["output"])]


def _add_bundle(app, pagename, templatename, context, doctree):
    if CSS_CLASS in context.get("body", ""):
        app.add_js_file("static_views.js", loading_method="defer")


def _add_static_path(app, config):
    config.html_static_path.append(str(bundle(STATIC_VIEWS_BUNDLE)))


def setup(app):
    app.connect("config-inited", _add_static_path)
    app.connect("html-page-context", _add_bundle)
