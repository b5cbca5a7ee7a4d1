"""Tensor: an array on a device, with autograd state (requires_grad, grad, grad_fn, version).

Only the state and the Python protocols live here. Ops are attached as methods by the op
modules (``torchlite/ops``), each from the one function that also serves ``torchlite.<op>``.
"""
import numpy as np

from . import _device, _dtype
from ._tensor_str import tensor_repr


class Tensor:
    """A multi-dimensional array with autograd, PyTorch's ``torch.Tensor``."""

    # Class-level defaults keep tensor creation on the hot path to a few attribute stores.
    _requires_grad = False
    _grad = None
    _grad_fn = None
    _output_nr = 0
    _base = None
    _view_fn = None
    _retains_grad = False
    _hooks = None
    _grad_acc = None
    _is_param = False
    __array_priority__ = 1000  # NumPy defers ``ndarray * tensor`` to the tensor

    def __new__(cls, *args, device=None, dtype=None):
        """Legacy constructor: ``Tensor(2, 3)`` is uninitialised, ``Tensor([1, 2])`` copies data."""
        from ._creation import empty, tensor
        if not args:
            args = (0,)
        src = args[0] if len(args) == 1 else None
        if isinstance(src, Tensor):
            return src
        if src is not None and not isinstance(src, (int, Size)):
            if not hasattr(src, "__len__") and not hasattr(src, "__array__"):
                raise TypeError(f"new(): data must be a sequence (got {type(src).__name__})")
            t = tensor(src, dtype=dtype or _dtype.get_default_dtype(), device=device)
        else:
            t = empty(*args, dtype=dtype, device=device)
        if cls is not Tensor:
            obj = object.__new__(cls)
            obj._data, obj._device, obj._vc = t._data, t._device, [0]
            return obj
        return t

    # ---- basic state -------------------------------------------------------------------
    @property
    def dtype(self):
        return _dtype._BY_NP[self._data.dtype]

    @property
    def device(self):
        return self._device

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        if not isinstance(dim, int):
            raise TypeError(f"size(): argument 'dim' (position 1) must be int, not "
                            f"{type(dim).__name__}")
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    def data_ptr(self):
        """Address of the first element (views of one base differ by their offset)."""
        if self._device.type == "cpu":
            return self._data.__array_interface__["data"][0]
        return self._data.data.ptr

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return int(self._data.nbytes)

    @property
    def is_cuda(self):
        return self._device.type == "cuda"

    @property
    def is_cpu(self):
        return self._device.type == "cpu"

    def get_device(self):
        return -1 if self._device.type == "cpu" else self._device.index

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return self.dtype.is_complex

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def _version(self):
        return self._vc[0]

    def _bump(self):
        self._vc[0] += 1

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if not isinstance(value, bool):
            raise RuntimeError("requires_grad must be a bool")
        if self._grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if value and self._data.dtype.kind not in "fcV":
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               "gradients")
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind not in "fcV":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            import warnings
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the .grad field to be populated for a non-leaf Tensor, use "
                ".retain_grad() on the non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {_type_name(value)}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
                    f"tensor of size '{list(self._data.shape)}'. Please ensure that the gradient "
                    "and the tensor are the same size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_C_NAMES[value.dtype.name]}' "
                    f"to a tensor with grad_dtype '{self.dtype._short}'. The gradient must "
                    "match the tensor's grad_dtype (defaults to the tensor's dtype). You can set "
                    "the tensor's grad_dtype attribute with a specific dtype, or None to allow "
                    "any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor "
                    "and its gradient may break downstream systems that assume they match.")
            if value._device is not self._device:
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Populate ``.grad`` of this non-leaf tensor during backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None:
            return
        if not self._retains_grad:
            import weakref
            self._retains_grad = True
            self._grad_fn._has_hooks = True
            self._grad_fn.__dict__.setdefault("_retained", {})[self._output_nr] = \
                weakref.ref(self)

    def register_hook(self, hook):
        """A hook ``hook(grad) -> Tensor or None`` run when this tensor's gradient is computed."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.function import _RemovableHandle
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            self._grad_fn._has_hooks = True
            hooks = self._grad_fn.__dict__.setdefault("_pre_hooks", {}).setdefault(
                self._output_nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaves) into the leaves' ``.grad``."""
        from .autograd.engine import backward
        backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph,
                 inputs=inputs)

    @property
    def data(self):
        """The same memory outside the graph, with a version counter of its own (as PyTorch:
        in-place writes through ``.data`` are invisible to autograd's checks)."""
        return _make(self._data, self._device)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        self._data = value._data
        self._device = value._device

    def detach(self):
        """A new tensor sharing this one's data and version counter, outside the graph."""
        t = _make(self._data, self._device)
        t._vc = self._vc
        return t

    def detach_(self):
        if self._base is not None and self._grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    # ---- conversion ----------------------------------------------------------------------
    def _host(self):
        return self._data if self._device.type == "cpu" else self._data.get()

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._host().reshape(()).item()

    def tolist(self):
        arr = self._host()
        if arr.dtype.kind == "V":
            arr = arr.astype(np.float32)
        return arr.tolist()

    def numpy(self, force=False):
        """The data as a NumPy array sharing memory (CPU tensors that need no grad)."""
        if self._device.type != "cpu":
            if not force:
                raise TypeError(f"can't convert {self._device} device type tensor to numpy. "
                                "Use Tensor.cpu() to copy the tensor to host memory first.")
            return self._host()
        if not force:
            self._check_no_grad_for_numpy()
        return self._data

    def _check_no_grad_for_numpy(self):
        """As PyTorch: a tensor that requires grad converts to NumPy only under no_grad (a
        custom Function's backward, for instance), where nothing is recorded."""
        from .autograd.grad_mode import STATE
        if self._requires_grad and STATE.enabled:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")

    def __array__(self, dtype=None, copy=None):
        self._check_no_grad_for_numpy()
        arr = self._host()
        return arr if dtype is None else arr.astype(dtype)

    def __dlpack__(self, *, stream=-1, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule sharing this tensor's memory (PyTorch's arguments and checks)."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use "
                              "tensor.detach()")
        from .utils.dlpack import export
        return export(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self):
        """``(DLDeviceType, index)``: where the memory ``__dlpack__`` shares lives."""
        from .utils.dlpack import DLDeviceType
        kind, index = self._data.__dlpack_device__()
        return DLDeviceType(kind), index

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            what = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous")
        return bool(self.item())

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __int__(self):
        return int(self._scalar())

    def __float__(self):
        return float(self._scalar())

    def __complex__(self):
        return complex(self._scalar())

    def __index__(self):
        if self._data.size != 1 or self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    __hash__ = object.__hash__  # by identity; C-level, since graph dicts hash leaf tensors

    def __repr__(self, *, tensor_contents=None):
        if self._is_param:
            return "Parameter containing:\n" + tensor_repr(self)
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0 and type(self) is Tensor and not self._is_param:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._host().copy(), str(self._device), self._requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        t = object.__new__(type(self))
        t.__dict__.update({"_data": self._data.copy(), "_device": self._device, "_vc": [0]})
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t

    def __setstate__(self, state):
        """Tensors pickle through ``__reduce_ex__`` alone: a pickle that tries to set a
        tensor's internal state is refused (it could only build a broken tensor)."""
        raise TypeError("Tensor state cannot be set by unpickling")


class Size(tuple):
    """torch.Size: a tuple of ints with ``numel()`` and PyTorch's repr."""

    def __new__(cls, dims=()):
        return super().__new__(cls, _size_items(dims))

    def numel(self):
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self):
        return f"torch.Size([{', '.join(str(d) for d in self)}])"

    def __getitem__(self, key):
        out = super().__getitem__(key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __reduce__(self):
        return (Size, (tuple(self),))


def _type_name(obj):
    """A type's name as PyTorch prints it: builtins bare, others with their module."""
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def _size_items(dims):
    items = []
    for i, d in enumerate(dims):
        if not hasattr(d, "__index__"):
            raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is "
                            f"'{type(d).__name__}')")
        items.append(d.__index__())
    return items


_C_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char",
            "int16": "short int", "int32": "int", "int64": "long int", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _make(data, device, requires_grad=False, grad_fn=None, output_nr=0):
    """Wrap an array as a Tensor without checks: the one constructor used on the hot path.

    The autograd fields ops read are stored on the instance even at their class defaults:
    Python reads an instance attribute several times faster than a class-level default."""
    t = _new(Tensor)
    t._data = data
    t._device = device
    t._vc = [0]
    t._requires_grad = requires_grad
    t._grad_fn = grad_fn
    t._output_nr = output_nr
    t._base = None
    return t


_new = object.__new__


def _rebuild(arr, device, requires_grad):
    t = _make(_device.device(device).xp.asarray(arr), _device.device(device))
    t._requires_grad = requires_grad
    return t


def _wrap_dim(dim, ndim, op="dim"):
    """A possibly negative dim as an index, with PyTorch's IndexError when out of range."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


def typename(obj):
    """``torch.typename``: a tensor's type() or the qualified name of an object's class."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"
