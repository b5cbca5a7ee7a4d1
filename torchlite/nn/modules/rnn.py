"""Recurrent layers (torch.nn): RNN, LSTM, GRU and their single-step cells.

Parameter names, shapes, gate order (LSTM i, f, g, o; GRU r, z, n), initialisation, checks and
``extra_repr`` are PyTorch's. Each layer and direction projects the inputs of ALL time steps with
one matmul (both biases folded in where the math allows); only the recurrent product and the
gate nonlinearities run in the loop over time. PackedSequence inputs run the same loop on
shrinking batches (sequences are sorted by length, so the running ones are the first rows).

An LSTM layer without projection on a padded batch is one primitive (LSTMLayerFunction): its
forward and backpropagation through time run in xp, so a step costs one GEMM each way instead
of a dozen graph nodes. Other cases step through LSTMCellFunction, one fused node per step.
"""
import math
import numbers
import warnings
from collections import namedtuple

from ... import _creation
from ...autograd import grad as _autograd_grad
from ...autograd.function import Function
from ...autograd.grad_mode import STATE, enable_grad
from ...ops.shape import cat, stack
from ...ops.unary import relu, sigmoid, tanh
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

# What one recurrent step needs besides its input projection: W_hh^T, b_hh when it could not be
# folded into the projection (GRU), and W_hr^T (LSTM with proj_size).
_StepWeights = namedtuple("_StepWeights", ["hh_t", "b_hh", "hr_t"])


def _rnn_tanh_step(gi, state, w):
    return (tanh(gi.addmm(state[0], w.hh_t)),)


def _rnn_relu_step(gi, state, w):
    return (relu(gi.addmm(state[0], w.hh_t)),)


def _lstm_activations(xp, gates, c):
    """[sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)] side by side, c' and tanh(c').

    One tanh over all four blocks: sigmoid(x) = 0.5 tanh(x / 2) + 0.5 (stable for any x).
    """
    hidden = c.shape[1]
    g = slice(2 * hidden, 3 * hidden)
    act = gates * 0.5
    act[:, g] = gates[:, g]
    xp.tanh(act, out=act)
    tanh_g = act[:, g].copy()
    act *= 0.5
    act += 0.5
    act[:, g] = tanh_g
    c_new = act[:, hidden:2 * hidden] * c
    c_new += act[:, :hidden] * tanh_g
    return act, c_new, xp.tanh(c_new)


class LSTMCellFunction(Function):
    """One fused LSTM update from the pre-activation gates (B, 4H) and the cell state: a single
    node per time step instead of a dozen (the recurrent loop is bound by per-op overhead)."""

    raw = True
    label = "lstm_cell(gates, c)"
    backward_rule = ("dc' = grad_c' + grad_h o (1 - tanh(c')^2); grad_gates = [dc' g i (1 - i), "
                     "dc' c f (1 - f), dc' i (1 - g^2), grad_h tanh(c') o (1 - o)]; "
                     "grad_c = dc' f")

    @staticmethod
    def forward(ctx, gates, c):
        act, c_new, tc = _lstm_activations(ctx.xp, gates, c)
        ctx.save_for_backward(gates, c)
        return act[:, 3 * c.shape[1]:] * tc, c_new

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        gates, c = ctx.saved_tensors
        return LSTMCellGrad.apply(grad_h, grad_c, gates, c)


def _lstm_cell_grads(grad_h, grad_c, gates, c):
    """The gradients of LSTMCellFunction in torchlite ops (differentiable again)."""
    i, f, _, o = sigmoid(gates).chunk(4, 1)
    g = tanh(gates[:, 2 * c.shape[1]:3 * c.shape[1]])
    tc = tanh(f * c + i * g)
    dc = grad_c + grad_h * o * (1 - tc * tc)
    dgates = cat([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                  grad_h * tc * o * (1 - o)], 1)
    return dgates, dc * f


class LSTMCellGrad(Function):
    """The backward of LSTMCellFunction as one primitive; its own backward differentiates the
    composite ``_lstm_cell_grads`` (double backward works)."""

    raw = True
    label = "lstm_cell_backward(grad_h, grad_c, gates, c)"
    backward_rule = "autograd of the composite LSTM cell gradient"

    @staticmethod
    def forward(ctx, grad_h, grad_c, gates, c):
        hidden = c.shape[1]
        act, _, tc = _lstm_activations(ctx.xp, gates, c)
        i, f = act[:, :hidden], act[:, hidden:2 * hidden]
        g, o = act[:, 2 * hidden:3 * hidden], act[:, 3 * hidden:]
        dc = grad_h * o * (1 - tc * tc)
        dc += grad_c
        dgates = ctx.xp.empty_like(gates)
        dgates[:, :hidden] = dc * g * i * (1 - i)
        dgates[:, hidden:2 * hidden] = dc * c * f * (1 - f)
        dgates[:, 2 * hidden:3 * hidden] = dc * i * (1 - g * g)
        dgates[:, 3 * hidden:] = grad_h * tc * o * (1 - o)
        ctx.save_for_backward(grad_h, grad_c, gates, c)
        return dgates, dc * f

    @staticmethod
    def backward(ctx, grad_dgates, grad_dc):
        create = STATE.enabled
        with enable_grad():
            # one alias per argument: partial derivatives per position, even where two
            # arguments are the same tensor or one is computed from another
            saved = [t.view_as(t) if t.requires_grad else t for t in ctx.saved_tensors]
            outs = _lstm_cell_grads(*saved)
            pairs = [(o, g) for o, g in zip(outs, (grad_dgates, grad_dc)) if g is not None]
            wrt = [t for t in saved if t.requires_grad]
            found = _autograd_grad([o for o, _ in pairs], wrt, [g for _, g in pairs],
                                   retain_graph=True, create_graph=create, allow_unused=True)
        by_id = {id(t): g for t, g in zip(wrt, found)}
        return tuple(by_id.get(id(t)) for t in saved)


def _lstm_layer_trace(xp, gi, h0, c0, w_hh):
    """The forward recurrence over time-ordered steps: per-step activations, the states
    h_0..h_T and c_0..c_T, and tanh(c_1..c_T)."""
    steps, hidden = gi.shape[0], h0.shape[1]
    hs = xp.empty((steps + 1,) + h0.shape, dtype=gi.dtype)
    cs = xp.empty((steps + 1,) + c0.shape, dtype=gi.dtype)
    acts = xp.empty_like(gi)
    tcs = xp.empty((steps,) + c0.shape, dtype=gi.dtype)
    hs[0], cs[0] = h0, c0
    w_t = w_hh.T
    for k in range(steps):
        gates = hs[k] @ w_t
        gates += gi[k]
        acts[k], cs[k + 1], tcs[k] = _lstm_activations(xp, gates, cs[k])
        xp.multiply(acts[k, :, 3 * hidden:], tcs[k], out=hs[k + 1])
    return acts, hs, cs, tcs


def _time_order(x, reverse):
    return x[::-1] if reverse else x


class LSTMLayerFunction(Function):
    """A whole LSTM layer in one direction (no projection): one node for all T steps. Forward
    and backpropagation through time run in xp with one GEMM per step; the W_hh gradient is
    one GEMM over all steps."""

    raw = True
    label = "lstm_layer(gi, h0, c0, w_hh)"
    backward_rule = ("backpropagation through time of lstm_cell(gi_t + h_{t-1} W_hh^T, c_{t-1}); "
                     "grad_W_hh = sum_t grad_gates_t^T h_{t-1}")

    @staticmethod
    def forward(ctx, gi, h0, c0, w_hh, reverse):
        trace = _lstm_layer_trace(ctx.xp, _time_order(gi, reverse), h0, c0, w_hh)
        if any(ctx.needs_input_grad):  # the states are kept for backward only when needed
            ctx.trace = trace
        ctx.reverse = reverse
        ctx.save_for_backward(gi, h0, c0, w_hh)
        hs, cs = trace[1], trace[2]
        return _time_order(hs[1:], reverse).copy(), hs[-1].copy(), cs[-1].copy()

    @staticmethod
    def backward(ctx, grad_out, grad_h, grad_c):
        trace = ctx.__dict__.pop("trace", None)  # reused once; a retained graph recomputes
        return LSTMLayerGrad.apply(grad_out, grad_h, grad_c, *ctx.saved_tensors,
                                   reverse=ctx.reverse, trace=trace)


def _lstm_layer_composite(gi, h0, c0, w_hh, reverse):
    """LSTMLayerFunction in differentiable torchlite ops (for double backward)."""
    w_t = w_hh.t()
    state = (h0, c0)
    outs = []
    for g in _time_order(gi.unbind(0), reverse):
        state = LSTMCellFunction.apply(g.addmm(state[0], w_t), state[1])
        outs.append(state[0])
    return stack(_time_order(outs, reverse)), state[0], state[1]


class LSTMLayerGrad(Function):
    """The backward of LSTMLayerFunction as one primitive; its own backward differentiates the
    composite layer's gradient (double backward works)."""

    raw = True
    label = "lstm_layer_backward(grad_out, grad_h, grad_c, gi, h0, c0, w_hh)"
    backward_rule = "autograd of the composite LSTM layer's gradient"

    @staticmethod
    def forward(ctx, grad_out, grad_h, grad_c, gi, h0, c0, w_hh, reverse, trace):
        xp = ctx.xp
        if trace is None:
            trace = _lstm_layer_trace(xp, _time_order(gi, reverse), h0, c0, w_hh)
        acts, hs, cs, tcs = trace
        steps, batch, hidden = tcs.shape
        a = acts.reshape(steps, batch, 4, hidden)
        i, f, g, o = a[:, :, 0], a[:, :, 1], a[:, :, 2], a[:, :, 3]
        # what does not depend on the recurrence is computed for all steps at once
        ifg = xp.stack([g * i * (1 - i), cs[:-1] * f * (1 - f), i * (1 - g * g)], 2)
        out_gate = tcs * o * (1 - o)
        through_tanh = o * (1 - tcs * tcs)
        g_out = _time_order(grad_out, reverse)
        dgates = xp.empty_like(acts)
        dh, dc = grad_h.copy(), grad_c.copy()
        for k in range(steps - 1, -1, -1):
            dh += g_out[k]
            dc += dh * through_tanh[k]
            d = dgates[k].reshape(batch, 4, hidden)
            xp.multiply(dc[:, None, :], ifg[k], out=d[:, :3])
            xp.multiply(dh, out_gate[k], out=d[:, 3])
            dc *= f[k]
            dh = dgates[k] @ w_hh
        flat = dgates.reshape(-1, dgates.shape[-1])
        d_w = flat.T @ hs[:-1].reshape(-1, hidden)
        ctx.reverse = reverse
        ctx.save_for_backward(grad_out, grad_h, grad_c, gi, h0, c0, w_hh)
        return _time_order(dgates, reverse).copy(), dh, dc, d_w

    @staticmethod
    def backward(ctx, *grads):
        create = STATE.enabled
        with enable_grad():
            saved = [t.view_as(t) if t.requires_grad else t for t in ctx.saved_tensors]
            upstream, inputs = saved[:3], saved[3:]
            pairs = [(x, g) for x, g in zip(inputs, grads) if g is not None and x.requires_grad]
            outs = _lstm_layer_composite(*inputs, ctx.reverse)
            firsts = _autograd_grad(list(outs), [x for x, _ in pairs], upstream,
                                    create_graph=True, allow_unused=True)
            kept = [(f, g) for f, (_, g) in zip(firsts, pairs) if f is not None]
            wrt = [t for t in saved if t.requires_grad]
            found = _autograd_grad([f for f, _ in kept], wrt, [g for _, g in kept],
                                   retain_graph=True, create_graph=create, allow_unused=True) \
                if kept else [None] * len(wrt)
        by_id = {id(t): g for t, g in zip(wrt, found)}
        return tuple(by_id.get(id(t)) for t in saved)


def _lstm_step(gi, state, w):
    """c' = f * c + i * g, h' = o * tanh(c') (then h' W_hr^T with a projection)."""
    h, c = state
    h, c = LSTMCellFunction.apply(gi.addmm(h, w.hh_t), c)
    if w.hr_t is not None:
        h = h.mm(w.hr_t)
    return h, c


def _gru_step(gi, state, w):
    """r, z = sigmoid(gi_rz + gh_rz); n = tanh(gi_n + r * gh_n); h' = (1 - z) n + z h."""
    h, = state
    gh = h.mm(w.hh_t) if w.b_hh is None else w.b_hh.addmm(h, w.hh_t)
    split = 2 * h.shape[1]
    r, z = sigmoid(gi[:, :split] + gh[:, :split]).chunk(2, 1)
    n = tanh(gi[:, split:] + r * gh[:, split:])
    return (n + z * (h - n),)


# mode -> (gates per hidden unit, step function, whether b_hh folds into the projection)
_MODES = {
    "RNN_TANH": (1, _rnn_tanh_step, True),
    "RNN_RELU": (1, _rnn_relu_step, True),
    "LSTM": (4, _lstm_step, True),
    "GRU": (3, _gru_step, False),
}


def _projection(x, w_ih, b_ih, b_hh, fold):
    """x W_ih^T + b_ih (+ b_hh when ``fold``): one GEMM over all time steps."""
    if b_ih is None:
        return F.linear(x, w_ih)
    return F.linear(x, w_ih, b_ih + b_hh if fold else b_ih)


def _step_weights(w_hh, b_hh, w_hr, fold):
    return _StepWeights(w_hh.t(), None if fold else b_hh,
                        None if w_hr is None else w_hr.t())


def _run_forward(step, steps, state, w):
    """Run ``step`` over time; rows whose sequence ended leave the batch (their last state is
    kept). Returns the per-step outputs and the final state."""
    outputs = []
    done = []
    for gi in steps:
        bs = gi.shape[0]
        if bs < state[0].shape[0]:
            done.append(tuple(s[bs:] for s in state))
            state = tuple(s[:bs] for s in state)
        state = step(gi, state, w)
        outputs.append(state[0])
    if done:
        done.append(state)
        state = tuple(cat(parts[::-1]) for parts in zip(*done))
    return outputs, state


def _run_reverse(step, steps, state0, w):
    """Run ``step`` from the last step to the first; rows join the batch (from their initial
    state) when their sequence starts."""
    outputs = []
    state = tuple(s[:steps[-1].shape[0]] for s in state0)
    for gi in reversed(steps):
        have, bs = state[0].shape[0], gi.shape[0]
        if bs > have:
            state = tuple(cat([s, s0[have:bs]]) for s, s0 in zip(state, state0))
        state = step(gi, state, w)
        outputs.append(state[0])
    outputs.reverse()
    return outputs, state


def _apply_permutation(tensor, permutation, dim=1):
    return tensor.index_select(dim, permutation)


class RNNBase(Module):
    """Shared by RNN, LSTM and GRU: parameters, initialisation, input checks and the layered,
    optionally bidirectional, recurrence."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self._check_args(dropout)
        if mode not in _MODES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _MODES[mode][0] * hidden_size
        factory = {"device": device, "dtype": dtype}
        num_directions = 2 if bidirectional else 1
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden_size * num_directions
                shapes = [(gate_size, layer_input), (gate_size, real_hidden_size)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    shapes.append((proj_size, hidden_size))
                    names.append("weight_hr_l{}{}")
                names = [n.format(layer, "_reverse" if direction else "") for n in names]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(_creation.empty(shape, **factory)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def _check_args(self, dropout):
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 \
                or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and self.num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={self.num_layers}", stacklevel=3)
        for name in ("bias", "batch_first"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} should be of type bool, got: "
                                f"{type(getattr(self, name)).__name__}")
        for name in ("input_size", "hidden_size"):
            value = getattr(self, name)
            if not isinstance(value, int):
                raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if self.num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if self.proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if self.proj_size >= self.hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")

    @property
    def _flat_weights(self):
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """A no-op (PyTorch uses it to pack weights for cuDNN)."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def check_input(self, input, batch_sizes):
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight_dtype}). Convert input: input.to({weight_dtype}), or "
                             f"convert model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got "
                               f"{input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx, permutation)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def __setstate__(self, state):
        super().__setstate__(state)
        if "proj_size" not in state:
            self.proj_size = 0

    # ---- the recurrence ----------------------------------------------------------------

    def _zeros_state(self, input, batch):
        """Zero initial states: (h0,) or (h0, c0) for LSTM."""
        num = self.num_layers * (2 if self.bidirectional else 1)
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        h0 = _creation.zeros((num, batch, size), dtype=input.dtype, device=input.device)
        if self.mode != "LSTM":
            return (h0,)
        return h0, _creation.zeros((num, batch, self.hidden_size), dtype=input.dtype,
                                   device=input.device)

    def _direction(self, x, batch_sizes, layer, direction, state0):
        """One layer in one direction over all steps: (stacked outputs, final state)."""
        _, step, fold = _MODES[self.mode]
        names = self._all_weights[layer * (2 if self.bidirectional else 1) + direction]
        weights = [getattr(self, n) for n in names]
        w_ih, w_hh = weights[:2]
        b_ih, b_hh = weights[2:4] if self.bias else (None, None)
        w_hr = weights[-1] if self.proj_size > 0 else None
        gi = _projection(x, w_ih, b_ih, b_hh, fold)
        if self.mode == "LSTM" and w_hr is None and batch_sizes is None:
            out, h, c = LSTMLayerFunction.apply(gi, *state0, w_hh, reverse=bool(direction))
            return out, (h, c)
        steps = gi.unbind(0) if batch_sizes is None else gi.split(batch_sizes)
        w = _step_weights(w_hh, b_hh, w_hr, fold)
        run = _run_reverse if direction else _run_forward
        outputs, state = run(step, steps, state0, w)
        return (stack(outputs) if batch_sizes is None else cat(outputs)), state

    def _run(self, x, hx, batch_sizes):
        """All layers: x is (T, B, F) time-major, or packed (N, F) with ``batch_sizes``."""
        num_directions = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                index = layer * num_directions + direction
                out, state = self._direction(x, batch_sizes, layer, direction,
                                             tuple(h[index] for h in hx))
                outs.append(out)
                finals.append(state)
            x = outs[0] if num_directions == 1 else cat(outs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        return x, tuple(stack(parts) for parts in zip(*finals))

    def _forward(self, input, hx):
        """The shared forward of RNN, LSTM and GRU; ``hx`` is a tuple of state tensors."""
        name = "RNN" if self.mode.startswith("RNN") else self.mode
        packed = isinstance(input, PackedSequence)
        sorted_indices = unsorted_indices = None
        if packed:
            input, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = batch_sizes_t.tolist()
            batch = batch_sizes[0]
            is_batched = True
        else:
            batch_sizes_t = batch_sizes = None
            if input.dim() not in (2, 3):
                tensor = " tensor" if name == "RNN" else ""
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D"
                                 f"{tensor} instead")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
            batch = input.size(batch_dim)
        if hx is None:
            hx = self._zeros_state(input, batch)
        else:
            hx = self._check_given_state(hx, is_batched, packed)
        self._check_state(input, hx, batch_sizes_t)
        if sorted_indices is not None:
            hx = tuple(_apply_permutation(h, sorted_indices) for h in hx)
        x = input.transpose(0, 1) if self.batch_first and not packed else input
        output, hidden = self._run(x, hx, batch_sizes)
        if unsorted_indices is not None:
            hidden = tuple(_apply_permutation(h, unsorted_indices) for h in hidden)
        if packed:
            output = PackedSequence(output, batch_sizes_t, sorted_indices, unsorted_indices)
        else:
            if self.batch_first:
                output = output.transpose(0, 1)
            if not is_batched:
                output = output.squeeze(batch_dim)
                hidden = tuple(h.squeeze(1) for h in hidden)
        return output, (hidden if self.mode == "LSTM" else hidden[0])

    def _check_given_state(self, hx, is_batched, packed):
        """PyTorch's rank checks of a user-given hx (unbatched ones get a batch dim)."""
        if self.mode == "LSTM":
            hx = tuple(hx)
            ranks = tuple(h.dim() for h in hx)
            if not packed and is_batched and ranks != (3, 3):
                raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                   f"({ranks[0]}-D, {ranks[1]}-D) tensors")
            if not is_batched and ranks != (2, 2):
                raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but "
                                   f"got ({ranks[0]}-D, {ranks[1]}-D) tensors")
        else:
            hx = (hx,)
            if not packed and is_batched and hx[0].dim() != 3:
                raise RuntimeError("For batched 3-D input, hx should also be 3-D but got "
                                   f"{hx[0].dim()}-D tensor")
            if not is_batched and hx[0].dim() != 2:
                raise RuntimeError("For unbatched 2-D input, hx should also be 2-D but got "
                                   f"{hx[0].dim()}-D tensor")
        return hx if is_batched else tuple(h.unsqueeze(1) for h in hx)

    def _check_state(self, input, hx, batch_sizes):
        if self.mode == "LSTM":
            self.check_forward_args(input, hx, batch_sizes)
        else:
            self.check_forward_args(input, hx[0], batch_sizes)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o); optional projection of h (proj_size)."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx[0], permutation), _apply_permutation(hx[1], permutation)

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)))."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward(input, hx)


# ---- cells --------------------------------------------------------------------------------

class RNNCellBase(Module):
    """Shared by the cells: weight_ih (chunks*H, in), weight_hh (chunks*H, H), biases."""

    __constants__ = ["input_size", "hidden_size", "bias"]
    _fold = True  # b_hh folds into the input projection (not for GRU)

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_creation.empty((num_chunks * hidden_size, input_size),
                                                   **factory))
        self.weight_hh = Parameter(_creation.empty((num_chunks * hidden_size, hidden_size),
                                                   **factory))
        if bias:
            self.bias_ih = Parameter(_creation.empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(_creation.empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _cell(self, input, hx, num_states, step):
        """Checks, unbatched handling and one ``step``; returns the new state tuple."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        if hx is not None:
            for i, h in enumerate(hx):
                if h.dim() not in (1, 2):
                    what = "hidden" if num_states == 1 else f"hx[{i}]"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {h.dim()}D "
                                     "instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = _creation.zeros((input.size(0), self.hidden_size), dtype=input.dtype,
                                    device=input.device)
            hx = (zeros,) * num_states
        elif not is_batched:
            hx = tuple(h.unsqueeze(0) for h in hx)
        self._check_sizes(input, hx)
        gi = _projection(input, self.weight_ih, self.bias_ih, self.bias_hh, self._fold)
        w = _step_weights(self.weight_hh, self.bias_hh, None, self._fold)
        state = step(gi, hx, w)
        return state if is_batched else tuple(s.squeeze(0) for s in state)

    def _check_sizes(self, input, hx):
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} "
                               f"expected {self.input_size}")
        for i, h in enumerate(hx):
            if h.size(0) != input.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} "
                                   f"batch size {h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.size(1)}, "
                                   f"expected {self.hidden_size}")


class RNNCell(RNNCellBase):
    """One Elman step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        steps = {"tanh": _rnn_tanh_step, "relu": _rnn_relu_step}
        if self.nonlinearity not in steps:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._cell(input, None if hx is None else (hx,), 1,
                          steps[self.nonlinearity])[0]


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        return self._cell(input, hx, 2, _lstm_step)


class GRUCell(RNNCellBase):
    """One GRU step; returns h'."""

    _fold = False

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        return self._cell(input, None if hx is None else (hx,), 1, _gru_step)[0]
