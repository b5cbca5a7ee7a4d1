"""A table of wrong autograd calls: torchlite and PyTorch raise the same type and message."""
import pytest

import torchlite
from .helpers import leaf, raises_alike


def _t(lib, values=(1.0, 2.0), requires_grad=True):
    return leaf(lib, list(values), requires_grad=requires_grad)


def _twice(lib):
    y = _t(lib).exp().sum()
    y.backward()
    y.backward()


def _bad_grad_type(lib):
    class BadType(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return 3

    BadType.apply(_t(lib)).sum().backward()


def _once_differentiable_twice(lib):
    from importlib import import_module
    once = import_module(f"{lib.__name__}.autograd.function").once_differentiable

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x

    x = _t(lib)
    (g,) = lib.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    g.sum().backward()


def _bad_count(lib):
    class Few(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    Few.apply(_t(lib), _t(lib)).sum().backward()


def _fn(name):
    return lambda lib: getattr(lib.autograd.functional, name)


ROWS = [
    ("int_requires_grad_", lambda lib: lib.tensor([1, 2]).requires_grad_(), RuntimeError,
     "only Tensors of floating point dtype can require gradients"),
    ("int_tensor_requires_grad", lambda lib: lib.tensor([1, 2], requires_grad=True),
     RuntimeError, "Only Tensors of floating point and complex dtype can require gradients"),
    ("int_zeros_requires_grad", lambda lib: lib.zeros(2, dtype=lib.int64, requires_grad=True),
     RuntimeError, "Only Tensors of floating point and complex dtype can require gradients"),
    ("backward_twice", _twice, RuntimeError,
     "Trying to backward through the graph a second time"),
    ("non_scalar_backward", lambda lib: (_t(lib) * 2).backward(), RuntimeError,
     "grad can be implicitly created only for scalar outputs"),
    ("complex_scalar_backward", lambda lib: (_t(lib) * 1).to(lib.complex128).sum().backward(),
     RuntimeError, "grad can be implicitly created only for real scalar outputs but got "
     "torch.complex128"),
    ("wrong_grad_shape",
     lambda lib: (_t(lib) * 2).backward(lib.ones(3, dtype=lib.float64)), RuntimeError,
     r"Mismatch in shape: grad_output\[0\] has a shape of torch.Size\(\[3\]\) and output\[0\] "
     r"has a shape of torch.Size\(\[2\]\)"),
    ("backward_without_grad", lambda lib: _t(lib, requires_grad=False).sum().backward(),
     RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn"),
    ("grad_wrt_tensor_without_grad",
     lambda lib: lib.autograd.grad((_t(lib) * 2).sum(), [_t(lib, requires_grad=False)]),
     RuntimeError, "One of the differentiated Tensors does not require grad"),
    ("grad_unused_input", lambda lib: lib.autograd.grad((_t(lib) * 2).sum(), [_t(lib)]),
     RuntimeError, "The differentiated Tensor at index 0 appears to not have been used in the "
     "graph"),
    ("backward_empty_inputs", lambda lib: (_t(lib) * 2).sum().backward(inputs=[]),
     RuntimeError, r"`inputs` argument to `backward\(\)` cannot be empty\."),
    ("hook_without_grad", lambda lib: _t(lib, requires_grad=False).register_hook(print),
     RuntimeError, "cannot register a hook on a tensor that doesn't require gradient"),
    ("retain_grad_without_grad", lambda lib: _t(lib, requires_grad=False).retain_grad(),
     RuntimeError, "can't retain_grad on Tensor that has requires_grad=False"),
    ("non_leaf_requires_grad_false",
     lambda lib: setattr(_t(lib) * 2, "requires_grad", False), RuntimeError,
     "you can only change requires_grad flags of leaf variables"),
    ("numpy_of_requires_grad", lambda lib: _t(lib).numpy(), RuntimeError,
     r"Can't call numpy\(\) on Tensor that requires grad"),
    ("assign_grad_wrong_type", lambda lib: setattr(_t(lib), "grad", 3), TypeError,
     "assigned grad expected to be a Tensor or None but got grad of type int"),
    ("assign_grad_wrong_size",
     lambda lib: setattr(_t(lib), "grad", lib.ones(3, dtype=lib.float64)), RuntimeError,
     "attempting to assign a gradient of size"),
    ("in_place_on_leaf", lambda lib: _t(lib).zero_(), RuntimeError,
     "a leaf Variable that requires grad is being used in an in-place operation."),
    ("detach_view_in_place", lambda lib: (_t(lib) * 2).view(2).detach_(), RuntimeError,
     r"Can't detach views in-place\. Use detach\(\) instead\."),
    ("function_wrong_grad_count", _bad_count, RuntimeError,
     r"function FewBackward returned an incorrect number of gradients \(expected 2, got 1\)"),
    ("function_grad_not_a_tensor", _bad_grad_type, RuntimeError,
     r"expected Variable or None \(got int\)"),
    ("once_differentiable_double_backward", _once_differentiable_twice, RuntimeError,
     "element 0 of tensors does not require grad and does not have a grad_fn"),
    ("gradcheck_no_input_requires_grad",
     lambda lib: lib.autograd.gradcheck(lambda x: x * 2, (_t(lib, requires_grad=False),)),
     ValueError, "gradcheck expects at least one input tensor to require gradient"),
    ("jacobian_of_non_tensor", lambda lib: _fn("jacobian")(lib)(lambda x: x, 3), TypeError,
     "The inputs given to jacobian must be either a Tensor or a tuple of Tensors but the given "
     "inputs has type <class 'int'>."),
    ("jacobian_tuple_with_non_tensor",
     lambda lib: _fn("jacobian")(lib)(lambda x, y: x, (_t(lib), 3)), TypeError,
     "but the value at index 1 has type <class 'int'>."),
    ("jacobian_strict_unused_input",
     lambda lib: _fn("jacobian")(lib)(lambda x, y: x * 2, (_t(lib), _t(lib)), strict=True),
     RuntimeError, "Output 0 of the user-provided function is independent of input 1. This is "
     "not allowed in strict mode."),
    ("jacobian_strict_constant_output",
     lambda lib: _fn("jacobian")(lib)(lambda x: lib.ones(2), _t(lib), strict=True),
     RuntimeError, "Output 0 of the user-provided function does not require gradients."),
    ("jacobian_bad_strategy",
     lambda lib: _fn("jacobian")(lib)(lambda x: x, _t(lib), strategy="sideways"),
     AssertionError, 'Expected strategy to be either "forward-mode" or "reverse-mode".'),
    ("jacobian_strict_vectorize",
     lambda lib: _fn("jacobian")(lib)(lambda x: x, _t(lib), strict=True, vectorize=True),
     RuntimeError, "`strict=True` and `vectorized=True` are not supported together."),
    ("vjp_v_none_for_non_scalar", lambda lib: _fn("vjp")(lib)(lambda x: x * 2, _t(lib)),
     RuntimeError, "The vector v can only be None if the user-provided function returns a "
     "single Tensor with a single element."),
    ("vjp_v_wrong_size",
     lambda lib: _fn("vjp")(lib)(lambda x: x * 2, _t(lib), lib.ones(3, dtype=lib.float64)),
     RuntimeError, r"v has invalid size: should be torch.Size\(\[2\]\) but got "
     r"torch.Size\(\[3\]\)."),
    ("jvp_v_tuple_too_short",
     lambda lib: _fn("jvp")(lib)(lambda x, y: x * y, (_t(lib), _t(lib)),
                                 (lib.ones(2, dtype=lib.float64),)),
     RuntimeError, "v is a tuple of invalid length: should be 2 but got 1."),
    ("hessian_of_non_scalar", lambda lib: _fn("hessian")(lib)(lambda x: x * 2, _t(lib)),
     RuntimeError, "The Tensor returned by the function given to hessian should contain a "
     "single element"),
    ("hessian_of_tuple",
     lambda lib: _fn("hessian")(lib)(lambda x: (x.sum(), x.sum()), _t(lib)), RuntimeError,
     "The function given to hessian should return a single Tensor"),
    ("hvp_of_non_scalar",
     lambda lib: _fn("hvp")(lib)(lambda x: x * 2, _t(lib), lib.ones(2, dtype=lib.float64)),
     RuntimeError, "The Tensor returned by the function given to hvp should contain a single "
     "element"),
    ("vhp_v_none", lambda lib: _fn("vhp")(lib)(lambda x: (x * x).sum(), _t(lib)),
     RuntimeError, "The vector v can only be None if the input to the user-provided function "
     "is a single Tensor with a single element."),
]


@pytest.mark.parametrize("name, program, exc, match",
                         [pytest.param(*r, id=r[0]) if type(r) is tuple else r for r in ROWS])
def test_error(torch_oracle, name, program, exc, match):
    raises_alike(program, torch_oracle, exc, match)


def _has_cuda():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no CuPy or no GPU
        return False


@pytest.mark.skipif(not _has_cuda(), reason="mixed devices need a GPU and CuPy; the PyTorch "
                    "oracle is CPU-only, so the message is checked against PyTorch's known text")
def test_mixed_devices_error():
    a = torchlite.ones(2, dtype=torchlite.float64, requires_grad=True)
    b = torchlite.ones(2, dtype=torchlite.float64, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but "
                                           "found at least two devices"):
        a * b
    (a * torchlite.tensor(2.0)).sum().backward()   # a 0-d CPU tensor is a scalar operand
