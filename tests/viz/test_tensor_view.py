"""TensorView: summary stats vs NumPy, text/HTML reprs, PNG heatmap and image grid."""
import base64
import re
import struct
import zlib

import numpy as np
import pytest

import torchlite as torch
from torchlite.viz import TensorView
from torchlite.viz.tensor_view import heat_rgb, image_grid, png_bytes


def _decode_png(data):
    """(H, W, 3) uint8 of an unfiltered 8-bit RGB PNG (what png_bytes writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    i = data.index(b"IDAT")
    n = struct.unpack(">I", data[i - 4:i])[0]
    raw = np.frombuffer(zlib.decompress(data[i + 4:i + 4 + n]), np.uint8).reshape(h, -1)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(h, w, 3)


def test_stats_match_numpy():
    a = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32)
    a[0, :3] = 0
    a[1, 1], a[2, 2], a[3, 3] = np.nan, np.inf, -np.inf
    s = TensorView(torch.tensor(a)).stats
    fin = a[np.isfinite(a)].astype(np.float64)
    assert (s["numel"], s["nan"], s["inf"], s["zeros"]) == (35, 1, 2, 3)
    assert s["min"] == fin.min() and s["max"] == fin.max()
    assert s["mean"] == pytest.approx(fin.mean()) and s["std"] == pytest.approx(fin.std())


def test_summary_line():
    t = torch.tensor([[1.0, -2.0], [0.0, float("nan")]], requires_grad=True)
    text = repr(t.viz())
    assert text.startswith("tensor[2, 2] f32 n=4 x∈[-2, 1] μ=-0.3333 σ=1.247 NaN!×1")
    assert "zeros=25.0%" in text and "grad" in text
    assert "[1.0, -2.0, 0.0, nan]" in text          # tiny tensors show their values
    big = repr(TensorView(torch.zeros(3, 20, dtype=torch.int64)))
    assert big == "tensor[3, 20] i64 n=60 x∈[0, 0] μ=0 σ=0 zeros=100.0%"
    assert repr(TensorView(torch.ones(0, 3))) == "tensor[0, 3] f32 n=0"


def test_html_and_mimebundle():
    t = torch.randn(4, 6)
    bundle = t.viz()._repr_mimebundle_()
    assert bundle["text/plain"] == repr(t.viz())
    html = bundle["text/html"]
    assert "tensor[4, 6]" in html
    src = re.search(r'src="data:image/png;base64,([^"]+)"', html)[1]
    img = _decode_png(base64.b64decode(src))
    assert img.shape == (4, 6, 3)
    assert 'width="96" height="64"' in html     # small tensors drawn 16x (pixelated)
    assert "<img" not in TensorView(torch.randn(2, 3, 4))._repr_html_()   # no picture for 3-D
    assert "&lt;" not in html


def test_heatmap_colours():
    rgb = heat_rgb(np.array([[-2.0, 0.0, 2.0, np.nan]]))
    assert rgb[0, 1].tolist() == [255, 255, 255]          # zero is white in a diverging map
    assert rgb[0, 0].tolist() == [33, 102, 172] and rgb[0, 2].tolist() == [178, 24, 43]
    assert rgb[0, 3].tolist() == [216, 27, 96]            # NaN magenta
    seq = heat_rgb(np.array([[0.0, 1.0]]))
    assert seq[0, 0].tolist() == [247, 251, 255] and seq[0, 1].tolist() == [8, 48, 107]


def test_large_heatmap_is_subsampled():
    png = TensorView(torch.randn(1000, 10)).image_png()
    assert _decode_png(png).shape == (250, 10, 3)


def test_image_grid_4d():
    x = np.zeros((3, 1, 2, 2), np.float32)
    x[1] = 1.0
    grid = image_grid(x, gap=1)
    assert grid.shape == (2, 2 * 3 + 2, 3)
    assert grid[0, 0].tolist() == [0, 0, 0] and grid[0, 3].tolist() == [255, 255, 255]
    assert grid[0, 2].tolist() == [255, 255, 255]          # the gap
    rgb = np.random.default_rng(1).random((20, 3, 5, 5)).astype(np.float32)
    img = _decode_png(TensorView(torch.tensor(rgb)).image_png())
    assert img.shape == (2 * 5 + 2, 8 * 5 + 7 * 2, 3)     # first 16 images, 8 per row
    lo, hi = rgb[:16].min(), rgb[:16].max()
    want = np.rint((rgb[9].transpose(1, 2, 0) - lo) / (hi - lo) * 255)
    np.testing.assert_allclose(img[7:12, 7:12], want, atol=1)


def test_png_roundtrip():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    np.testing.assert_array_equal(_decode_png(png_bytes(rgb)), rgb)


def test_rejects_non_tensor():
    with pytest.raises(TypeError, match="TensorView expects a Tensor"):
        TensorView(np.zeros(3))
