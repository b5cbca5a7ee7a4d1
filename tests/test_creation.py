"""Creation functions against PyTorch: the same call in both gives the same values and dtype,
or the same exception type (with a message naming the problem)."""
import numpy as np
import pytest

import torchlite

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the test oracle) is missing")
NAN = float("nan")

# Each call runs as ``call(torch)`` and ``call(torchlite)``: same values, dtype and shape.
CALLS = {
    "mixed": lambda m: m.tensor([1, 2.5]),
    "bools": lambda m: m.tensor([True, False]),
    "bool_int": lambda m: m.tensor([True, 2]),
    "complex": lambda m: m.tensor([1, 2j]),
    "nested_0d_tensors": lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)]),
    "nested_int_tensors": lambda m: m.tensor([m.tensor(1, dtype=m.int32), 2]),
    "nested_1elem": lambda m: m.tensor([m.tensor([1]), m.tensor([2])]),
    "numpy_f64": lambda m: m.tensor(np.array([1.0, 2.0])),
    "numpy_i32": lambda m: m.tensor(np.array([1, 2], dtype=np.int32)),
    "numpy_scalar": lambda m: m.tensor(np.float32(2.5)),
    "numpy_f64_in_list": lambda m: m.tensor([np.float64(2.5), 1]),
    "empty_list": lambda m: m.tensor([]),
    "empty_nested": lambda m: m.tensor([[], []]),
    "scalar": lambda m: m.tensor(3),
    "cast_to_int": lambda m: m.tensor([1.7, -1.7], dtype=m.int32),
    "tuple_data": lambda m: m.tensor(((1, 2), (3, 4))),
    "big_int": lambda m: m.tensor([2 ** 63 - 1]),
    "dtype_python_float": lambda m: m.zeros(2, dtype=float),
    "dtype_python_int": lambda m: m.zeros(2, dtype=int),
    "arange": lambda m: m.arange(5),
    "arange_float_step": lambda m: m.arange(0, 1, 0.1),
    "arange_half_steps": lambda m: m.arange(1, 2.5, 0.5),
    "arange_float_start": lambda m: m.arange(0.5, 3),
    "arange_negative": lambda m: m.arange(5, 0, -1.5),
    "arange_f64": lambda m: m.arange(0, 1, 0.1, dtype=m.float64),
    "arange_int_dtype": lambda m: m.arange(0.5, 3.7, 1, dtype=m.int64),
    "arange_tensor_bound": lambda m: m.arange(m.tensor(3)),
    "arange_tensor_float": lambda m: m.arange(m.tensor(3.0)),
    "arange_fma": lambda m: m.arange(-1, 1, 0.2),
    "arange_long": lambda m: m.arange(-3, 7, 0.37),
    "arange_empty": lambda m: m.arange(3, 3),
    "linspace": lambda m: m.linspace(0, 1, 5),
    "linspace_sym": lambda m: m.linspace(-1, 1, 7),
    "linspace_f64": lambda m: m.linspace(0.1, 1.3, 9, dtype=m.float64),
    "linspace_int": lambda m: m.linspace(0, 9, 4, dtype=m.int64),
    "linspace_int_trunc": lambda m: m.linspace(-3.5, 9.7, 6, dtype=m.int32),
    "linspace_one": lambda m: m.linspace(2, 3, 1),
    "linspace_zero": lambda m: m.linspace(2, 3, 0),
    "linspace_tensors": lambda m: m.linspace(m.tensor(0.0), m.tensor(1.0), 3),
    "logspace": lambda m: m.logspace(0, 2, 3),
    "logspace_base2": lambda m: m.logspace(0, 3, 4, base=2),
    "logspace_f64": lambda m: m.logspace(-2, 2, 5, dtype=m.float64),
    "eye": lambda m: m.eye(3),
    "eye_nm": lambda m: m.eye(2, 3),
    "eye_int": lambda m: m.eye(2, dtype=m.int64),
    "full_bool": lambda m: m.full((2,), True),
    "full_int": lambda m: m.full((2,), 3),
    "full_float": lambda m: m.full((2,), 3.0),
    "full_complex": lambda m: m.full((2,), 1j),
    "full_tensor": lambda m: m.full((2,), m.tensor(3)),
    "full_dtype": lambda m: m.full((2,), 3.7, dtype=m.int32),
    "full_list_size": lambda m: m.full([2, 1], 0.5),
    "zeros_list": lambda m: m.zeros([2, 3]),
    "zeros_scalar": lambda m: m.zeros(()),
    "zeros_size": lambda m: m.zeros(m.Size([2, 1])),
    "zeros_tensor_dims": lambda m: m.zeros(m.tensor(2), 3),
    "ones": lambda m: m.ones(2, 3, dtype=m.int16),
    "ones_like": lambda m: m.ones_like(m.zeros(2, dtype=m.int32)),
    "zeros_like_dtype": lambda m: m.zeros_like(m.zeros(2), dtype=m.float64),
    "full_like": lambda m: m.full_like(m.zeros(2, dtype=m.int32), 2.7),
    "empty_like_shape": lambda m: m.empty_like(m.zeros(2, 3)).zero_(),
    "empty": lambda m: m.empty(2, 3).zero_(),
    "as_tensor_list": lambda m: m.as_tensor([1, 2], dtype=m.float64),
    "from_numpy_f16": lambda m: m.from_numpy(np.ones(2, np.float16)),
    "new_tensor": lambda m: m.zeros(2, dtype=m.float64).new_tensor([1, 2]),
    "new_zeros": lambda m: m.zeros(2, dtype=m.float64).new_zeros(2, 3),
    "new_full": lambda m: m.zeros(2, dtype=m.int32).new_full((2,), 3.5),
    "new_ones": lambda m: m.zeros(2).new_ones((2,), dtype=m.long),
    "legacy_sizes": lambda m: m.Tensor(2, 3).zero_(),
    "legacy_data": lambda m: m.Tensor([1, 2]),
    "legacy_empty": lambda m: m.Tensor(),
    "legacy_numpy": lambda m: m.Tensor(np.array([1, 2])),
    "legacy_nested": lambda m: m.Tensor([[1, 2], [3, 4]]),
}

# Each call raises in both, with the same exception type; the regex names the problem.
ERRORS = {
    "nested_1d_tensors": (lambda m: m.tensor([m.tensor([1.0, 2]), m.tensor([3.0, 4])]),
                          "only one element tensors"),
    "ragged": (lambda m: m.tensor([[1, 2], [3]]), "expected sequence of length 2 at dim 1"),
    "ragged_scalar": (lambda m: m.tensor([[1, 2], 3]), "not a sequence"),
    "ragged_deeper": (lambda m: m.tensor([1, [2, 3]]), "cannot be interpreted as an integer"),
    "ragged_float": (lambda m: m.tensor([1.0, [2, 3]]), "must be real number, not list"),
    "str": (lambda m: m.tensor("a"), "invalid data type 'str'"),
    "str_list": (lambda m: m.tensor(["a"]), "too many dimensions 'str'"),
    "none": (lambda m: m.tensor(None), "Could not infer dtype of NoneType"),
    "object": (lambda m: m.tensor([object()]), "Could not infer dtype of object"),
    "overflow": (lambda m: m.tensor([2 ** 64]), "Overflow"),
    "requires_grad_int": (lambda m: m.tensor([1], requires_grad=True),
                          "Only Tensors of floating point and complex dtype"),
    "zeros_requires_grad_int": (lambda m: m.zeros(2, dtype=m.long, requires_grad=True),
                                "Only Tensors of floating point"),
    "arange_step_sign": (lambda m: m.arange(0, 5, -1), "upper bound and lower bound"),
    "arange_zero_step": (lambda m: m.arange(0, 5, 0), "step must be nonzero"),
    "arange_int_zero_step": (lambda m: m.arange(0, 2.5, 0.9, dtype=m.int64),
                             "step must be nonzero"),
    "arange_nan": (lambda m: m.arange(0, NAN), "unsupported range: 0 -> nan"),
    "arange_inf": (lambda m: m.arange(1.5, float("inf")), "unsupported range: 1.5 -> inf"),
    "linspace_negative": (lambda m: m.linspace(0, 1, -1), "number of steps must be non-negative"),
    "eye_negative": (lambda m: m.eye(-1), "n must be greater or equal to 0, got -1"),
    "eye_negative_m": (lambda m: m.eye(2, -1), "m must be greater or equal to 0, got -1"),
    "full_int_size": (lambda m: m.full(2, 1.0), "must be tuple of ints, not int"),
    "zeros_negative": (lambda m: m.zeros(2, -1), "Dimension size must be non-negative"),
    "ones_negative": (lambda m: m.ones(-1), "negative dimension -1"),
    "empty_negative": (lambda m: m.empty(-2), "negative dimension -2"),
    "zeros_float_size": (lambda m: m.zeros(2.5), "must be tuple of ints, not float"),
    "zeros_str_size": (lambda m: m.zeros("a"), "must be tuple of ints, not str"),
    "ones_bad_item": (lambda m: m.ones(2, "a"), "failed to unpack the object at pos 2"),
    "ones_float_item": (lambda m: m.ones((2, 2.5)), "but got float"),
    "zeros_no_size": (lambda m: m.zeros(), "missing 1 required positional arguments"),
    "dtype_str": (lambda m: m.zeros(2, dtype="float32"), "must be torch.dtype, not str"),
    "dtype_numpy": (lambda m: m.zeros(2, dtype=np.float32), "must be torch.dtype, not type"),
    "full_dtype_str": (lambda m: m.full((2,), 1.0, dtype="x"), "must be torch.dtype"),
    "from_numpy_list": (lambda m: m.from_numpy([1]), "expected np.ndarray"),
    "from_numpy_str": (lambda m: m.from_numpy(np.array(["a"])), "numpy.str_"),
    "from_numpy_negative_stride": (lambda m: m.from_numpy(np.arange(4)[::-1]),
                                   "negative strides are not currently supported"),
    "as_tensor_negative_stride": (lambda m: m.as_tensor(np.arange(4)[::-1]),
                                  "negative strides are not currently supported"),
    "from_numpy_object": (lambda m: m.tensor(np.array([1, "a"], dtype=object)),
                          "numpy.object_"),
    "legacy_float": (lambda m: m.Tensor(2.5), "data must be a sequence"),
    "from_dlpack_list": (lambda m: m.from_dlpack([1, 2]), "invalid capsule"),
}


def _check_same(got, expected):
    assert repr(got.dtype) == repr(expected.dtype)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(np.asarray(got.detach()), expected.detach().numpy())


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", CALLS)
def test_matches_torch(name):
    _check_same(CALLS[name](torchlite), CALLS[name](torch))


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(name):
    call, match = ERRORS[name]
    if name == "arange_int_zero_step" and torch.__version__ < "2.13":
        pytest.skip("PyTorch before 2.13 dies of SIGFPE on this call")
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type, match=match):
        call(torchlite)


@needs_torch
def test_random_arange_lengths_and_values():
    """PyTorch's length formula ceil((end - start) / step) and its rounding of values."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        start, span = rng.uniform(-10, 10, 2)
        step = rng.choice([0.1, 0.25, 0.3, 1 / 3, 0.7, 2.0]) * rng.choice([1, -1])
        end = start + span if step > 0 else start - span
        if span <= 0:
            continue
        for dt in ("float32", "float64"):
            _check_same(torchlite.arange(start, end, step, dtype=getattr(torchlite, dt)),
                        torch.arange(start, end, step, dtype=getattr(torch, dt)))


@needs_torch
def test_random_linspace_values():
    """Exact endpoints and integer values; floats within one rounding of PyTorch's (its
    vectorised float32 kernel rounds some interior values differently)."""
    rng = np.random.default_rng(4)
    for _ in range(100):
        start, end = rng.uniform(-100, 100, 2)
        steps = int(rng.integers(2, 40))
        _check_same(torchlite.linspace(start, end, steps, dtype=torchlite.int64),
                    torch.linspace(start, end, steps, dtype=torch.int64))
        for dt, rtol in (("float32", 2e-7), ("float64", 1e-15)):
            got = torchlite.linspace(start, end, steps, dtype=getattr(torchlite, dt))
            expected = torch.linspace(start, end, steps, dtype=getattr(torch, dt)).numpy()
            assert got.numpy()[[0, -1]].tolist() == expected[[0, -1]].tolist()
            np.testing.assert_allclose(got.numpy(), expected, rtol=rtol,
                                       atol=rtol * np.abs(expected).max())


@needs_torch
def test_default_dtype_drives_creation():
    try:
        for lib in (torch, torchlite):
            lib.set_default_dtype(lib.float64)
        for call in (lambda m: m.tensor([1.5]), lambda m: m.zeros(2), lambda m: m.arange(0, 1, .5),
                     lambda m: m.tensor([1j]), lambda m: m.full((1,), 2.0),
                     lambda m: m.linspace(0, 1, 3), lambda m: m.rand(2), lambda m: m.eye(2)):
            assert repr(call(torchlite).dtype) == repr(call(torch).dtype)
    finally:
        for lib in (torch, torchlite):
            lib.set_default_dtype(lib.float32)


def test_numpy_memory_is_shared():
    a = np.zeros(3)
    torchlite.from_numpy(a)[0] = 9
    torchlite.as_tensor(a)[1] = 8
    assert a.tolist() == [9, 8, 0]
    t = torchlite.zeros(3)
    t.numpy()[2] = 5
    assert t.tolist() == [0, 0, 5]
    assert torchlite.tensor(a).numpy() is not a  # tensor() always copies
    assert torchlite.as_tensor(a, dtype=torchlite.float32).dtype is torchlite.float32


def test_requires_grad_and_device_arguments():
    for t in (torchlite.zeros(2, requires_grad=True), torchlite.tensor([1.0], requires_grad=True),
              torchlite.arange(3.0, requires_grad=True), torchlite.eye(2, requires_grad=True),
              torchlite.full((2,), 1.0, requires_grad=True),
              torchlite.linspace(0, 1, 3, requires_grad=True),
              torchlite.ones_like(torchlite.zeros(2), requires_grad=True)):
        assert t.requires_grad and t.is_leaf and t.device == torchlite.device("cpu")
    assert torchlite.zeros(2, device=torchlite.device("cpu")).device.type == "cpu"
    assert not torchlite.zeros_like(torchlite.zeros(2, requires_grad=True)).requires_grad


def test_tensor_copy_warns_like_torch():
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        t = torchlite.tensor(torchlite.tensor([1.0, 2.0], requires_grad=True))
    assert t.is_leaf and not t.requires_grad
