"""In-place ops under autograd: version counters, saved-tensor checks, leaves, views, detach."""
import re

import pytest

import torchlite

from .helpers import leaf, raises_alike, same_program

MODIFIED = (r"one of the variables needed for gradient computation has been modified by an "
            r"inplace operation: \[torch\.DoubleTensor \[2\]\]")
MODIFIED_OUTPUT = MODIFIED + r", which is output 0 of \w+, is at version 1; expected version 0"


def test_version_counter_counts_in_place_ops(torch_oracle):
    def program(lib):
        x = lib.zeros(3, dtype=lib.float64)
        seen = [x._version]
        for op in (lambda: x.fill_(1), lambda: x.zero_(), lambda: x.copy_(lib.ones(3)),
                   lambda: x.exp_()):
            op()
            seen.append(x._version)
        y = x * 2
        x.requires_grad_()
        return seen, y._version, x._version
    same_program(program, torch_oracle)


def test_views_and_detach_share_the_version_counter(torch_oracle):
    def program(lib):
        x = lib.zeros(2, 2, dtype=lib.float64)
        v = x.view(4)
        t = x.transpose(0, 1)
        d = x.detach()
        v.fill_(2)
        after_view = (x._version, v._version, t._version, d._version)
        d.zero_()
        return after_view, (x._version, v._version, t._version, d._version), x
    same_program(program, torch_oracle)


def test_data_has_its_own_version_counter(torch_oracle):
    def program(lib):
        x = lib.zeros(2, dtype=lib.float64)
        d = x.data
        d.fill_(1)
        return x._version, d._version, x
    same_program(program, torch_oracle)


def test_modified_saved_output_raises_on_backward(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        y = x.exp()          # ExpBackward0 saves its output y
        z = (y * 1).sum()
        y.zero_()
        z.backward()
    raises_alike(program, torch_oracle, RuntimeError, MODIFIED_OUTPUT)


def test_modified_saved_input_raises_on_backward(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        a = x * 1
        b = a * a            # MulBackward0 saves a
        a.fill_(0)
        b.sum().backward()
    raises_alike(program, torch_oracle, RuntimeError, MODIFIED_OUTPUT)


def test_in_place_op_on_the_saved_output_itself_raises(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        y = x.exp()
        y.exp_()
        y.sum().backward()
    raises_alike(program, torch_oracle, RuntimeError, MODIFIED_OUTPUT)


def test_fill_over_a_saved_output_raises(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        y = x.exp()
        y.fill_(1)
        y.sum().backward()
    raises_alike(program, torch_oracle, RuntimeError, MODIFIED_OUTPUT)


@pytest.mark.parametrize("op", ["fill_", "copy_", "zero_"])
def test_overwriting_gives_zero_gradient_to_the_history(torch_oracle, op):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        y = x * 2
        args = {"fill_": (1.0,), "copy_": (leaf(lib, [3.0, 4.0]) * 1,)}.get(op, ())
        getattr(y, op)(*args)
        y.sum().backward()
        return x.grad
    same_program(program, torch_oracle)


def test_modified_saved_constant_raises(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        c = lib.tensor([3.0, 4.0], dtype=lib.float64)
        y = x * c
        c.fill_(2)
        y.sum().backward()
    raises_alike(program, torch_oracle, RuntimeError, MODIFIED + r".* is at version 1; expected "
                 r"version 0 instead")


def test_modified_error_wording_for_leaf_and_hint(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        c = lib.tensor([3.0, 4.0], dtype=lib.float64)
        y = x * c
        c.fill_(2)
        y.sum().backward()
    raises_alike(program, torch_oracle, RuntimeError,
                 MODIFIED + r" is at version 1; expected version 0 instead\. Hint: enable "
                 r"anomaly detection to find the operation that failed to compute its gradient")


def test_in_place_op_on_non_leaf_gives_correct_gradients(torch_oracle):
    def program(lib):
        x = leaf(lib, [0.5, -1.0])
        y = x * 3
        y.neg_()
        y.exp_()
        (y * x).sum().backward()
        return y, y.grad_fn.name(), y._version, x.grad
    same_program(program, torch_oracle)


def test_copy_into_non_leaf_routes_gradient_to_source(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        w = leaf(lib, [3.0, 4.0])
        y = x * 2
        y.copy_(w * w)
        (y * y).sum().backward()
        return y.grad_fn is not None, w.grad
    same_program(program, torch_oracle)


@pytest.mark.parametrize("op", ["fill_", "zero_", "copy_", "exp_"])
def test_in_place_on_leaf_requiring_grad_raises(torch_oracle, op):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        args = {"fill_": (1.0,), "copy_": (lib.ones(2, dtype=lib.float64),)}.get(op, ())
        getattr(x, op)(*args)
    raises_alike(program, torch_oracle, RuntimeError,
                 "a leaf Variable that requires grad is being used in an in-place operation.")


def test_in_place_on_leaf_is_allowed_under_no_grad(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        with lib.no_grad():
            x.fill_(3)
            x.exp_()
        (x * x).sum().backward()
        return x, x._version, x.requires_grad, x.is_leaf, x.grad
    same_program(program, torch_oracle)


def test_in_place_on_view_of_leaf_requiring_grad_raises(torch_oracle):
    def program(lib):
        leaf(lib, [[1.0, 2.0]]).view(2).fill_(1)
    raises_alike(program, torch_oracle, RuntimeError,
                 "a view of a leaf Variable that requires grad is being used in an in-place "
                 "operation.")


@pytest.mark.parametrize("view", ["transpose", "view", "expand_row"])
def test_in_place_on_view_of_non_leaf_reaches_the_base(torch_oracle, view):
    def program(lib):
        x = leaf(lib, [[1.0, 2.0], [3.0, 4.0]])
        w = leaf(lib, [5.0, 6.0])
        y = x * 1
        v = {"transpose": lambda: y.transpose(0, 1),
             "view": lambda: y.view(4),
             "expand_row": lambda: y.permute(1, 0)}[view]()
        v.copy_((w * 2).expand(2, 2).reshape(v.shape))
        (y * y.exp()).sum().backward()
        return y, v, y._version, v._version, x.grad, w.grad
    same_program(program, torch_oracle)


def test_in_place_on_base_is_seen_through_its_view(torch_oracle):
    def program(lib):
        x = leaf(lib, [[1.0, 2.0], [3.0, 4.0]])
        y = x * 1
        v = y.view(4)
        y.exp_()
        (v * v).sum().backward()
        return v, v._version, x.grad
    same_program(program, torch_oracle)


def test_copy_slices_node_name(torch_oracle):
    def program(lib):
        y = leaf(lib, [[1.0, 2.0]]) * 1
        y.view(2).fill_(0)
        return y.grad_fn.name()
    same_program(program, torch_oracle)


def test_detach_shares_data_and_version_but_not_history(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        y = x * 2
        d = y.detach()
        d.fill_(7)
        return y, d.requires_grad, d.is_leaf, d.grad_fn is None, y._version, d._version
    same_program(program, torch_oracle)


def test_detach_in_place(torch_oracle):
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        y = x * 2
        y.detach_()
        return y.requires_grad, y.is_leaf, y.grad_fn is None, x.requires_grad
    same_program(program, torch_oracle)


def test_detach_in_place_of_a_view_raises(torch_oracle):
    def program(lib):
        (leaf(lib, [1.0, 2.0]) * 2).view(2).detach_()
    raises_alike(program, torch_oracle, RuntimeError,
                 r"Can't detach views in-place\. Use detach\(\) instead\.")


def test_modified_saved_input_is_named_by_its_grad_fn_now(torch_oracle):
    """The message names the tensor's grad_fn at backward time (the in-place op's), as PyTorch
    does, not the op that made it."""
    def culprit(lib):
        x = leaf(lib, [1.0, 2.0])
        a = x * 2
        b = a * a            # MulBackward0 saves a; then AddBackward0 becomes a's grad_fn
        a.add_(1)
        with pytest.raises(RuntimeError) as info:
            b.sum().backward()
        return re.search(r"which is output \d+ of \w+", str(info.value)).group(0)
    assert culprit(torchlite) == culprit(torch_oracle) == "which is output 0 of Add"
