"""Spec rows for torchlite/ops/shape.py: views, joins, splits, repeats, flips and rolls."""
import numpy as np

import torchlite

from ..opspec import ALL_REAL, ErrorInput, OpSpec, Sample, rand


def cases(*items):
    """A samples function over ``(shapes, *params)`` items: ``shapes`` is one input's shape (a
    tuple) or several inputs' shapes (a list); params follow the inputs positionally, except a
    trailing dict, which holds keyword arguments."""
    def samples(rng, dtype):
        for shapes, *params in items:
            shapes, args, kwargs = _call(shapes, params)
            yield Sample(tuple(rand(rng, s, dtype) for s in shapes) + args, kwargs,
                         name=f"{shapes}{args}{kwargs}")
    return samples


def _call(shapes, params):
    """(list of input shapes, positional params, keyword params) of a case or error."""
    params = list(params)
    kwargs = params.pop() if params and isinstance(params[-1], dict) else {}
    return (shapes if isinstance(shapes, list) else [shapes]), tuple(params), kwargs


def method(name, call, **kw):
    """A row for an op called the same way on torchlite and torch tensors (a method, say)."""
    return OpSpec(name, op=call, torch_op=lambda torch: call, **kw)


def listed(name, ref=None, fn=None, **kw):
    """A row for an op taking a list of tensors (``cat``, ``stack``; ``fn`` when the row's name
    is not the op's): called with them positionally and the keyword arguments passed through."""
    fn = fn or name
    return OpSpec(name, op=lambda *ts, **k: getattr(torchlite, fn)(ts, **k),
                  torch_op=lambda torch: lambda *ts, **k: getattr(torch, fn)(ts, **k),
                  ref=None if ref is None else lambda *xs, **k: ref(xs, **_np_kwargs(k)), **kw)


def _np_kwargs(kwargs):
    """PyTorch's keyword arguments as NumPy's (``dim`` is ``axis``)."""
    return {"axis" if k == "dim" else k: v for k, v in kwargs.items()}


def err(shapes, *rest):
    """A wrong call ``err(shapes, *params, exc, match)``: inputs of ``shapes``, then the params
    as in ``cases``, the exception type and a regex of its message."""
    shapes, args, kwargs = _call(shapes, rest[:-2])
    return ErrorInput(tuple(np.ones(s, np.float32) for s in shapes) + args, kwargs, *rest[-2:])


def np_cat(arrays, axis=0):
    """np.concatenate with PyTorch's legacy rule: 1-D arrays of size 0 are skipped."""
    kept = [a for a in arrays if a.shape != (0,)]
    return np.concatenate(kept, axis) if kept else np.concatenate(arrays)


def mixed_dtypes(rng, dtype):
    """An int64 tensor joined with a float tensor: the result dtype is promoted."""
    yield Sample((rand(rng, (2, 3), dtype), rand(rng, (1, 3), "int64")), {}, "float+int")


def interleave_counts(rng, dtype):
    """repeat_interleave with one count per slice (a tensor), including zero counts."""
    x = rand(rng, (2, 3), dtype)
    yield Sample((x, np.array([2, 0, 3])), {"dim": 1}, "dim1")
    yield Sample((x, np.array([1, 3])), {"dim": 0, "output_size": 4}, "dim0")
    yield Sample((x, np.array([2])), {"dim": 0}, "one count")
    yield Sample((x, np.arange(6)), {}, "flat")


M23 = (2, 3)
M234 = (2, 3, 4)

SPECS = [
    # ---- view, reshape, permute --------------------------------------------------------------
    method("view", lambda x, shape: x.view(shape), ref=lambda x, shape: x.reshape(shape),
           dtypes=ALL_REAL,
           samples=cases((M234, (6, 4),), (M234, (-1,),),
                         ((), (1, 1),), ((5,), (5, 1),)),
           errors=(err(M23, (4, 2), RuntimeError, r"shape '\[4, 2\]' is invalid"),
                   err(M23, (-1, -1), RuntimeError, "only one dimension"))),
    method("view_noncontiguous", lambda x: x.t().view(6), grad=False, samples=cases(),
           errors=(err(M23, {}, RuntimeError, "view size is not compatible"),)),
    OpSpec("view_dtype_same_size", op=lambda x: x.view(torchlite.int32),
           torch_op=lambda torch: lambda x: x.view(torch.int32), dtypes=("float32",),
           ref=lambda x: x.view(np.int32), grad=False, samples=cases((M23, {}), ((), {}))),
    OpSpec("view_dtype_smaller", op=lambda x: x.view(torchlite.float16),
           torch_op=lambda torch: lambda x: x.view(torch.float16), dtypes=("float32",),
           ref=lambda x: x.view(np.float16), grad=False, samples=cases((M23, {}))),
    OpSpec("view_dtype_larger", op=lambda x: x.view(torchlite.float64),
           torch_op=lambda torch: lambda x: x.view(torch.float64), dtypes=("float32",),
           ref=lambda x: x.view(np.float64), grad=False, samples=cases(((2, 4), {})),
           errors=(err(M23, {}, RuntimeError, "self.size\\(-1\\) must be divisible by 2"),
                   err((), {}, RuntimeError, r"self.dim\(\) cannot be 0"))),
    OpSpec("reshape", ref=lambda x, shape: x.reshape(shape), dtypes=ALL_REAL,
           samples=cases((M234, (4, -1),), ((), (1,),),
                         ((0, 3), (3, 0),)),
           errors=(err((0, 3), (-1, 0), RuntimeError, "ambiguous"),)),
    method("reshape_noncontiguous", lambda x, shape: x.transpose(0, 1).reshape(shape),
           ref=lambda x, shape: x.swapaxes(0, 1).reshape(shape),
           samples=cases((M234, (12, 2),))),
    method("view_as", lambda x, y: x.view_as(y), ref=lambda x, y: x.reshape(y.shape),
           samples=cases(([M23, (3, 2)], {}))),
    method("reshape_as", lambda x, y: x.reshape_as(y), ref=lambda x, y: x.reshape(y.shape),
           samples=cases(([M23, (6,)], {}))),
    OpSpec("permute", ref=lambda x, dims: np.transpose(x, dims), dtypes=ALL_REAL,
           samples=cases((M234, (2, 0, 1),), (M234, (-1, 0, 1),),
                         ((), (),)),
           errors=(err(M23, (0, 0), RuntimeError, "duplicate dims"),
                   err(M23, (0,), RuntimeError, "does not match the length"))),
    *(OpSpec(n, ref=lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1) if x.ndim else x,
             samples=cases((M234, 0, 2), (M23, -1, 0),
                           ((), 0, -1)),
             errors=(err(M23, 0, 2, IndexError, "Dimension out of range"),))
      for n in ("transpose", "swapaxes", "swapdims")),
    OpSpec("t", ref=lambda x: x.T, samples=cases((M23, {}), ((4,), {}), ((), {})),
           errors=(err(M234, {}, RuntimeError, r"t\(\) expects a tensor with <= 2 dimensions, "
                                               "but self is 3D"),)),
    method("T", lambda x: x.T, ref=lambda x: x.T, samples=cases((M23, {}))),
    method("mT", lambda x: x.mT, ref=lambda x: np.swapaxes(x, -1, -2),
           samples=cases((M23, {}), (M234, {})),
           errors=(err((3,), {}, RuntimeError, "tensor.mT is only supported on matrices"),)),
    method("H", lambda x: x.H, ref=lambda x: x.T, samples=cases((M23, {})),
           errors=(err(M234, {}, RuntimeError, "For batches of matrices, consider using "
                                               "tensor.mH"),)),
    method("mH", lambda x: x.mH, ref=lambda x: np.swapaxes(x, -1, -2),
           samples=cases((M234, {}))),
    OpSpec("adjoint", ref=lambda x: np.swapaxes(x, -1, -2), samples=cases((M234, {})),
           errors=(err((3,), {}, RuntimeError, r"adjoint\(\) is only supported"),)),
    *(OpSpec(n, ref=np.moveaxis,
             samples=cases((M234, 0, 2),
                           (M234, (0, 1), (2, 0)),
                           (M234, -1, 0)),
             errors=(err(M23, (0, 1), (1,), RuntimeError,
                         "should contain the same number of dims"),
                     err(M23, (0, 0), (1, 0), RuntimeError,
                         r"repeated dim in `source` \(\[0, 0\]\)")))
      for n in ("movedim", "moveaxis")),
    # ---- squeeze, unsqueeze, flatten ---------------------------------------------------------
    OpSpec("squeeze", dtypes=ALL_REAL,
           samples=cases(((2, 1, 3, 1), {}), ((2, 1, 3, 1), {"dim": 1}),
                         ((2, 1, 3, 1), {"dim": 0}), ((2, 1, 3, 1), {"dim": (1, -1)}),
                         ((), {"dim": 0}), ((1,), {})),
           errors=(err(M23, {"dim": 2}, IndexError, "Dimension out of range"),
                   err(M23, {"dim": (0, 0)}, RuntimeError, "appears multiple times"))),
    OpSpec("unsqueeze", ref=np.expand_dims, dtypes=ALL_REAL,
           samples=cases((M23, 0,), (M23, 2,), (M23, -1,),
                         ((), 0,)),
           op=lambda x, axis: torchlite.unsqueeze(x, axis),
           torch_op=lambda torch: lambda x, axis: torch.unsqueeze(x, axis),
           errors=(err(M23, 3, IndexError, "Dimension out of range"),)),
    OpSpec("flatten", dtypes=ALL_REAL,
           samples=cases((M234, {}), (M234, {"start_dim": 1}), (M234, {"end_dim": 1}),
                         (M234, {"start_dim": 1, "end_dim": 1}), ((), {})),
           errors=(err(M23, {"start_dim": 1, "end_dim": 0}, RuntimeError,
                       "start_dim cannot come after end_dim"),)),
    OpSpec("unflatten", samples=cases((M234, 1, (3, 1)),
                                      (M234, -1, (2, -1))),
           errors=(err((6,), 0, (4, -1), RuntimeError,
                       r"Provided sizes \[4, -1\] don't multiply up to the size of dim 0"),
                   err((6,), 0, (), RuntimeError, "sizes must be non-empty"))),
    OpSpec("ravel", ref=np.ravel, samples=cases((M234, {}), ((), {}))),
    method("ravel_noncontiguous", lambda x: x.t().ravel(), ref=lambda x: x.T.ravel(),
           samples=cases((M23, {}))),
    # ---- broadcasting ------------------------------------------------------------------------
    method("expand", lambda x, size: x.expand(*size),
           samples=cases(((3, 1), (2, 3, 4),), ((3, 1), (-1, 2),),
                         ((), (2,),), (M23, M23,)),
           errors=(err(M23, (4,), RuntimeError, "number of sizes provided"),
                   err(M23, (3, 3), RuntimeError,
                       r"expanded size of the tensor \(3\) must match the existing size \(2\)"))),
    method("expand_as", lambda x, y: x.expand_as(y), ref=lambda x, y: np.broadcast_to(x, y.shape),
           samples=cases(([(3, 1), (2, 3, 4)], {}))),
    OpSpec("broadcast_to", ref=lambda x, size: np.broadcast_to(x, size),
           samples=cases(((3, 1), (2, 3, 4),))),
    OpSpec("broadcast_tensors", ref=np.broadcast_arrays,
           samples=cases(([(3, 1), (4,)], {}), ([(2, 1, 3), (), (1, 3)], {})),
           errors=(err([M23, (4,)], {}, RuntimeError,
                       r"size of tensor a \(3\) must match the size of tensor b \(4\)"),)),
    OpSpec("atleast_1d", ref=np.atleast_1d, samples=cases(((), {}), (M23, {}))),
    OpSpec("atleast_2d", ref=np.atleast_2d, samples=cases(((), {}), ((3,), {}), (M234, {}))),
    OpSpec("atleast_3d", ref=np.atleast_3d,
           samples=cases(((), {}), ((3,), {}), (M23, {}), ([(3,), M23], {}))),
    # ---- joining -----------------------------------------------------------------------------
    *(listed(n, ref=np_cat, dtypes=ALL_REAL,
             samples=cases(([M23, (4, 3)], {}), ([M23, (2, 1), (2, 2)], {"dim": 1}),
                           ([M23, (0,)], {"dim": -1}), ([(0,), (0,)], {})),
             errors=(err([(2, 2), (3, 3)], {"dim": 1}, RuntimeError,
                         r"Sizes of tensors must match except in dimension 1. Expected size 2 "
                         r"but got size 3 for tensor number 1 in the list."),
                     err([(2, 2), (3,)], {}, RuntimeError, "same number of dimensions"),
                     err([(), ()], {}, RuntimeError, "zero-dimensional tensor"),
                     err([(2, 2)], {"dim": 2}, IndexError, "Dimension out of range"),
                     err([], {}, ValueError, "expected a non-empty list of Tensors")))
      for n in ("cat", "concat", "concatenate")),
    listed("cat_mixed_dtypes", fn="cat", samples=mixed_dtypes, dtypes=ALL_REAL),
    listed("stack", ref=np.stack, dtypes=ALL_REAL,
           samples=cases(([M23, M23], {}), ([M23, M23, M23], {"dim": 2}),
                         ([(), ()], {"dim": -1})),
           errors=(err([M23, (2, 4)], {}, RuntimeError,
                       r"stack expects each tensor to be equal size, but got \[2, 3\] at entry "
                       r"0 and \[2, 4\] at entry 1"),
                   err([M23], {"dim": 3}, IndexError, "Dimension out of range"),
                   err([], {}, RuntimeError, "stack expects a non-empty TensorList"))),
    listed("hstack", ref=np.hstack, samples=cases(([(2,), (3,)], {}), ([M23, (2, 1)], {}),
                                                   ([(), (2,)], {}))),
    listed("vstack", ref=np.vstack, samples=cases(([(3,), (3,)], {}), ([M23, (1, 3)], {}))),
    listed("row_stack", ref=np.vstack, samples=cases(([(3,), M23], {}))),
    listed("dstack", ref=np.dstack, samples=cases(([(3,), (3,)], {}), ([M23, M23], {}))),
    listed("column_stack", ref=np.column_stack,
           samples=cases(([(3,), (3,)], {}), ([(3, 2), (3,)], {}), ([(), ()], {})),
           errors=(err([(3,), (4,)], {}, RuntimeError, "Sizes of tensors must match"),)),
    # ---- splitting ---------------------------------------------------------------------------
    OpSpec("split", samples=cases(((5, 3), 2,),
                                  ((5, 3), [1, 4],),
                                  ((5, 3), 3, -1),
                                  ((5, 3), 10,)),
           errors=(err(M23, 0, RuntimeError,
                       "split_size can only be 0 if dimension size is 0"),
                   err(M23, [1, 2], RuntimeError,
                       "split_with_sizes expects split_sizes to sum exactly to 2"),
                   err(M23, -1, RuntimeError, "non-negative"))),
    OpSpec("chunk", samples=cases(((5, 2), 4,), ((6, 2), 4,),
                                  ((3, 2), 5,), ((0, 2), 2,),
                                  ((2, 5), 2, 1)),
           errors=(err(M23, 0, RuntimeError, "chunks` to be greater than 0"),)),
    OpSpec("unbind", samples=cases((M23, {}), (M234, {"dim": -1}), ((1,), {})),
           errors=(err((), {}, IndexError, "tensor has no dimensions"),)),
    OpSpec("tensor_split", samples=cases(((7, 2), 3,),
                                         ((7, 2), [2, 10, 1],),
                                         ((7, 2), [-2],),
                                         ((2, 7), [1, 4], 1)),
           errors=(err((3,), 0, RuntimeError,
                       "number of sections must be larger than 0"),
                   err((), 2, RuntimeError,
                       "expected at least a 1-dimensional tensor"))),
    OpSpec("hsplit", samples=cases(((4,), 2,),
                                   ((2, 4), 2,),
                                   ((2, 4), [1, 3],)),
           errors=(err((3,), 2, RuntimeError,
                       "not divisible by the split_size 2"),
                   err((), 2, RuntimeError, "at least 1 dimension"))),
    OpSpec("vsplit", samples=cases(((4, 2), 2,),
                                   ((4, 2), [3],)),
           errors=(err((3,), 1, RuntimeError,
                       "at least 2 dimension"),)),
    OpSpec("dsplit", samples=cases((M234, 2,)),
           errors=(err(M23, 2, RuntimeError,
                       "at least 3 dimension"),)),
    OpSpec("narrow", ref=lambda x, dim, start, length: np.take(
        x, range(start % x.shape[dim], start % x.shape[dim] + length), axis=dim),
           samples=cases((M234, 1, 1, 2),
                         (M234, -1, -2, 2),
                         (M23, 0, 2, 0)),
           errors=(err(M23, 1, 2, 2, RuntimeError,
                       r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)"),
                   err(M23, 1, -4, 1, IndexError,
                       "start out of range"),
                   err((), 0, 0, 1, RuntimeError, "0-dim"))),
    OpSpec("select", ref=lambda x, dim, index: np.take(x, index, axis=dim),
           samples=cases((M234, 1, 2), (M234, -1, -1),
                         ((3,), 0, 0)),
           errors=(err(M23, 1, 3, IndexError,
                       r"select\(\): index 3 out of range for tensor of size \[2, 3\] at "
                       "dimension 1"),
                   err((), 0, 0, IndexError, "0-dim tensor"))),
    method("unfold", lambda x, *a: x.unfold(*a),
           samples=cases(((7,), 0, 3, 2),
                         ((2, 5), 1, 2, 1),
                         ((4, 3), 0, 2, 3),
                         ((), 0, 1, 1)),
           errors=(err(M23, 1, 4, 1, RuntimeError,
                       "maximum size for tensor at dimension 1 is 3 but size is 4"),
                   err(M23, 1, 2, 0, RuntimeError,
                       "step is 0 but must be > 0"))),
    OpSpec("as_strided", samples=cases(((6,), (3, 3), (1, 1)), ((3, 4), (2, 2), (1, 2), 1),
                                       ((2, 3), (2, 3), (3, 1)), ((4,), (), (), 2)),
           errors=(err((3, 4), (3, 3), (4, 1), 5, RuntimeError,
                       r"requiring a storage size of 64 are out of bounds for storage of size "
                       "48"),
                   err((3, 4), (3, 3), (4, -1), RuntimeError, "Negative strides"),
                   err((3, 4), (3,), (4, 1), RuntimeError, "mismatch in length"))),
    # ---- repeating ---------------------------------------------------------------------------
    method("repeat", lambda x, repeats: x.repeat(*repeats),
           ref=lambda x, repeats: np.tile(x, repeats), dtypes=ALL_REAL,
           samples=cases((M23, (2, 3),), (M23, (2, 1, 2),),
                         ((), (3,),), ((3,), (0,),)),
           errors=(err(M23, (2,), RuntimeError,
                       "Number of dimensions of repeat dims can not be smaller"),
                   err(M23, (-1, 2), RuntimeError,
                       r"negative dimension -2: \[-2, 6\]"))),
    OpSpec("tile", ref=np.tile, samples=cases((M23, (2,),), (M23, (2, 1, 2),),
                                              ((3,), (2,)))),
    OpSpec("repeat_interleave", dtypes=ALL_REAL,
           samples=cases((M23, 2,), (M23, 2, 1),
                         (M23, {"repeats": 3, "dim": 0, "output_size": 6})),
           errors=(err((3,), -1, RuntimeError, "Repeats must be non-negative"),
                   err((3,), {"repeats": 2, "output_size": 5}, RuntimeError,
                       "Invalid output_size, expected 6 but got 5"))),
    OpSpec("repeat_interleave_tensor", op=torchlite.repeat_interleave, dtypes=ALL_REAL,
           torch_op=lambda torch: torch.repeat_interleave, samples=interleave_counts,
           errors=(ErrorInput((np.ones(3), np.array([1, 2])), {}, RuntimeError,
                              r"repeats.size\(0\) = 2 and input.size\(0\) = 3"),
                   ErrorInput((np.ones(3), np.array([1, -2, 1])), {}, RuntimeError,
                              "repeats can not be negative"),
                   ErrorInput((np.ones(3), np.array([[1, 2, 1]])), {}, RuntimeError,
                              "only accept 1D vector as repeat"))),
    # ---- flips and rolls ---------------------------------------------------------------------
    OpSpec("flip", ref=lambda x, dims: np.flip(x, dims), dtypes=ALL_REAL,
           samples=cases((M234, (0, 2),), (M23, (-1,),), ((), (),)),
           errors=(err(M23, (0, 0), RuntimeError, "appears multiple times"),)),
    OpSpec("fliplr", ref=np.fliplr, samples=cases((M234, {})),
           errors=(err((3,), {}, RuntimeError, r"Input must be >= 2-d."),)),
    OpSpec("flipud", ref=np.flipud, samples=cases((M23, {})),
           errors=(err((), {}, RuntimeError, r"Input must be >= 1-d."),)),
    OpSpec("roll", ref=lambda x, shifts, dims=None: np.roll(x, shifts, dims), dtypes=ALL_REAL,
           samples=cases((M23, 1,), (M23, (1, -2), (0, 1)),
                         (M234, 5, -1), ((), 1,)),
           errors=(err(M23, (1, 2), (0,), RuntimeError,
                       "shifts and dimensions must align. shifts: 2, dims:1"),)),
    OpSpec("rot90", ref=lambda x, k=1, dims=(0, 1): np.rot90(x, k, dims),
           samples=cases((M23, {}), (M234, 2, (1, 2)), (M23, -1,),
                         (M23, 4,)),
           errors=(err(M23, 1, (0, 0), RuntimeError,
                       "expected rotation dims to be different"),
                   err(M23, 1, (0,), RuntimeError, "total rotation dims == 2"),
                   err((3,), {}, RuntimeError, "expected total dims >= 2"))),
]
