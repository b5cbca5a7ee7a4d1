"""The ways PyTorch lets shape ops be called: keyword names, ``axis=`` for ``dim=``, sizes as
varargs or one sequence, torch.Size. Each call runs on torchlite and torch and must agree."""
import numpy as np
import pytest

import torchlite

CALLS = [
    "lib.cat((x, x), axis=1)", "lib.concat((x,), axis=0)", "lib.stack((x, x), axis=2)",
    "lib.squeeze(x.unsqueeze(0), axis=0)", "lib.unsqueeze(x, axis=1)",
    "x.reshape(shape=(3, 2))", "x.reshape((3, 2))", "x.reshape([3, 2])", "x.reshape(x.shape)",
    "lib.reshape(x, (6,))", "x.view(size=(3, 2))", "x.view(x.T.shape)", "x.view(dtype=lib.int32)",
    "x.permute(dims=(1, 0))", "x.permute([1, 0])", "lib.permute(x, (1, 0))",
    "x.expand(size=(2, 2, 3))", "x.expand(lib.Size([4, 2, 3]))", "x.repeat(repeats=(1, 2))",
    "x.repeat(lib.Size([2, 1]))", "lib.flip(x, dims=(0,))", "x.flip(0, 1)", "x.flip([1])",
    "lib.roll(x, shifts=1, dims=0)", "x.transpose(dim0=0, dim1=1)",
    "lib.swapaxes(x, axis0=0, axis1=1)", "lib.swapdims(x, dim0=0, dim1=1)",
    "lib.split(x, split_size_or_sections=1)", "x.split(split_size=2, dim=1)",
    "x.split([1, 2], 1)", "lib.narrow(x, dim=0, start=0, length=1)",
    "x.flatten(start_dim=1)", "lib.tile(x, dims=(2,))", "x.unfold(dimension=1, size=2, step=1)",
    "x.movedim(source=0, destination=1)", "lib.moveaxis(x, source=0, destination=1)",
    "lib.tensor_split(x, sections=2, dim=1)", "lib.tensor_split(x, indices=[1], axis=1)",
    "lib.tensor_split(x, lib.tensor([1, 2]), dim=1)", "x.chunk(chunks=2)",
    "x.select(dim=0, index=0)", "x.unflatten(dim=1, sizes=(3, 1))", "lib.unbind(x, dim=1)",
    "x.squeeze(dim=(0,))", "lib.hsplit(x, sections=3)", "lib.vsplit(x, indices=[1])",
    "lib.rot90(x, k=1, dims=[0, 1])", "lib.repeat_interleave(x, repeats=2, dim=0)",
    "lib.broadcast_to(x, size=(2, 2, 3))", "lib.broadcast_tensors(x, x[0])",
    "lib.atleast_2d(x[0], x)", "lib.atleast_3d([x])", "lib.column_stack((x, x))",
    "lib.narrow(x, 1, lib.tensor(1), 2)", "x.t()", "lib.t(x)", "x.T", "x.mT", "x.H", "x.mH",
    "x.adjoint()", "x.ravel()", "lib.ravel(x)", "x.view_as(x.T)", "x.reshape_as(x.T)",
    "x.expand_as(lib.ones(4, 2, 3))", "lib.fliplr(x)", "lib.flipud(x)",
    "lib.dstack([x, x])", "lib.vstack([x, x])", "lib.hstack([x, x])", "lib.row_stack((x,))",
]


def _flat(r):
    if isinstance(r, (tuple, list)):
        return [t for item in r for t in _flat(item)]
    return [r]


def _np(t):
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


@pytest.mark.parametrize("call", CALLS)
def test_call_forms_match_torch(call, torch_oracle):
    got = _flat(eval(call, {"lib": torchlite,
                            "x": torchlite.arange(6, dtype=torchlite.float32).reshape(2, 3)}))
    want = _flat(eval(call, {"lib": torch_oracle,
                             "x": torch_oracle.arange(6, dtype=torch_oracle.float32)
                             .reshape(2, 3)}))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape) and str(g.dtype) == str(w.dtype), call
        np.testing.assert_array_equal(_np(g), _np(w), err_msg=call)
