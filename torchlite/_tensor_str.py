"""repr/str of tensors in PyTorch's layout (a port of torch/_tensor_str.py on NumPy arrays).

Widths, int/sci modes, summarisation with "...", line wrapping and the suffixes
(``dtype=``, ``size=``, ``device=``, ``grad_fn=``, ``requires_grad=True``) follow PyTorch exactly,
so ``repr(torchlite.tensor(x)) == repr(torch.tensor(x))``.
"""
import contextlib
import math

import numpy as np

from . import _dtype

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}
PRINT_OPTIONS = dict(_DEFAULTS, sci_mode=None)
_PROFILES = {"default": _DEFAULTS,
             "short": dict(_DEFAULTS, precision=2, edgeitems=2),
             "full": dict(_DEFAULTS, threshold=math.inf)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """torch.set_printoptions: a profile ("default", "short", "full"), then single options."""
    if profile is not None and profile in _PROFILES:
        PRINT_OPTIONS.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTIONS[key] = value
    PRINT_OPTIONS["sci_mode"] = sci_mode


def get_printoptions():
    """The current print options, as keyword arguments of set_printoptions."""
    return dict(PRINT_OPTIONS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Set print options inside the block, restore them after."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses int/fixed/sci mode and the column width from the values shown (torch's rules)."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        values = values.reshape(-1)
        if not floating:
            self.max_width = max([1] + [len(str(v)) for v in values.tolist()])
            return
        vals = values[np.isfinite(values) & (values != 0)]
        if vals.size == 0:
            return
        absv = np.abs(vals)
        lo, hi = absv.min(), absv.max()
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        forced = PRINT_OPTIONS["sci_mode"]
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if forced is None \
            else forced
        p = PRINT_OPTIONS["precision"]
        if self.sci_mode:
            fmt, extra = f"{{:.{p}e}}", 0
        elif self.int_mode:
            fmt, extra = "{:.0f}", 1
        else:
            fmt, extra = f"{{:.{p}f}}", 0
        self.max_width = max(len(fmt.format(v)) + extra for v in vals.tolist())

    def width(self):
        return self.max_width

    def format(self, value):
        p = PRINT_OPTIONS["precision"]
        if not self.floating:
            ret = str(value)
        elif self.sci_mode:
            ret = f"{value:{self.max_width}.{p}e}"
        elif self.int_mode:
            ret = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                ret += "."
        else:
            ret = f"{value:.{p}f}"
        return (self.max_width - len(ret)) * " " + ret


def _complex_str(value, real_fmt, imag_fmt):
    real = real_fmt.format(value.real)
    imag = (imag_fmt.format(value.imag) + "j").lstrip()
    return real + imag if imag[0] in "+-" else real + "+" + imag


def _value_str(value, formatters):
    if len(formatters) == 2:
        return _complex_str(value, *formatters)
    return formatters[0].format(value)


def _vector_str(arr, indent, summarize, cut, formatters):
    e = PRINT_OPTIONS["edgeitems"]
    element_length = formatters[0].width() + 2
    if len(formatters) == 2:
        element_length += formatters[1].width() + 1
    per_line = max(1, math.floor((PRINT_OPTIONS["linewidth"] - indent) / element_length))
    if summarize and not e:
        data = ["..."]
    elif cut:
        data = ([_value_str(v, formatters) for v in arr[:e].tolist()] + [" ..."]
                + [_value_str(v, formatters) for v in arr[-e:].tolist()])
    else:
        data = [_value_str(v, formatters) for v in arr.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with(arr, indent, summarize, cut, formatters):
    """The layout of ``arr``: the tensor's values, or only the edge items of the dims that
    ``cut`` marks (a summarised print), where "..." stands for the rows left out."""
    if arr.ndim == 0:
        return _value_str(arr.item(), formatters)
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, cut[0], formatters)
    e = PRINT_OPTIONS["edgeitems"]
    n = arr.shape[0]
    rows = list(range(e)) + [None] + list(range(n - e, n)) if cut[0] else range(n)
    slices = ["..." if i is None else _tensor_str_with(arr[i], indent + 1, summarize, cut[1:],
                                                         formatters) for i in rows]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _corners(arr, xp):
    """The values a summarised print shows (the edge items of every dim longer than twice
    ``edgeitems``), cut out where the array lives so only they are copied to the host, and
    which dims were cut."""
    e = PRINT_OPTIONS["edgeitems"]
    cut = []
    for axis, n in enumerate(arr.shape):
        cut.append(n > 2 * e)
        if cut[-1]:
            lead = (slice(None),) * axis
            arr = xp.concatenate([arr[lead + (slice(0, e),)], arr[lead + (slice(n - e, n),)]],
                                 axis=axis)
    return arr, tuple(cut)


def _host_values(t, arr):
    """``arr`` (of tensor ``t``) on the host; floats as float64 (exact) for formatting."""
    if t._device.type != "cpu":
        arr = arr.get()
    if t.dtype.is_floating_point:
        arr = arr.astype(np.float64)
    elif t.dtype.is_complex:
        arr = arr.astype(np.complex128)
    return arr


def tensor_body(t, indent):
    """The bracketed values of a non-empty tensor, as PyTorch lays them out: a tensor of more
    than ``threshold`` elements is summarised, and only the values shown leave its device."""
    arr = t._data
    if arr.size > PRINT_OPTIONS["threshold"]:
        shown, cut = _corners(arr, t._device.xp)
        summarize = True
    else:
        shown, cut, summarize = arr, (False,) * arr.ndim, False
    shown = _host_values(t, shown)
    if t.dtype.is_complex:
        formatters = [_Formatter(shown.real, True), _Formatter(shown.imag, True)]
    else:
        formatters = [_Formatter(shown, t.dtype.is_floating_point)]
    return _tensor_str_with(shown, indent, summarize, cut, formatters)


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTIONS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t, prefix="tensor("):
    """``repr(t)``: the values and the suffixes PyTorch adds."""
    indent = len(prefix)
    suffixes = []
    if t._device.type != "cpu":
        suffixes.append(f"device='{t._device}'")
    default = _dtype.get_default_dtype()
    if t._data.size == 0:
        if t._data.ndim != 1:
            suffixes.append(f"size={tuple(t._data.shape)}")
        if t.dtype is not default:
            suffixes.append(f"dtype={t.dtype!r}")
        body = "[]"
    else:
        if not PRINT_OPTIONS["edgeitems"]:
            suffixes.append(f"size={tuple(t._data.shape)}")
        if t.dtype not in (default, _dtype.default_complex(), _dtype.int64, _dtype.bool):
            suffixes.append(f"dtype={t.dtype!r}")
        body = tensor_body(t, indent)
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
