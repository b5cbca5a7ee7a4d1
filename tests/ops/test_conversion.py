"""Tensor.to / cpu / cuda / type / dtype shortcuts, clone and contiguous, against PyTorch."""
import numpy as np
import pytest

import torchlite


def test_to_same_dtype_and_device_returns_self():
    t = torchlite.ones(3)
    assert t.to(torchlite.float32) is t
    assert t.to("cpu") is t
    assert t.to(torchlite.float32, copy=True) is not t


def test_to_parses_every_form(torch_oracle):
    src = np.arange(6, dtype=np.float32).reshape(2, 3)
    t, ref = torchlite.tensor(src), torch_oracle.tensor(src)
    other, ref_other = torchlite.zeros(1, dtype=torchlite.int32), torch_oracle.zeros(
        1, dtype=torch_oracle.int32)
    cases = [
        (t.to(torchlite.float64), ref.to(torch_oracle.float64)),
        (t.to("cpu", torchlite.int64), ref.to("cpu", torch_oracle.int64)),
        (t.to(device="cpu", dtype=torchlite.float16), ref.to(device="cpu",
                                                             dtype=torch_oracle.float16)),
        (t.to(other), ref.to(ref_other)),
        (t.to(torchlite.device("cpu")), ref.to(torch_oracle.device("cpu"))),
    ]
    for got, want in cases:
        assert str(got.dtype) == str(want.dtype)
        assert str(got.device) == str(want.device)
        np.testing.assert_array_equal(got.numpy().astype(np.float64),
                                      want.numpy().astype(np.float64))


@pytest.mark.parametrize("name", ["float", "double", "half", "bfloat16", "long", "int", "short",
                                  "char", "byte", "bool"])
def test_dtype_shortcuts(name, torch_oracle):
    src = np.array([[-1.5, 0.0, 2.25]], dtype=np.float32)
    got = getattr(torchlite.tensor(src), name)()
    want = getattr(torch_oracle.tensor(src), name)()
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_array_equal(np.asarray(got.tolist()), np.asarray(want.tolist()))


def test_type_names_and_casts(torch_oracle):
    t, ref = torchlite.tensor([1.5, 2.5]), torch_oracle.tensor([1.5, 2.5])
    assert t.type() == ref.type() == "torch.FloatTensor"
    assert t.type(torchlite.int64).type() == ref.type(torch_oracle.int64).type()
    assert t.type("torch.DoubleTensor").dtype is torchlite.float64
    assert t.long().type() == ref.long().type() == "torch.LongTensor"
    assert t.type_as(torchlite.zeros(1, dtype=torchlite.float64)).dtype is torchlite.float64
    with pytest.raises(ValueError, match="invalid type"):
        t.type("torch.NoSuchTensor")


def test_cast_gradient_comes_back_in_input_dtype():
    x = torchlite.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * torchlite.tensor([3.0, 4.0], dtype=torchlite.float64)
    y.sum().backward()
    assert x.grad.dtype is torchlite.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_cast_to_int_is_not_differentiable():
    x = torchlite.tensor([1.7, 2.2], requires_grad=True)
    y = x.long()
    assert not y.requires_grad and y.grad_fn is None
    assert y.tolist() == [1, 2]


def test_clone_is_a_copy_with_gradient():
    x = torchlite.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert y.grad_fn.name() == "CloneBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    z = torchlite.tensor([1.0, 2.0])
    w = z.clone()
    w.fill_(7.0)
    assert z.tolist() == [1.0, 2.0]


def test_contiguous_makes_c_layout_and_keeps_values():
    base = torchlite.tensor(np.arange(12.0).reshape(3, 4))
    t = base.transpose(0, 1)
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c is not t
    np.testing.assert_array_equal(c.numpy(), np.arange(12.0).reshape(3, 4).T)
    assert base.contiguous() is base


@pytest.mark.skipif(torchlite.cuda.is_available(), reason="checks the error without a GPU")
def test_cuda_without_gpu_raises_clear_error():
    with pytest.raises(AssertionError, match="CUDA"):
        torchlite.ones(2).cuda()
    with pytest.raises(AssertionError, match="CUDA"):
        torchlite.ones(2).to("cuda")
