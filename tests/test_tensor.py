"""The Tensor object: state, autograd attributes, Python protocols, torch.Size, DLPack and a
table of bad inputs whose exception types are checked against PyTorch."""
import copy
import pickle

import numpy as np
import pytest

import torchlite

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the test oracle) is missing")


def test_basic_state():
    t = torchlite.zeros(2, 3)
    assert t.shape == (2, 3) and t.size() == torchlite.Size([2, 3])
    assert t.size(1) == 3 and t.size(-2) == 2
    assert t.dtype is torchlite.float32 and t.device == torchlite.device("cpu")
    assert t.ndim == t.dim() == 2 and t.numel() == t.nelement() == 6
    assert t.element_size() == 4 and t.is_floating_point() and not t.is_complex()
    assert torchlite.zeros(1, dtype=torchlite.float16).element_size() == 2
    assert torchlite.zeros(1, dtype=torchlite.bool).element_size() == 1
    assert torchlite.zeros(1, dtype=torchlite.complex64).is_complex()


def test_requires_grad_and_leaves():
    t = torchlite.zeros(2)
    assert not t.requires_grad and t.is_leaf and t.grad_fn is None
    t.requires_grad = True
    assert t.requires_grad and t.is_leaf
    y = t * 2
    assert not y.is_leaf and y.grad_fn.name() == "MulBackward0"
    assert repr(y).endswith("grad_fn=<MulBackward0>)")
    assert t.requires_grad_(False) is t and not t.requires_grad
    c = torchlite.zeros(1, dtype=torchlite.complex64)
    c.requires_grad = True


def test_grad_set_get():
    t = torchlite.zeros(2, requires_grad=True)
    assert t.grad is None
    t.grad = torchlite.ones(2)
    assert t.grad.tolist() == [1, 1]
    t.grad = None
    assert t.grad is None
    (t * 3).sum().backward()
    assert t.grad.tolist() == [3, 3]


def test_data_shares_and_replaces():
    t = torchlite.ones(3, requires_grad=True)
    d = t.data
    assert not d.requires_grad and d.is_leaf
    d[0] = 5
    assert t.tolist() == [5, 1, 1]
    t.data = torchlite.zeros(4)
    assert t.shape == (4,) and t.requires_grad


def test_conversions():
    assert torchlite.tensor(3.5).item() == 3.5
    assert torchlite.tensor([[1, 2]]).tolist() == [[1, 2]]
    assert torchlite.tensor(2.5).tolist() == 2.5
    assert int(torchlite.tensor([2.7])) == 2 and float(torchlite.tensor(3)) == 3.0
    assert complex(torchlite.tensor(1 + 2j)) == 1 + 2j
    assert bool(torchlite.ones(1, 1)) and not bool(torchlite.tensor(0))
    assert torchlite.tensor([1.5, 2.5], dtype=torchlite.bfloat16).tolist() == [1.5, 2.5]


def test_numpy_shares_memory():
    t = torchlite.zeros(3)
    a = t.numpy()
    a[0] = 7
    assert t[0].item() == 7
    t.add_(1)
    assert a.tolist() == [8, 1, 1]
    assert np.asarray(t) is a or np.shares_memory(np.asarray(t), a)
    assert np.asarray(torchlite.zeros(2), dtype=np.int32).dtype == np.int32
    assert t.detach().numpy().base is a.base or np.shares_memory(t.detach().numpy(), a)


def test_numpy_of_a_tensor_requiring_grad_only_under_no_grad(torch_oracle):
    for lib in (torchlite, torch_oracle):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        for convert in (lambda t: t.numpy(), np.asarray):
            with pytest.raises(RuntimeError, match="Use tensor.detach"):
                convert(x)
            with lib.no_grad():
                assert convert(x).tolist() == [1.0, 2.0]


def test_len_iter_index():
    t = torchlite.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    assert [row.tolist() for row in t] == [[1, 2], [3, 4], [5, 6]]
    items = [10, 20, 30, 40]
    assert items[torchlite.tensor(1)] == 20
    assert items[torchlite.tensor([2])] == 30
    assert items[torchlite.tensor(True)] == 20
    assert items[torchlite.tensor(1):torchlite.tensor(3)] == [20, 30]
    assert range(10)[torchlite.tensor(4)] == 4


def test_hash_is_identity():
    a, b = torchlite.zeros(1), torchlite.zeros(1)
    assert hash(a) != hash(b) and hash(a) == hash(a)
    assert len({a: 1, b: 2}) == 2


@needs_torch
@pytest.mark.parametrize("fmt,value", [("%d", 3.7), ("%f", 3), ("%.3f", 3.14159), ("%s", 3.5),
                                       ("%r", 2), ("%5.1f", -2.25), ("%x", 255)])
def test_old_style_formatting(fmt, value):
    assert fmt % torchlite.tensor(value) == fmt % torch.tensor(value)


@needs_torch
@pytest.mark.parametrize("spec,value", [(".4f", 3.14159), ("", 2.5), ("d", 7), (">8.2e", 1e-3),
                                        ("", [1.0, 2.0])])
def test_format_spec(spec, value):
    assert format(torchlite.tensor(value), spec) == format(torch.tensor(value), spec)
    assert f"{torchlite.tensor(2.0, requires_grad=True):.2f}" == "2.00"


def test_pickle_and_deepcopy():
    t = torchlite.tensor([[1.5, 2.0]], requires_grad=True)
    t.grad = torchlite.ones(1, 2)
    for u in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert u.tolist() == t.tolist() and u.requires_grad and u.dtype is t.dtype
        assert not np.shares_memory(u.detach().numpy(), t.detach().numpy())
    assert copy.deepcopy(t).grad.tolist() == [[1, 1]]
    nonleaf = pickle.loads(pickle.dumps(t * 2))
    assert nonleaf.tolist() == [[3.0, 4.0]]
    memo_pair = copy.deepcopy([t, t])
    assert memo_pair[0] is memo_pair[1]


def test_legacy_constructor():
    assert torchlite.Tensor(2, 3).shape == (2, 3)
    assert torchlite.Tensor([1, 2]).dtype is torchlite.float32
    assert torchlite.Tensor().shape == (0,)
    assert torchlite.Tensor(torchlite.Size([2])).shape == (2,)
    src = torchlite.tensor([1, 2])
    assert torchlite.Tensor(src) is src
    assert isinstance(torchlite.zeros(1), torchlite.Tensor)


def test_size():
    s = torchlite.Size([2, 3])
    assert repr(s) == str(s) == "torch.Size([2, 3])"
    assert repr(torchlite.Size([])) == "torch.Size([])"
    assert s.numel() == 6 and torchlite.Size([]).numel() == 1
    assert s == (2, 3) and s == torchlite.Size((2, 3)) and (2, 3) == s
    assert isinstance(s[1:], torchlite.Size) and s[1:] == (3,) and s[-1] == 3
    assert isinstance(s + (4,), torchlite.Size) and s + (4,) == (2, 3, 4)
    assert torchlite.Size([torchlite.tensor(2), np.int64(3)]) == (2, 3)
    assert pickle.loads(pickle.dumps(s)) == s and isinstance(pickle.loads(pickle.dumps(s)),
                                                              torchlite.Size)


@needs_torch
def test_dlpack_both_ways():
    a = torchlite.arange(6.0).reshape(2, 3)
    t = torch.from_dlpack(a)
    t[0, 0] = 7
    assert a[0, 0].item() == 7  # shared memory
    b = torchlite.from_dlpack(torch.ones(3, dtype=torch.float64))
    assert b.dtype is torchlite.float64 and b.tolist() == [1, 1, 1]
    arr = np.arange(4, dtype=np.int32)
    c = torchlite.from_dlpack(arr)
    arr[0] = 9
    assert c.dtype is torchlite.int32 and c[0].item() == 9
    d = np.from_dlpack(torchlite.tensor([1.0, 2.0]))
    assert d.tolist() == [1.0, 2.0]
    assert tuple(torchlite.zeros(1).__dlpack_device__()) == (1, 0)


# Bad inputs: the call raises in both libraries, with the same type; the regex names the problem.
def _set(attr, value, make=lambda m: m.zeros(2, 3)):
    def call(m):
        setattr(make(m), attr, value(m) if callable(value) else value)
    return call


BAD = {
    "requires_grad_int_tensor": (_set("requires_grad", True, lambda m: m.zeros(2, dtype=m.long)),
                                 "only Tensors of floating point and complex dtype can require "
                                 "gradients"),
    "requires_grad__int": (lambda m: m.zeros(2, dtype=m.long).requires_grad_(),
                           "only Tensors of floating point dtype can require gradients"),
    "requires_grad_not_bool": (_set("requires_grad", 1), "requires_grad must be a bool"),
    "requires_grad_off_nonleaf": (lambda m: setattr(m.zeros(2, requires_grad=True) * 2,
                                                    "requires_grad", False),
                                  "only change requires_grad flags of leaf variables"),
    "grad_shape": (_set("grad", lambda m: m.zeros(3)),
                   "assign a gradient of size '\\[3\\]' to a tensor of size '\\[2, 3\\]'"),
    "grad_dtype": (_set("grad", lambda m: m.zeros(2, 3, dtype=m.float64)),
                   "gradient with dtype 'double' to a tensor with grad_dtype 'Float'"),
    "grad_int_dtype": (_set("grad", lambda m: m.zeros(2, 3, dtype=m.long)), "'long int'"),
    "grad_not_tensor": (_set("grad", 3), "expected to be a Tensor or None but got grad of type "
                                         "int"),
    "grad_numpy": (_set("grad", np.zeros((2, 3))), "type numpy.ndarray"),
    "data_not_tensor": (_set("data", 5), "Variable data has to be a tensor, but got int"),
    "item_many": (lambda m: m.zeros(2).item(), "a Tensor with 2 elements cannot be converted"),
    "item_empty": (lambda m: m.zeros(0).item(), "a Tensor with 0 elements"),
    "bool_many": (lambda m: bool(m.zeros(2)), "more than one value is ambiguous"),
    "bool_empty": (lambda m: bool(m.zeros(0)), "with no values is ambiguous"),
    "len_0d": (lambda m: len(m.tensor(1.0)), "len\\(\\) of a 0-d tensor"),
    "iter_0d": (lambda m: iter(m.tensor(1.0)), "iteration over a 0-d tensor"),
    "index_float": (lambda m: [1, 2, 3][m.tensor(1.0)], "only integer tensors of a single"),
    "index_many": (lambda m: [1, 2, 3][m.tensor([0, 1])], "only integer tensors of a single"),
    "int_many": (lambda m: int(m.zeros(2)), "only one element tensors"),
    "float_many": (lambda m: float(m.zeros(2)), "only one element tensors"),
    "format_vector": (lambda m: f"{m.zeros(2):.4f}", "unsupported format string"),
    "format_one_element": (lambda m: f"{m.zeros(1):.2f}", "unsupported format string"),
    "numpy_requires_grad": (lambda m: m.zeros(2, requires_grad=True).numpy(),
                            "Can't call numpy\\(\\) on Tensor that requires grad"),
    "array_requires_grad": (lambda m: np.asarray(m.zeros(2, requires_grad=True)),
                            "requires grad"),
    "dlpack_requires_grad": (lambda m: m.zeros(2, requires_grad=True).__dlpack__(),
                             "Can't export tensors that require gradient"),
    "from_dlpack_list": (lambda m: m.from_dlpack([1, 2]), "invalid capsule"),
    "deepcopy_nonleaf": (lambda m: copy.deepcopy(m.zeros(2, requires_grad=True) * 2),
                         "Only Tensors created explicitly by the user"),
    "size_dim_range": (lambda m: m.zeros(2, 3).size(5),
                       "Dimension out of range \\(expected to be in range of \\[-2, 1\\], but "
                       "got 5\\)"),
    "size_dim_type": (lambda m: m.zeros(2).size("a"), "argument 'dim' \\(position 1\\) must be "
                                                     "int, not str"),
    "size_float_item": (lambda m: m.Size([2.5]), "takes an iterable of 'int' \\(item 0 is "
                                                 "'float'\\)"),
    "legacy_float": (lambda m: m.Tensor(2.5), "data must be a sequence \\(got float\\)"),
    "cuda_missing": (lambda m: m.zeros(2).cuda(), "not compiled with CUDA"),
}


@needs_torch
@pytest.mark.parametrize("name", BAD)
def test_bad_input_matches_torch(name):
    call, match = BAD[name]
    if name == "cuda_missing" and (torch.cuda.is_available() or torchlite.cuda.is_available()):
        pytest.skip("a GPU is present")
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(expected.type, match=match):
        call(torchlite)
