"""``TensorView``: a rich repr of one tensor in the style of lovely-tensors.

A summary line (shape, dtype, device, min/max/mean/std, NaN/Inf counts, fraction of zeros) as
text/plain and text/html; a heatmap for 2-D tensors and an image grid for 4-D batches
(N, C, H, W with C in 1 or 3) as inline PNGs encoded with NumPy and zlib only. The numbers are
computed where the tensor lives; only the pixels drawn (a subsampled heatmap, the images shown)
and a small tensor's values are copied to the host.

``import torchlite.viz`` attaches ``Tensor.viz()``, which returns a ``TensorView``.
"""
import base64
import html
import struct
import zlib

import numpy as np

from .._tensor import Tensor
from ..graph.values import array_stats, to_host

MAX_IMAGES = 16      # images shown from a 4-D batch
MAX_PIXELS = 256     # longest side of a heatmap before it is subsampled
SHOW_VALUES = 10     # tensors with at most this many elements also show their values
_DTYPE_SHORT = {"float32": "f32", "float64": "f64", "float16": "f16", "bfloat16": "bf16",
                "int64": "i64", "int32": "i32", "int16": "i16", "int8": "i8", "uint8": "u8",
                "bool": "bool", "complex64": "c64", "complex128": "c128"}


def _g(x):
    return "–" if x is None else f"{x:.4g}" if isinstance(x, float) else str(x)


def png_bytes(rgb):
    """A PNG file of an (H, W, 3) uint8 array (8-bit RGB, no filtering)."""
    h, w, _ = rgb.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + chunk(b"IEND", b""))


def heat_rgb(a):
    """Colours of a 2-D float array: diverging blue-white-red around 0 when it has both signs,
    else white-to-dark-blue over its range; NaN/Inf are magenta."""
    a = np.asarray(a, np.float64)
    ok = np.isfinite(a)
    vals = a[ok]
    lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
    if lo < 0 < hi:
        t = np.where(ok, a, 0) / max(-lo, hi)                       # in [-1, 1]
        white = np.array([255.0, 255, 255])
        cold, warm = np.array([33.0, 102, 172]), np.array([178.0, 24, 43])
        m = np.abs(t)[..., None]
        rgb = np.where((t < 0)[..., None], white + (cold - white) * m, white + (warm - white) * m)
    else:
        t = (np.where(ok, a, lo) - lo) / ((hi - lo) or 1.0)
        rgb = np.array([247.0, 251, 255]) + (np.array([8.0, 48, 107]) - [247, 251, 255]) * t[
            ..., None]
    rgb[~ok] = (216, 27, 96)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def image_grid(batch, max_images=MAX_IMAGES, gap=2):
    """An (H', W', 3) uint8 grid of the first ``max_images`` images of an (N, C, H, W) float
    batch (C in 1 or 3), scaled together from [min, max] to [0, 255]; NaN/Inf are magenta."""
    x = np.asarray(batch[:max_images], np.float64)
    n, c, h, w = x.shape
    ok = np.isfinite(x)
    vals = x[ok]
    lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
    img = np.clip((np.where(ok, x, lo) - lo) / ((hi - lo) or 1.0) * 255, 0, 255)
    img = np.rint(img).astype(np.uint8).transpose(0, 2, 3, 1)      # N, H, W, C
    if c == 1:
        img = np.repeat(img, 3, axis=3)
    img[~ok.all(axis=1)] = (216, 27, 96)
    cols = min(n, 8)
    rows = -(-n // cols)
    grid = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, 3), 255, np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        grid[r * (h + gap):r * (h + gap) + h, k * (w + gap):k * (w + gap) + w] = img[i]
    return grid


class TensorView:
    """Rich display of a tensor: ``TensorView(t)`` or ``t.viz()``. ``stats`` has the numbers
    of the summary (over finite entries; std is the population std, like NumPy's)."""

    def __init__(self, tensor, max_images=MAX_IMAGES):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"TensorView expects a Tensor, got {type(tensor).__name__}")
        self.tensor, self.max_images = tensor, max_images
        arr = tensor._data
        if arr.dtype.kind == "V":            # bfloat16 and friends: stats in float32
            arr = tensor.detach().float()._data
        if arr.dtype.kind == "b":
            arr = arr.astype(tensor._device.xp.uint8)
        self._arr = arr                      # on the tensor's device
        self.stats = array_stats(arr, tensor._device.xp)

    @property
    def dtype_name(self):
        return str(self.tensor.dtype).rsplit(".", 1)[-1]

    def summary(self):
        """The one-line summary, e.g. ``tensor[3, 4] f32 n=12 x∈[-1.2, 2.3] μ=0.1 σ=0.9``."""
        t, s = self.tensor, self.stats
        shape = "[" + ", ".join(str(d) for d in t.shape) + "]"
        parts = [f"tensor{shape}", _DTYPE_SHORT.get(self.dtype_name, self.dtype_name),
                 f"n={s['numel']}"]
        if s["min"] is not None:
            parts.append(f"x∈[{_g(s['min'])}, {_g(s['max'])}]")
            parts.append(f"μ={_g(s['mean'])} σ={_g(s['std'])}")
        if s["nan"]:
            parts.append(f"NaN!×{s['nan']}")
        if s["inf"]:
            parts.append(f"Inf!×{s['inf']}")
        if s["numel"]:
            parts.append(f"zeros={s['zeros'] / s['numel']:.1%}")
        if t.requires_grad:
            parts.append("grad")
        if t.device.type != "cpu":
            parts.append(str(t.device))
        if 0 < s["numel"] <= SHOW_VALUES:
            parts.append(str(to_host(self._arr).reshape(-1).tolist()))
        return " ".join(parts)

    def image_png(self):
        """PNG bytes of the heatmap (2-D) or image grid (4-D, C in 1/3); None otherwise."""
        a, shape = self._arr, tuple(self.tensor.shape)
        if a.dtype.kind == "c" or 0 in shape:
            return None
        if len(shape) == 2:
            step = [max(1, -(-d // MAX_PIXELS)) for d in shape]
            return png_bytes(heat_rgb(to_host(a[::step[0], ::step[1]])))
        if len(shape) == 4 and shape[1] in (1, 3):
            return png_bytes(image_grid(to_host(a[:self.max_images]), self.max_images))
        return None

    def __repr__(self):
        return self.summary()

    def _repr_html_(self):
        text = f"<code>{html.escape(self.summary())}</code>"
        png = self.image_png()
        if png is None:
            return f'<div class="tl-tensor-view">{text}</div>'
        h, w = struct.unpack(">II", png[16:24])[::-1]
        scale = max(1, min(16, 256 // max(h, w)))     # small tensors drawn larger, pixelated
        src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        return (f'<div class="tl-tensor-view">{text}<br><img src="{src}" width="{w * scale}" '
                f'height="{h * scale}" style="image-rendering:pixelated" alt="tensor image">'
                "</div>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": self.summary(), "text/html": self._repr_html_()}


def viz(self, **options):
    """A ``TensorView`` of this tensor (rich display in notebooks)."""
    return TensorView(self, **options)


Tensor.viz = viz
