"""Every row of the op-spec table names its autograd nodes as PyTorch 2.13 does.

Each row's first sample runs in both libraries on float64 inputs that require grad (the row's
first dtype where it has no float64); the ``grad_fn.name()`` of every output must agree (None
where an output has no node). Rows that differ are listed below, each with its reason, as
strict xfails: a fix flips its test to a failure until the row leaves the list.
"""
import collections
import warnings

import numpy as np
import pytest

import torchlite

from ..ops.opspec import outputs_of, to_torch, to_torchlite
from ..ops.specs import all_specs
from .helpers import same_program

# Rows that still differ: PyTorch's floor_divide has no derivative, and its sgn of a real
# tensor is sign.
OTHER_FAMILIES = {
    "floor_divide": "PyTorch's floor_divide is not differentiable (NotImplemented)",
    "sgn": "SgnBackward0 vs SignBackward0 (sgn of a real tensor is sign)",
}

# Deliberate differences (docs/differences.md, "Autograd node names").
DELIBERATE = {
    # PyTorch composes these of other ops and shows the last one (a view, a division, a where,
    # an index_select); torchlite records one readable node for the whole op.
    "einsum": "EinsumBackward0 vs ViewBackward0",
    "inner": "EinsumBackward0 vs ViewBackward0",
    "tensordot": "EinsumBackward0 vs ViewBackward0",
    "logdet": "slogdet's log|det| + log(sign): AddBackward0 vs WhereBackward0",
    "nanmean": "NanmeanBackward0 vs DivBackward0",
    "nanmean_float64": "NanmeanBackward0 vs DivBackward0",
    "repeat_interleave": "RepeatInterleaveBackward0 vs ViewBackward0",
    "repeat_interleave_tensor": "RepeatInterleaveBackward0 vs IndexSelectBackward0",
    # torchlite computes X A = B as the transpose of A^T X^T = B^T: its last node is that
    # transpose, where PyTorch's linalg_solve_ex takes ``left`` itself.
    "linalg.solve#2": "TransposeBackward0 vs LinalgSolveExBackward0",
    # Not differentiable in torchlite: PyTorch attaches a node whose backward raises.
    "unique": "no node vs Unique2Backward0",
    "unique_consecutive": "no node vs UniqueConsecutiveBackward0",
    "histogram": "no node vs NotImplemented",
}
EXPECTED_DIFFERENT = {**OTHER_FAMILIES, **DELIBERATE}


def _rows():
    """(id, spec) for every row with a PyTorch reference and samples; a name that repeats
    gets "#2", "#3", ... on its later rows."""
    seen = collections.Counter()
    for spec in all_specs():
        if spec.torch_op is None or not spec.get_samples(np.random.default_rng(0),
                                                         np.dtype(_dtype(spec))):
            continue
        seen[spec.name] += 1
        yield (spec.name if seen[spec.name] == 1 else f"{spec.name}#{seen[spec.name]}"), spec


def _dtype(spec):
    return "float64" if "float64" in spec.dtypes else spec.dtypes[0]


ROWS = [pytest.param(spec, id=row_id, marks=pytest.mark.xfail(
            strict=True, reason=EXPECTED_DIFFERENT[row_id]) if row_id in EXPECTED_DIFFERENT
            else ()) for row_id, spec in _rows()]


def _node_names(outputs, tensor_type):
    return [o.grad_fn.name() if isinstance(o, tensor_type) and o.grad_fn is not None else None
            for o in outputs]


def test_expected_differences_name_existing_rows():
    ids = {row_id for row_id, _ in _rows()}
    assert set(EXPECTED_DIFFERENT) <= ids, set(EXPECTED_DIFFERENT) - ids


@pytest.mark.parametrize("spec", ROWS)
def test_node_name_matches_torch(spec, torch_oracle):
    sample = spec.get_samples(np.random.default_rng(1234), np.dtype(_dtype(spec)))[0]
    with warnings.catch_warnings():  # deprecation notes both give (torch.cholesky, ...)
        warnings.simplefilter("ignore")
        got = spec.op(*[to_torchlite(a, True) for a in sample.args], **sample.kwargs)
        want = spec.torch_fn(torch_oracle)(
            *[to_torch(torch_oracle, a, True) for a in sample.args], **sample.kwargs)
    assert _node_names(outputs_of(got), torchlite.Tensor) == \
        _node_names(outputs_of(want), torch_oracle.Tensor)


# ---- calls the table's first samples do not reach: in-place overloads, setitem, 0-d inputs ----
def _written(key, value):
    def program(lib, a):
        y = a * 1
        y[key] = value(lib, a)
        return y
    return program


def _scalar(lib, a):
    return 5.0


def _zero_dim(lib, a):
    return a.sum() * 2


def _row(lib, a):
    return a[0] * 2


_PROGRAMS = {
    "squeeze_": lambda lib, a: (a * 1).unsqueeze(0).squeeze_(),
    "squeeze_dim_": lambda lib, a: (a * 1).unsqueeze(0).squeeze_(0),
    "squeeze_dims_": lambda lib, a: (a * 1).unsqueeze(0).squeeze_((0, 1)),
    "squeeze_dims": lambda lib, a: a.unsqueeze(0).squeeze((0, 1)),
    "unsqueeze_": lambda lib, a: (a * 1).unsqueeze_(1),
    "t_": lambda lib, a: (a * 1).t_(),
    "transpose_": lambda lib, a: (a * 1).transpose_(0, 1),
    "swapaxes_": lambda lib, a: (a * 1).swapaxes_(0, 1),
    "t_vector": lambda lib, a: a[0].t(),
    "T": lambda lib, a: a.T,
    "expand_same_shape": lambda lib, a: a.expand(2, 3),
    "flatten_copy": lambda lib, a: a.t().flatten(),
    "ravel_copy": lambda lib, a: a.t().ravel(),
    "atleast_2d": lambda lib, a: lib.atleast_2d(a[0]),
    "atleast_3d": lambda lib, a: lib.atleast_3d(a[0]),
    "chunk": lambda lib, a: a.chunk(3, 1),
    "rot90_twice": lambda lib, a: a.rot90(2),
    "max_dim": lambda lib, a: a.max(1),
    "median_all": lambda lib, a: a.median(),
    "prod_0d_dim": lambda lib, a: a.sum().prod(0),
    "sort_0d": lambda lib, a: a.sum().sort(),
    "kthvalue_keepdim": lambda lib, a: a.kthvalue(2, keepdim=True),
    "kthvalue_0d": lambda lib, a: a.sum().kthvalue(1),
    "gather_0d": lambda lib, a: a.sum().gather(0, lib.tensor(0)),
    "scatter_inplace_value": lambda lib, a: (a * 1).scatter_(1, lib.tensor([[0], [1]]), 2.0),
    "masked_fill_inplace": lambda lib, a: (a * 1).masked_fill_(a > 2, 0.0),
    "index_add_inplace": lambda lib, a: (a * 1).index_add_(1, lib.tensor([0, 2]), a[:, :2]),
    "put_accumulate": lambda lib, a: a.put(lib.tensor([0, 5]), a[0, :2] * 1, accumulate=True),
    "fill_tensor": lambda lib, a: (a * 1).fill_(a.sum()),
    "setitem_int": _written(0, _scalar),
    "setitem_int_tensor": _written(0, _row),
    "setitem_slice": _written((slice(None), slice(1, None)), _zero_dim),
    "setitem_none": _written(None, _scalar),
    "setitem_ellipsis": _written(Ellipsis, _scalar),
    "setitem_ellipsis_tensor": _written(Ellipsis, _zero_dim),
    "setitem_full_slices": _written((slice(None), slice(None)), _scalar),
    "setitem_ellipsis_rows": _written(Ellipsis, _row),
    "setitem_list": _written([0, 1], _zero_dim),
    "setitem_int_and_list": _written((0, [0, 1]), _scalar),
    "matrix_power_0": lambda lib, a: lib.linalg.matrix_power(a[:, :2], 0),
    "matrix_power_3": lambda lib, a: lib.linalg.matrix_power(a[:, :2], 3),
    "cholesky_upper": lambda lib, a: lib.linalg.cholesky(
        a[:, :2] @ a[:, :2].mT + lib.eye(2, dtype=a.dtype)),
    # PyTorch regenerates a view whose base was written in place as an as_strided view
    "view_regenerated": pytest.param(
        lambda lib, a: (lambda y: (y[0].mul_(2), y)[1])((a * 1)[:, 1:]),
        marks=pytest.mark.xfail(strict=True, reason="SliceBackward0 vs AsStridedBackward0")),
}


@pytest.mark.parametrize("program", _PROGRAMS.values(), ids=_PROGRAMS.keys())
def test_call_node_names_match_torch(program, torch_oracle):
    def names(lib):
        a = lib.arange(1.0, 7.0, dtype=lib.float64).reshape(2, 3).requires_grad_()
        return _node_names(outputs_of(program(lib, a)), lib.Tensor)
    assert names(torchlite) == names(torch_oracle)


@pytest.mark.parametrize("split", [lambda t: t.unbind(0), lambda t: t.split([1, 2], 1),
                                   lambda t: t.chunk(3, 1)], ids=["unbind", "split", "chunk"])
def test_inplace_on_a_multi_output_view_names_its_node(split, torch_oracle):
    """PyTorch's error names the node ("Output 0 of SplitWithSizes is a view ...")."""
    messages = []
    for lib in (torchlite, torch_oracle):
        a = lib.arange(1.0, 7.0, dtype=lib.float64).reshape(2, 3).requires_grad_()
        with pytest.raises(RuntimeError) as info:
            split(a * 1)[0].mul_(2)
        messages.append(str(info.value).split(" is a view")[0])
    assert messages[0] == messages[1]


def test_tensor_split_pieces_may_be_written_in_place(torch_oracle):
    def program(lib):
        a = lib.arange(1.0, 7.0, dtype=lib.float64).reshape(2, 3).requires_grad_()
        first, second = (a * 1).tensor_split(2, 1)
        first.mul_(2)
        (first.sum() + second.sum()).backward()
        return a.grad
    same_program(program, torch_oracle)
