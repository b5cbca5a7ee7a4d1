"""Vision functions vs PyTorch: pad, interpolate, pixel_shuffle / unshuffle, unfold / fold and
their layers (padding, Upsample, PixelShuffle, Fold / Unfold)."""
import numpy as np
import pytest
import torch

import torchlite
import torchlite.nn.functional as F
from torchlite.autograd import gradcheck, gradgradcheck

from .test_conv import compare_functional, compare_module, same_error

CASES = [
    ("pad", [(2, 3, 4, 5)], ((1, 2, -1, 3),), dict(value=2.5)),
    ("pad", [(2, 3, 4, 5)], ((1, 2, 3, 0, 1, 1),), {}),
    ("pad", [(4, 5)], ((-2, -1),), {}),
    ("pad", [(2, 3, 4, 5)], ((1, 2, 3, 0),), dict(mode="reflect")),
    ("pad", [(3, 5)], ((-1, 2),), dict(mode="reflect")),
    ("pad", [(2, 3, 4, 5, 6)], ((1, 2, 3, 0, 2, 1),), dict(mode="reflect")),
    ("pad", [(2, 3, 4, 5)], ((1, 2, 3, 0),), dict(mode="replicate")),
    ("pad", [(2, 3, 5)], ((4, 1),), dict(mode="replicate")),
    ("pad", [(2, 3, 4, 5, 6)], ((1, 2, 3, 0, 2, 1),), dict(mode="replicate")),
    ("pad", [(2, 3, 4, 5)], ((1, 2, 3, 0),), dict(mode="circular")),
    ("pad", [(3, 5)], ((-1, 2),), dict(mode="circular")),
    ("pad", [(2, 3, 4)], ((4, 3),), dict(mode="circular")),
    ("interpolate", [(2, 3, 5, 7)], (), dict(size=(8, 4))),
    ("interpolate", [(2, 3, 5, 7)], (), dict(scale_factor=2.3)),
    ("interpolate", [(2, 3, 5, 7)], (), dict(scale_factor=(1.7, 0.6), mode="nearest-exact")),
    ("interpolate", [(2, 3, 9)], (), dict(size=4, mode="nearest")),
    ("interpolate", [(2, 3, 5, 7)], (), dict(size=(8, 4), mode="bilinear")),
    ("interpolate", [(2, 3, 5, 7)], (), dict(size=(8, 4), mode="bilinear",
                                             align_corners=True)),
    ("interpolate", [(2, 3, 5, 7)], (), dict(scale_factor=1.5, mode="bilinear")),
    ("interpolate", [(2, 3, 5, 7)], (), dict(scale_factor=1.5, mode="bilinear",
                                             recompute_scale_factor=True)),
    ("interpolate", [(2, 3, 4, 4)], (), dict(size=1, mode="bilinear", align_corners=True)),
    ("interpolate", [(2, 3, 7)], (), dict(scale_factor=2.5, mode="linear")),
    ("interpolate", [(2, 3, 7)], (), dict(size=3, mode="linear", align_corners=True)),
    ("interpolate", [(1, 2, 7, 4, 5)], (), dict(size=(3, 5, 9), mode="trilinear")),
    ("interpolate", [(1, 2, 3, 4, 5)], (), dict(scale_factor=2, mode="nearest")),
    ("interpolate", [(2, 3, 7, 6)], (), dict(size=(3, 4), mode="area")),
    ("interpolate", [(2, 3, 5, 7)], (), dict(size=(8, 4), mode="bicubic")),
    ("interpolate", [(2, 3, 5, 7)], (), dict(scale_factor=1.7, mode="bicubic")),
    ("interpolate", [(1, 2, 5, 7)], (), dict(size=(9, 11), mode="bicubic", align_corners=True)),
    ("pixel_shuffle", [(2, 12, 3, 4)], (2,), {}),
    ("pixel_shuffle", [(5, 2, 18, 3, 4)], (3,), {}),
    ("pixel_shuffle", [(8, 2, 3)], (2,), {}),
    ("pixel_unshuffle", [(2, 3, 4, 6)], (2,), {}),
    ("pixel_unshuffle", [(3, 6, 9)], (3,), {}),
    ("unfold", [(2, 3, 7, 6)], ((3, 2),), dict(dilation=(1, 2), padding=1, stride=(2, 1))),
    ("unfold", [(3, 7, 6)], (2,), {}),
    ("fold", [(2, 12, 20)], ((5, 6), 2), {}),
    ("fold", [(2, 18, 24)], ((7, 6), (3, 2)), dict(dilation=(1, 2), padding=1, stride=(2, 1))),
    ("fold", [(12, 9)], ((4, 4), 2), {}),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,shapes,args,kwargs", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_vision_functional_vs_torch(name, shapes, args, kwargs, dtype):
    compare_functional(name, shapes, *args, dtype=dtype, **kwargs)


def _f64(*shape):
    return torchlite.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)


GRADCHECK = [
    lambda x: F.pad(x, (1, -2, 2, 1), value=1.0),
    lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"),
    lambda x: F.pad(x[0], (2, 1), mode="replicate"),
    lambda x: F.pad(x, (3, 2, 1, 0), mode="circular"),
    lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
    lambda x: F.interpolate(x, size=(7, 3), mode="bilinear", align_corners=True),
    lambda x: F.interpolate(x, scale_factor=2),
    lambda x: F.interpolate(x, size=(7, 4), mode="bicubic"),
    lambda x: F.unfold(x, 2, padding=1, stride=2),
    lambda x: F.fold(x.reshape(1, 4, 15)[:, :, :10], (3, 6), 2),
    lambda x: F.pixel_shuffle(x.reshape(1, 4, 5, 3), 2),
]


@pytest.mark.parametrize("fn", GRADCHECK, ids=[str(i) for i in range(len(GRADCHECK))])
def test_vision_gradcheck_and_gradgradcheck(fn):
    x = _f64(2, 2, 5, 3)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_pad_gradient_of_crop_is_zero_padding():
    x = _f64(2, 5)
    F.pad(x, (-1, -2)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 1, 0, 0]] * 2)


ERRORS = [
    lambda t, f: f.pad(t.ones(1, 2, 3, 4), (1, 2, 3)),
    lambda t, f: f.pad(t.ones(1, 2, 3, 4), (1, 1) * 5),
    lambda t, f: f.pad(t.ones(1, 2, 3, 4), (3, 3), mode="reflect"),
    lambda t, f: f.pad(t.ones(1, 2, 3), (3, 3), mode="reflect"),
    lambda t, f: f.pad(t.ones(3), (1, 1), mode="reflect"),
    lambda t, f: f.pad(t.ones(1, 2, 3, 4), (1, 1), mode="foo"),
    lambda t, f: f.pad(t.ones(1, 2, 3), (4, 1), mode="circular"),
    lambda t, f: f.pad(t.ones(1, 2, 3), (1, 1), mode="reflect", value=2.0),
    lambda t, f: f.pad(t.ones(1, 2, 0), (1, 1), mode="replicate"),
    lambda t, f: f.interpolate(t.ones(1, 2, 3, 4)),
    lambda t, f: f.interpolate(t.ones(1, 2, 3, 4), size=3, scale_factor=2),
    lambda t, f: f.interpolate(t.ones(1, 2, 3, 4), size=3, align_corners=True),
    lambda t, f: f.interpolate(t.ones(1, 2, 3, 4), size=3, mode="linear"),
    lambda t, f: f.interpolate(t.ones(1, 2, 3, 4), size=(3, 4, 5)),
    lambda t, f: f.interpolate(t.ones(1, 2, 3, 4), scale_factor=(3, 4, 5)),
    lambda t, f: f.interpolate(t.ones(1, 2, 3, 4), size=3, mode="foo"),
    lambda t, f: f.interpolate(t.ones(3, 4), size=3),
    lambda t, f: f.interpolate(t.ones(1, 3, 4), size=3, mode="bicubic"),
    lambda t, f: f.pixel_shuffle(t.ones(3, 4), 2),
    lambda t, f: f.pixel_shuffle(t.ones(5, 3, 4), 2),
    lambda t, f: f.pixel_unshuffle(t.ones(4, 3, 4), 2),
    lambda t, f: f.pixel_unshuffle(t.ones(4, 4), 2),
    lambda t, f: f.unfold(t.ones(1, 3, 4), 5),
    lambda t, f: f.unfold(t.ones(1, 3, 4, 4), 5),
    lambda t, f: f.unfold(t.ones(1, 3, 4, 4), 2, stride=0),
    lambda t, f: f.fold(t.ones(1, 11, 9), (4, 4), 2),
    lambda t, f: f.fold(t.ones(1, 12, 8), (4, 4), 2),
    lambda t, f: f.fold(t.ones(1, 1, 12, 9), (4, 4), 2),
]


@pytest.mark.parametrize("program", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_vision_errors_as_torch(program):
    same_error(program)


LAYERS = [
    ("ZeroPad2d(2)", (2, 3, 4, 5)),
    ("ZeroPad2d((1, 2, -1, 3))", (3, 4, 5)),
    ("ZeroPad1d((2, 0))", (2, 3, 4)),
    ("ConstantPad1d(2, 3.5)", (2, 3, 4)),
    ("ConstantPad2d((1, 0, 2, 1), -1.0)", (2, 3, 4, 5)),
    ("ConstantPad3d(1, 0.5)", (1, 2, 3, 3, 2)),
    ("ReflectionPad1d((1, 2))", (2, 3, 5)),
    ("ReflectionPad2d(1)", (2, 3, 4, 5)),
    ("ReflectionPad3d(1)", (1, 2, 3, 3, 2)),
    ("ReplicationPad1d((3, 1))", (3, 4)),
    ("ReplicationPad2d((1, 0, 2, 1))", (2, 3, 4, 5)),
    ("ReplicationPad3d(1)", (1, 2, 3, 3, 2)),
    ("CircularPad1d(2)", (2, 3, 4)),
    ("CircularPad2d((1, 2, 0, 1))", (2, 3, 4, 5)),
    ("Upsample(scale_factor=2)", (2, 3, 4, 5)),
    ("Upsample(size=(3, 7), mode='bilinear', align_corners=True)", (2, 3, 4, 5)),
    ("Upsample(scale_factor=(2, 1.5), mode='bilinear')", (2, 3, 4, 5)),
    ("Upsample(scale_factor=3, mode='linear')", (2, 3, 4)),
    ("Upsample(scale_factor=2, mode='bicubic')", (1, 2, 4, 5)),
    ("UpsamplingNearest2d(scale_factor=2)", (2, 3, 4, 5)),
    ("UpsamplingBilinear2d(size=6)", (2, 3, 4, 5)),
    ("PixelShuffle(2)", (2, 12, 3, 4)),
    ("PixelUnshuffle(2)", (2, 3, 4, 6)),
    ("Unfold(2)", (2, 3, 4, 5)),
    ("Unfold((2, 3), dilation=(2, 1), padding=1, stride=2)", (2, 3, 6, 5)),
    ("Fold((4, 5), 2, padding=1)", (2, 12, 30)),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("spec,shape", LAYERS, ids=[s for s, _ in LAYERS])
def test_vision_layers_vs_torch(spec, shape, dtype):
    compare_module(spec, shape, dtype)


def test_circular_pad_layer_dim_error():
    same_error(lambda t, f: t.nn.CircularPad2d(1)(t.ones(2, 3, 4, 5, 6)))
