"""Dropout layers and functionals: masks' statistics and structure (random streams differ from
PyTorch's), scaling, gradients equal to the mask, eval mode, inplace, reprs, errors."""
import math
import warnings

import numpy as np
import pytest

import torchlite
import torchlite.nn.functional as TF

from .helpers import same_program

FEATURE = [("dropout1d", (8, 16, 5)), ("dropout2d", (8, 16, 3, 3)),
           ("dropout3d", (4, 16, 2, 2, 3))]


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_and_gradient(p):
    x = torchlite.ones(200, 500, requires_grad=True)
    out = TF.dropout(x, p)
    kept = out.detach().numpy() != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(out.detach().numpy()[kept], 1 / (1 - p), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())


@pytest.mark.parametrize("name,shape", FEATURE)
def test_feature_dropout_zeroes_whole_channels(name, shape):
    x = torchlite.ones(*shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = getattr(TF, name)(x, 0.5).numpy()
    per_channel = out.reshape(shape[0], shape[1], -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7


@pytest.mark.parametrize("name,shape", [("dropout1d", (16, 5)), ("dropout3d", (16, 2, 2, 3))])
def test_feature_dropout_unbatched(name, shape):
    out = getattr(TF, name)(torchlite.ones(*shape), 0.5).numpy().reshape(shape[0], -1)
    assert ((out == 0).all(-1) | (out == 2).all(-1)).all()


def test_alpha_dropout_keeps_mean_and_variance():
    x = torchlite.randn(400, 500, dtype=torchlite.float64)
    out = TF.alpha_dropout(x, 0.3, training=True).numpy()
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02
    values = np.unique(np.round(out[np.isclose(out, out.min())], 6))
    assert len(values) >= 1


def test_alpha_dropout_values_as_torch():
    """Dropped units take a' = -a * alpha * (1 - p) ... exactly PyTorch's two values for a
    constant input."""
    import torch
    x = np.full(1000, 2.0)
    ours = np.unique(np.round(TF.alpha_dropout(torchlite.tensor(x), 0.4, True).numpy(), 10))
    theirs = np.unique(np.round(torch.nn.functional.alpha_dropout(torch.tensor(x), 0.4,
                                                                  True).numpy(), 10))
    np.testing.assert_allclose(ours, theirs)
    ours = np.unique(np.round(TF.feature_alpha_dropout(torchlite.ones(50, 20, 2), 0.4,
                                                       True).numpy(), 6))
    theirs = np.unique(np.round(torch.nn.functional.feature_alpha_dropout(
        torch.ones(50, 20, 2), 0.4, True).numpy(), 6))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("fn", ["dropout", "alpha_dropout", "dropout1d", "dropout2d"])
def test_identity_when_not_training_or_p_zero(fn):
    x = torchlite.randn(4, 3, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout2d's 3-D input warning
        assert getattr(TF, fn)(x, 0.5, training=False) is x
        out = getattr(TF, fn)(x, 0.0, training=True)
    np.testing.assert_array_equal(out.numpy(), x.numpy())


def test_p_one_gives_zeros_and_zero_gradient():
    same_program(lambda lib: _p_one(lib))


def _p_one(lib):
    x = lib.ones(3, 4, requires_grad=True)
    out = lib.nn.functional.dropout(x, 1.0)
    out.sum().backward()
    return out, x.grad


def test_inplace_dropout():
    x = torchlite.ones(50, 50)
    out = TF.dropout(x, 0.5, inplace=True)
    assert out is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


@pytest.mark.parametrize("name,shape", [
    ("Dropout", (2, 3, 4)), ("Dropout1d", (2, 8, 4)), ("Dropout2d", (2, 8, 4, 4)),
    ("Dropout3d", (2, 8, 4, 4, 4)), ("AlphaDropout", (2, 3, 4)),
    ("FeatureAlphaDropout", (2, 8, 4, 4))])
def test_module_train_eval_and_repr(name, shape):
    same_program(lambda lib: (repr(getattr(lib.nn, name)()),
                              repr(getattr(lib.nn, name)(0.2, True))))
    m = getattr(torchlite.nn, name)(0.5).eval()
    x = torchlite.randn(*shape)
    assert m(x) is x
    m.train()
    assert (m(x).numpy() != x.numpy()).any()


ERRORS = [
    lambda lib: lib.nn.functional.dropout(lib.randn(3), 1.5),
    lambda lib: lib.nn.functional.dropout(lib.randn(3), -0.1),
    lambda lib: lib.nn.functional.alpha_dropout(lib.randn(3), -1),
    lambda lib: lib.nn.functional.dropout1d(lib.randn(2, 3, 4, 5)),
    lambda lib: lib.nn.functional.dropout2d(lib.randn(2, 3, 4, 5), 2.0),
    lambda lib: lib.nn.Dropout(1.5),
    lambda lib: lib.nn.Dropout2d(-0.5),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    assert same_program(ERRORS[index])[0] == "raised"


@pytest.mark.parametrize("fn,shape,match", [
    ("dropout2d", (2, 3), "Received a 2-D input to dropout2d"),
    ("dropout2d", (2, 3, 4), "Received a 3D input to dropout2d"),
    ("dropout3d", (2, 3, 4), "Received a 3-D input to dropout3d"),
])
def test_dimension_warnings(fn, shape, match):
    with pytest.warns(UserWarning, match=match):
        getattr(TF, fn)(torchlite.randn(*shape))


def test_mask_scale_is_exact():
    out = TF.dropout(torchlite.ones(1000, dtype=torchlite.float64), 0.3).numpy()
    assert set(np.unique(out)) <= {0.0, 1 / 0.7}
    assert math.isclose(out.max(), 1 / 0.7)
