"""A static copy of a widget's display, for pages that have no widget manager (the docs).

A widget's display data gets one more entry, ``STATIC_MIME``: ``{"view": name, "state": {...}}``,
the traits its front end starts from. JupyterLab does not know the type and keeps rendering the
live widget; the docs' renderer (``docs/_ext``) runs the same front end on the saved state
(``_static.STATIC_VIEWS_BUNDLE``), so the graph is drawn and can be explored on a static page,
offline. Large states are left out (the notebook stores them): the page then shows the text.
"""
import base64
import json

STATIC_MIME = "application/vnd.torchlite.view+json"
MAX_STATIC_BYTES = 250_000


def add_static_view(bundle, view, state):
    """``bundle`` (a ``_repr_mimebundle_`` result: a dict or a (data, metadata) pair) with the
    static view of ``state`` added, unless its JSON is larger than ``MAX_STATIC_BYTES``."""
    data = display_data(bundle)
    if data is None:
        return bundle
    payload = {"view": view, "state": state}
    if len(json.dumps(payload, separators=(",", ":"))) <= MAX_STATIC_BYTES:
        data[STATIC_MIME] = payload
    return bundle


def display_data(bundle):
    """The mime-type dict of a ``_repr_mimebundle_`` result (a dict or a (data, metadata) pair)."""
    return bundle[0] if isinstance(bundle, tuple) else bundle


def sync_reply(content, buffers):
    """The message a view's ``{"event": "sync"}`` request gets, saved for the static page
    (which replays it): its content and its binary buffers in base64."""
    return {"content": content,
            "buffers": [base64.b64encode(bytes(b)).decode("ascii") for b in buffers]}


class StaticView:
    """Mixin for anywidget classes: adds the static view of the traits named in
    ``_static_traits`` to the display data; ``_static_view`` names the front end."""

    _static_view = ""
    _static_traits = ()

    def _static_state(self):
        return {name: getattr(self, name) for name in self._static_traits}

    def _repr_mimebundle_(self, **kwargs):
        return add_static_view(super()._repr_mimebundle_(**kwargs), self._static_view,
                               self._static_state())
