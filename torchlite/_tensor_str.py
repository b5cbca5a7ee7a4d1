"""repr/str of tensors in PyTorch's layout (torch/_tensor_str.py): same widths, modes, suffixes."""
import math

import numpy as np

from . import _dtype

PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                 "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """torch.set_printoptions."""
    if profile == "default":
        PRINT_OPTIONS.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        PRINT_OPTIONS.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        PRINT_OPTIONS.update(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTIONS[key] = value
    PRINT_OPTIONS["sci_mode"] = sci_mode


class _Formatter:
    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        p = PRINT_OPTIONS["precision"]
        if not floating:
            for v in values:
                self.max_width = max(self.max_width, len(_plain(v)))
            return
        finite = values[np.isfinite(values) & (values != 0)]
        if finite.size == 0:
            return
        absv = np.abs(finite)
        lo, hi = float(absv.min()), float(absv.max())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if self.int_mode:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8
            fmt = f"{{:.{p}e}}" if self.sci_mode else "{:.0f}"
            extra = 0 if self.sci_mode else 1
        else:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
            fmt = f"{{:.{p}e}}" if self.sci_mode else f"{{:.{p}f}}"
            extra = 0
        for v in finite:
            self.max_width = max(self.max_width, len(fmt.format(v)) + extra)
        if PRINT_OPTIONS["sci_mode"] is not None:
            self.sci_mode = PRINT_OPTIONS["sci_mode"]

    def width(self):
        return self.max_width

    def format(self, value):
        p = PRINT_OPTIONS["precision"]
        if self.floating:
            value = float(value)
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{p}f}"
        else:
            ret = _plain(value)
        return (self.max_width - len(ret)) * " " + ret


def _plain(v):
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    return str(int(v))


def _summarized(arr):
    e = PRINT_OPTIONS["edgeitems"]
    if arr.ndim == 0:
        return arr
    if arr.shape[0] > 2 * e:
        arr = np.concatenate([arr[:e], arr[-e:]])
    return np.stack([_summarized(x) for x in arr]) if arr.ndim > 1 else arr


def _vector_str(arr, indent, formatters, summarize):
    e = PRINT_OPTIONS["edgeitems"]
    elem_len = sum(f.width() for f in formatters) + 2 + (3 if len(formatters) > 1 else 0)
    per_line = max(1, int(math.floor((PRINT_OPTIONS["linewidth"] - indent) / elem_len)))

    def fmt(x):
        if len(formatters) == 2:
            re, im = formatters[0].format(x.real), formatters[1].format(x.imag).lstrip()
            sign = "-" if im.startswith("-") else "+"
            return f"{re}{sign}{im.lstrip('-')}j"
        return formatters[0].format(x)

    if summarize and arr.shape[0] > 2 * e:
        data = [fmt(x) for x in arr[:e]] + [" ..."] + [fmt(x) for x in arr[-e:]]
    else:
        data = [fmt(x) for x in arr]
    lines = [data[i:i + per_line] for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(", ".join(line) for line in lines) + "]"


def _tensor_str_with(arr, indent, formatters, summarize):
    if arr.ndim == 0:
        return _vector_str(arr.reshape(1), indent, formatters, False)[1:-1]
    if arr.ndim == 1:
        return _vector_str(arr, indent, formatters, summarize)
    e = PRINT_OPTIONS["edgeitems"]
    if summarize and arr.shape[0] > 2 * e:
        slices = ([_tensor_str_with(arr[i], indent + 1, formatters, summarize) for i in range(e)]
                  + ["..."]
                  + [_tensor_str_with(arr[i], indent + 1, formatters, summarize)
                     for i in range(arr.shape[0] - e, arr.shape[0])])
    else:
        slices = [_tensor_str_with(arr[i], indent + 1, formatters, summarize)
                  for i in range(arr.shape[0])]
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(slices) + "]"


def _host_array(t):
    arr = t._data
    if t._device.type != "cpu":
        arr = arr.get()
    if t.dtype in (_dtype.float16, _dtype.bfloat16):
        arr = arr.astype(np.float32)
    return arr


def tensor_body(t, indent):
    """The bracketed values of a tensor, as PyTorch lays them out."""
    arr = _host_array(t)
    if arr.size == 0:
        return "[]"
    summarize = arr.size > PRINT_OPTIONS["threshold"]
    sample = _summarized(arr) if summarize else arr
    flat = np.asarray(sample).reshape(-1)
    if t.dtype.is_complex:
        formatters = [_Formatter(flat.real.astype(np.float64), True),
                      _Formatter(flat.imag.astype(np.float64), True)]
    elif t.dtype.is_floating_point:
        formatters = [_Formatter(flat.astype(np.float64), True)]
    else:
        formatters = [_Formatter(flat, False)]
    return _tensor_str_with(arr, indent, formatters, summarize)


def tensor_repr(t, prefix="tensor("):
    indent = len(prefix)
    suffixes = []
    if t._device.type != "cpu":
        suffixes.append(f"device='{t._device}'")
    body = tensor_body(t, indent)
    default = _dtype.get_default_dtype()
    if t._data.size == 0:
        if t._data.ndim != 1:
            suffixes.append(f"size={tuple(t._data.shape)}")
        if t.dtype is not default:
            suffixes.append(f"dtype={t.dtype!r}")
    elif t.dtype not in (default, _dtype.int64, _dtype.bool):
        suffixes.append(f"dtype={t.dtype!r}")
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    for s in suffixes:
        last_line = text.split("\n")[-1]
        if len(last_line) + len(s) + 2 > PRINT_OPTIONS["linewidth"]:
            text += ",\n" + " " * indent + s
        else:
            text += ", " + s
    return text + ")"
