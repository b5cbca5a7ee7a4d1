"""``torch.save`` / ``torch.load`` in PyTorch's zip checkpoint format, both ways.

A checkpoint is a zip archive (one folder named after the file's stem, ``archive`` for file
objects) holding ``data.pkl`` (protocol 2 pickle whose storages are persistent ids
``('storage', <torch.XStorage>, key, location, numel)``), one ``data/<key>`` record of raw
little-endian bytes per storage, aligned at 64 bytes, plus ``byteorder``, ``version`` and
``.data/serialization_id``. Tensors are pickled as ``torch._utils._rebuild_tensor_v2`` calls and
dtypes, devices and sizes under their ``torch`` names, so files move between torchlite and
PyTorch. Tensors sharing memory (views, tied weights) share a storage in the file and again
after loading.

``load`` is ``weights_only`` by default: the unpickler resolves only PyTorch's allowlist of
globals (plus ``add_safe_globals``), so a malicious pickle raises instead of running code.
Saves to a path are atomic: a temporary file in the same folder, fsync, ``os.replace``.
"""
import _compat_pickle
import codecs
import collections
import contextlib
import io
import os
import pickle
import re
import secrets
import stat
import struct
import sys
import types
import zipfile
import zlib

import numpy as np

from . import _device, _dtype
from ._tensor import Size, Tensor, _make
from .nn.parameter import Parameter, _rebuild_parameter

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]

DEFAULT_PROTOCOL = 2
_ALIGNMENT = 64
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_BLOCKED_MODULES = ("sys", "os", "posix", "nt")

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will "
    "likely succeed, but it can result in arbitrary code execution. Do it only if you got the "
    "file from a trusted source.")
_DOCS_MESSAGE = (
    "\n\nCheck the documentation of torch.load to learn more about types accepted by default "
    "with weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")
_CORRUPT = (
    "This is an internal miniz error. If you are seeing this error, there is a high likelihood "
    "that your checkpoint file is corrupted. This can happen if the checkpoint was not saved "
    "properly, was transferred incorrectly, or the file was modified after saving.")


class _StorageType:
    """A storage class as pickled by PyTorch (``torch.FloatStorage``): names a dtype."""

    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype

    def __repr__(self):
        return f"StorageType(dtype={self.dtype})"


_STORAGE_TYPES = {d: _StorageType(f"{d._short}Storage", d) for d in _dtype.ALL}
_UNTYPED = _StorageType("UntypedStorage", _dtype.uint8)


class _Storage:
    """A loaded storage: a flat array of one dtype on one device. A ``map_location`` callable
    receives one with its location tag and may return ``storage.cpu()``, ``storage.cuda(i)``
    or ``storage.to(device)``."""

    def __init__(self, array, device):
        self._array = array
        self.device = device

    @property
    def dtype(self):
        return _dtype._BY_NP[self._array.dtype]

    def nbytes(self):
        return int(self._array.nbytes)

    size = nbytes

    def to(self, device=None, non_blocking=False):
        dev = _device.resolve(device)
        if dev is self.device:
            return self
        from .ops.conversion import transfer
        return _Storage(transfer(self._array, self.device, dev), dev)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else _device.device(device))

    def __repr__(self):
        return f"<storage of {self.nbytes()} bytes, {self.dtype}, on {self.device}>"


# ---- rebuild functions: the callables that data.pkl names (torch._utils.*) ----------------

def _rebuild_tensor(storage, storage_offset, size, stride):
    """A tensor viewing ``storage`` (checked: a file never makes a view outside its storage)."""
    if not isinstance(storage, _Storage):
        raise TypeError(f"expected a storage to rebuild a tensor, got {type(storage).__name__}")
    offset = _index(storage_offset, "storage offset")
    size = tuple(_index(n, "size") for n in size)
    stride = tuple(_index(s, "stride") for s in stride)
    arr = storage._array
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} strides for "
                           f"{len(size)} dims")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if min(size + stride, default=0) < 0:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    extent = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if extent > arr.size:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {arr.itemsize} requiring a storage size of {extent * arr.itemsize} "
            f"are out of bounds for storage of size {arr.nbytes}")
    xp = storage.device.xp
    start = min(offset, arr.size)
    data = xp.lib.stride_tricks.as_strided(arr[start:start + extent], size,
                                           tuple(s * arr.itemsize for s in stride))
    return _make(data, storage.device)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_state(_rebuild_parameter(data, requires_grad), state)


def _rebuild_from_type_v2(func, new_type, args, state):
    """A tensor subclass or a tensor with Python attributes, as PyTorch pickles it."""
    result = func(*args)
    if new_type is Parameter and not isinstance(result, Parameter):
        result = Parameter(result, result.requires_grad)
    return _set_state(result, state)


def _set_state(tensor, state):
    """Public Python attributes saved with a tensor; private ones are never set from a file."""
    if isinstance(state, tuple):  # (dict state, slots state)
        state = {k: v for part in state if part for k, v in part.items()}
    for key, value in (state or {}).items():
        if not key.startswith("_"):
            setattr(tensor, key, value)
    return tensor


def _index(value, what):
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"expected an int {what}, got {type(value).__name__}")
    return value.__index__()


# ---- the names of globals in PyTorch's pickles ---------------------------------------------

def _torch_globals():
    """PyTorch's weights_only allowlist, mapped to torchlite's objects."""
    rc = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "torch.nn.parameter.Parameter": Parameter,
        "torch.Size": Size,
        "torch.Tensor": Tensor,
        "torch.device": _device.device,
        "_codecs.encode": codecs.encode,
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.complex": complex,
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.UntypedStorage": _UNTYPED,
        "torch.storage.UntypedStorage": _UNTYPED,
    }
    for d in _dtype.ALL:
        rc[f"torch.{d.name}"] = d
        rc[f"torch.{_STORAGE_TYPES[d].name}"] = _STORAGE_TYPES[d]
        rc[f"torch.cuda.{_STORAGE_TYPES[d].name}"] = _STORAGE_TYPES[d]  # legacy files
    return rc


_ALLOWED = _torch_globals()
# What torchlite.save writes for torchlite's own classes and functions.
_SAVE_NAMES = {obj: tuple(name.rsplit(".", 1)) for name, obj in _ALLOWED.items()
               if callable(obj) and name.startswith("torch.") and ".cuda." not in name}
_safe_globals = set()


def add_safe_globals(safe_globals):
    """Allow these globals (objects, or ``(object, "module.name")``) in weights_only loads."""
    _safe_globals.update(safe_globals)


def get_safe_globals():
    return list(_safe_globals)


def clear_safe_globals():
    _safe_globals.clear()


@contextlib.contextmanager
def safe_globals(globals_list):
    """``with safe_globals([...]):`` allows the globals for the loads inside only."""
    added = set(globals_list) - _safe_globals
    _safe_globals.update(added)
    try:
        yield
    finally:
        _safe_globals.difference_update(added)


def _user_globals():
    rc = {}
    for g in _safe_globals:
        if isinstance(g, tuple):
            rc[g[1]] = g[0]
        else:
            rc[f"{g.__module__}.{g.__qualname__}"] = g
    return rc


def _unsupported_global(full_path):
    if full_path.startswith("builtins."):  # PyTorch names builtins bare
        full_path = full_path[len("builtins."):]
    return (f"Unsupported global: GLOBAL {full_path} was not an allowed global by default. "
            f"Please use `torch.serialization.add_safe_globals([{full_path}])` or the "
            f"`torch.serialization.safe_globals([{full_path}])` context manager to allowlist "
            "this global if you trust this class/function.")


def _weights_only_message(message):
    """PyTorch's wrapping of a weights_only unpickling failure."""
    if re.search(r"GLOBAL (\S+) was not an allowed global by default.", message):
        text = ("Weights only load failed. This file can still be loaded, to do so you have two "
                "options, \033[1mdo those steps only if you trust the source of the "
                f"checkpoint\033[0m. \n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with "
                "`weights_only=True` please check the recommended steps in the following error "
                "message.\n\tWeightsUnpickler error: " + message)
    else:
        text = f"Weights only load failed. {UNSAFE_MESSAGE}\n"
        if not re.search(r"whose module (\S+) is blocked", message):
            text += ("Please file an issue with the following so that we can make "
                     "`weights_only=True` compatible with your use case: WeightsUnpickler "
                     "error: ")
        text += "\n\n" + message
    return text + _DOCS_MESSAGE


class _Unpickler(pickle.Unpickler):
    """Maps PyTorch's globals to torchlite; with ``weights_only`` resolves nothing else (every
    way a pickle can reach a callable goes through ``find_class``)."""

    def __init__(self, file, weights_only, persistent_load, **kwargs):
        super().__init__(file, **kwargs)
        self._weights_only = weights_only
        self._persistent_load = persistent_load

    def persistent_load(self, pid):
        return self._persistent_load(pid)

    def find_class(self, module, name):
        # Python 2 names, as protocol 2 pickles spell builtins ("__builtin__ set").
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        full = f"{module}.{name}"
        if self._weights_only:
            if module in _BLOCKED_MODULES:
                raise pickle.UnpicklingError(
                    f"Trying to load unsupported GLOBAL {full} whose module {module} is "
                    "blocked.")
            found = _ALLOWED.get(full, _user_globals().get(full))
            if found is None:
                raise pickle.UnpicklingError(_unsupported_global(full))
            return found
        if full in _ALLOWED:
            return _ALLOWED[full]
        if module == "torch" or module.startswith("torch."):
            return _torchlite_equivalent(module, name)
        return super().find_class(module, name)


def _torchlite_equivalent(module, name):
    import importlib
    try:
        obj = importlib.import_module("torchlite" + module[len("torch"):])
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise pickle.UnpicklingError(f"torchlite has no equivalent of {module}.{name}") from None
    return obj


# ---- save ------------------------------------------------------------------------------------

class _StorageRef:
    """Stands for one storage in the pickle; pickled as its persistent id."""

    __slots__ = ("pid",)

    def __init__(self, pid):
        self.pid = pid


class _Pickler(pickle._Pickler):
    """The pure-Python pickler (it lets globals be written under PyTorch's names without
    importing torch); tensors become ``_rebuild_tensor_v2`` calls over shared storages."""

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages = {}  # id(root array) -> (ref, dtype, root array, key)

    def persistent_id(self, obj):
        return obj.pid if type(obj) is _StorageRef else None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            if isinstance(obj, Parameter):
                data = _make(obj._data, obj._device)
                return (_rebuild_parameter, (data, obj._requires_grad,
                                             collections.OrderedDict()))
            ref, offset, stride = self._storage(obj)
            return (_rebuild_tensor_v2, (ref, offset, obj._data.shape, stride,
                                         obj._requires_grad, collections.OrderedDict()))
        if isinstance(obj, (_dtype.dtype, _StorageType)):
            return obj.name  # a global: torch.<name>
        return NotImplemented

    def save_global(self, obj, name=None):
        if isinstance(obj, (_dtype.dtype, _StorageType)):
            module, name = "torch", obj.name
        elif _hashable(obj) and obj in _SAVE_NAMES:
            module, name = _SAVE_NAMES[obj]
        else:
            return super().save_global(obj, name)
        if self.proto >= 4:
            self.save(module)
            self.save(name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode())
        self.memoize(obj)

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[types.FunctionType] = save_global

    def _storage(self, t):
        """The storage a tensor views: the root array its memory belongs to (shared with every
        other tensor on it), or a contiguous copy when its memory has no usable root."""
        arr, d = t._data, t.dtype
        found = _root_view(arr, t._device.xp)
        if found is None:
            root = t._device.xp.ascontiguousarray(arr).reshape(-1)
            offset, stride = 0, _contiguous_strides(arr.shape)
        else:
            root, offset, stride = found
        entry = self.storages.get(id(root))
        if entry is None:
            key = str(len(self.storages))
            numel = root.nbytes // arr.itemsize
            ref = _StorageRef(("storage", _STORAGE_TYPES[d], key, str(t._device), numel))
            entry = self.storages[id(root)] = (ref, d, root, key)
        elif entry[1] is not d:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same "
                               "data as different types")
        return entry[0], offset, stride


def _hashable(obj):
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def _contiguous_strides(shape):
    strides, n = [], 1
    for size in reversed(shape):
        strides.append(n)
        n *= max(size, 1)
    return tuple(reversed(strides))


def _pointer(arr):
    return arr.ctypes.data if isinstance(arr, np.ndarray) else arr.data.ptr


def _root_view(arr, xp):
    """``(root, offset, strides)`` in elements of ``arr`` inside the contiguous array that owns
    its memory, or None where that is not expressible as a PyTorch view."""
    if arr.size == 0:
        return None
    root = arr
    while True:
        base = root.base
        if isinstance(base, xp.ndarray):
            root = base
        elif isinstance(getattr(base, "base", None), xp.ndarray):  # as_strided's wrapper
            root = base.base
        else:
            break
    itemsize = arr.itemsize
    byte_offset = _pointer(arr) - _pointer(root)
    if (not (root.flags.c_contiguous or root.flags.f_contiguous) or root.nbytes % itemsize
            or byte_offset % itemsize or any(s < 0 or s % itemsize for s in arr.strides)):
        return None
    return root, byte_offset // itemsize, tuple(s // itemsize for s in arr.strides)


def _storage_bytes(root):
    """The root's bytes in memory order (flattened on its device before a GPU copy)."""
    flat = root.ravel(order="A")
    host = flat if isinstance(flat, np.ndarray) else flat.get()
    return memoryview(host.view(np.uint8))


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True):
    """Save ``obj`` to a path (atomically) or a writable binary file object."""
    if pickle_module is not pickle:
        raise NotImplementedError("torchlite.save pickles with the standard pickle module only")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("torchlite.save writes the zip checkpoint format only "
                                  "(_use_new_zipfile_serialization=False is not supported)")
    buf = io.BytesIO()
    pickler = _Pickler(buf, pickle_protocol)
    pickler.dump(obj)
    records = [("data.pkl", buf.getvalue()), (".format_version", b"1"),
               (".storage_alignment", str(_ALIGNMENT).encode()),
               ("byteorder", sys.byteorder.encode())]
    records += [(f"data/{key}", root) for _, _, root, key in pickler.storages.values()]
    records += [("version", b"3\n"),
                (".data/serialization_id", str(secrets.randbits(128)).zfill(40).encode())]
    if _is_path(f):
        path = os.fsdecode(f)
        stem = os.path.splitext(os.path.basename(path))[0]
        _atomic_write(path, lambda fh: _write_zip(fh, stem, records))
    else:
        _write_zip(f, "archive", records)


def _write_zip(fh, archive, records):
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, data in records:
            data = memoryview(data) if isinstance(data, bytes) else _storage_bytes(data)
            info = zipfile.ZipInfo(f"{archive}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            # Pad the local header's extra field (miniz's "FB" record) so data starts aligned.
            zip64 = 20 if data.nbytes * 1.05 > zipfile.ZIP64_LIMIT else 0
            header = 30 + len(info.filename.encode()) + 4 + zip64
            pad = -(zf.fp.tell() + header) % _ALIGNMENT
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            zf.writestr(info, data)


def _atomic_write(path, write):
    """Write through a temporary file in the target's folder, fsync, then rename over it: a
    failure at any point leaves the previous file as it was and no temporary file behind."""
    path = os.path.realpath(path)
    folder, base = os.path.split(path)
    tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable where folders can be synced
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ---- load ------------------------------------------------------------------------------------

def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved by ``torch.save`` or ``torchlite.save`` (zip or legacy format).

    ``weights_only`` (default True) refuses every global outside PyTorch's allowlist;
    ``map_location`` is None, a device or its name, a ``{saved: wanted}`` dict of location
    names, or ``callable(storage, location)``; ``mmap=True`` maps storages from the file."""
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if pickle_module not in (None, pickle):
        raise NotImplementedError("torchlite.load unpickles with the standard pickle module only")
    pickle_load_args.setdefault("encoding", "utf-8")
    if _is_path(f) and os.fsdecode(f).endswith(".safetensors"):
        return _load_safetensors(os.fsdecode(f), map_location)
    restore = _restorer(map_location)
    with _open_for_read(f) as fh:
        try:
            start = fh.tell()
            is_zip = fh.read(4) == b"PK\x03\x04"
            fh.seek(start)
            if is_zip:
                path = os.fsdecode(f) if mmap and _is_path(f) else None
                if mmap and path is None:
                    raise ValueError("f must be a file path in order to use the mmap argument")
                return _load_zip(fh, path, restore, weights_only, pickle_load_args)
            if mmap:
                name = f"{f}, " if isinstance(f, str) else ""
                raise RuntimeError(
                    "mmap can only be used with files saved with `torch.save("
                    f"{name}_use_new_zipfile_serialization=True), please torch.save your "
                    "checkpoint with this option in order to use mmap.")
            return _load_legacy(fh, restore, weights_only, pickle_load_args)
        except pickle.UnpicklingError as e:
            if not weights_only:
                raise
            raise pickle.UnpicklingError(_weights_only_message(str(e))) from None


def _is_path(f):
    return isinstance(f, (str, bytes, os.PathLike))


@contextlib.contextmanager
def _open_for_read(f):
    if _is_path(f):
        with open(f, "rb") as fh:
            yield fh
    elif not getattr(f, "seekable", lambda: True)():
        yield io.BytesIO(f.read())
    else:
        yield f


def _restorer(map_location):
    """``restore(storage, location)`` for a map_location, as PyTorch's."""
    if map_location is None:
        return _default_restore
    if isinstance(map_location, dict):
        return lambda s, loc: _default_restore(s, str(map_location.get(loc, loc)))
    if isinstance(map_location, (str, bytes, _device.device)):
        target = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
        return lambda s, loc: _default_restore(s, target)

    def restore(storage, location):
        result = map_location(storage, location)
        return _default_restore(storage, location) if result is None else result
    return restore


def _default_restore(storage, location):
    dev = _device.device(location)
    if dev.type == "cuda":
        from . import cuda
        if not cuda.is_available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but "
                "torch.cuda.is_available() is False. If you are running on a CPU-only machine, "
                "please use torch.load with map_location=torch.device('cpu') to map your "
                "storages to the CPU.")
        if (dev.index or 0) >= cuda.device_count():
            raise RuntimeError(
                f"Attempting to deserialize object on CUDA device {dev.index} but "
                f"torch.cuda.device_count() is {cuda.device_count()}. Please use torch.load "
                "with map_location to map your storages to an existing device.")
    return storage.to(dev)


def _storage_pid(pid, size):
    """Checks a persistent id: ``('storage', storage_type, key, location, numel, ...)``."""
    if not isinstance(pid, tuple) or len(pid) != size or _ascii(pid[0]) != "storage":
        raise pickle.UnpicklingError(f"Unknown saved id: {pid!r}")
    if not isinstance(pid[1], _StorageType):
        raise pickle.UnpicklingError(f"expected a storage type, got {pid[1]!r}")
    return pid[1].dtype, _ascii(pid[2]), _ascii(pid[3]), _index(pid[4], "numel")


def _ascii(value):
    return value.decode("ascii") if isinstance(value, bytes) else value


def _load_zip(fh, mmap_path, restore, weights_only, pickle_load_args):
    try:
        zf = zipfile.ZipFile(fh)
    except zipfile.BadZipFile:
        raise RuntimeError("PytorchStreamReader failed reading zip archive: failed finding "
                           f"central directory. {_CORRUPT}") from None
    with zf:
        names = zf.namelist()
        prefix = names[0].split("/", 1)[0] if names else ""
        if f"{prefix}/constants.pkl" in names:
            raise RuntimeError("torchlite cannot load TorchScript archives (torch.jit.save)")

        def record(name):
            try:
                return zf.getinfo(f"{prefix}/{name}")
            except KeyError:
                raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not "
                                   "found") from None

        byteorder = b"little"
        if f"{prefix}/byteorder" in names:
            byteorder = zf.read(record("byteorder"))
            if byteorder not in (b"little", b"big"):
                raise ValueError("Unknown endianness type: " + byteorder.decode())
        storages = {}

        def persistent_load(pid):
            dtype, key, location, numel = _storage_pid(pid, 5)
            if key not in storages:
                info = record(f"data/{key}")
                if info.file_size != numel * dtype.itemsize:
                    raise RuntimeError(f"PytorchStreamReader failed reading file data/{key}: "
                                       f"{info.file_size} bytes for a storage of {numel} "
                                       f"{dtype} elements. {_CORRUPT}")
                arr = _read_storage(zf, fh, info, dtype, numel, mmap_path)
                if byteorder.decode() != sys.byteorder:
                    arr.byteswap(inplace=True)
                storages[key] = restore(_Storage(arr, _device.CPU), location)
            return storages[key]

        data = io.BytesIO(zf.read(record("data.pkl")))
        return _Unpickler(data, weights_only, persistent_load, **pickle_load_args).load()


def _read_storage(zf, fh, info, dtype, numel, mmap_path):
    """A storage record as a writable array: mapped copy-on-write from the file with mmap, else
    read straight into the array (stored records) and checked against the record's CRC."""
    stored = info.compress_type == zipfile.ZIP_STORED
    if numel == 0 or not stored:
        return np.frombuffer(bytearray(zf.read(info)), dtype.np)
    fh.seek(info.header_offset)
    header = fh.read(30)
    if header[:4] != b"PK\x03\x04":
        raise RuntimeError(f"PytorchStreamReader failed reading file {info.filename}: invalid "
                           f"header or archive is corrupted. {_CORRUPT}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = info.header_offset + 30 + name_len + extra_len
    if mmap_path is not None:
        return np.memmap(mmap_path, dtype.np, mode="c", offset=start, shape=(numel,))
    arr = np.empty(numel, dtype.np)
    fh.seek(start)
    view = memoryview(arr.view(np.uint8))
    if not _read_into(fh, view) or zlib.crc32(view) != info.CRC:
        raise RuntimeError(f"PytorchStreamReader failed reading file {info.filename}: file read "
                           f"failed. {_CORRUPT}")
    return arr


def _read_into(fh, view):
    """Fill ``view`` from the file; False when the file ends first."""
    readinto = getattr(fh, "readinto", None)
    if readinto is None:
        chunk = fh.read(len(view))
        view[:len(chunk)] = chunk
        return len(chunk) == len(view)
    done = 0
    while done < len(view):
        got = readinto(view[done:])
        if not got:
            return False
        done += got
    return True


def _load_legacy(fh, restore, weights_only, pickle_load_args):
    """PyTorch's pre-1.6 stream format: magic, protocol and system pickles, the object pickle,
    its storage keys, then each storage's element count and bytes (restored to the CPU)."""
    def next_pickle(persistent_load=None):
        return _Unpickler(fh, weights_only, persistent_load, **pickle_load_args).load()

    if next_pickle() != _LEGACY_MAGIC:
        raise RuntimeError("Invalid magic number; corrupt file?")
    protocol = next_pickle()
    if protocol != _LEGACY_PROTOCOL:
        raise RuntimeError(f"Invalid protocol version: {protocol}")
    sys_info = next_pickle()
    swap = sys_info.get("little_endian", True) != (sys.byteorder == "little")
    start = fh.tell()
    file_size = fh.seek(0, os.SEEK_END)
    fh.seek(start)
    storages = {}

    def persistent_load(pid):
        if isinstance(pid, tuple) and pid and _ascii(pid[0]) == "module":
            return pid[1]  # a module class saved with its source: the class itself
        dtype, key, location, numel = _storage_pid(pid, 6)
        if key not in storages:
            if numel * dtype.itemsize > file_size:
                raise RuntimeError(f"storage {key} of the legacy checkpoint is larger than the "
                                   "file: truncated or corrupt")
            storages[key] = _Storage(np.empty(numel, dtype.np), _device.CPU)
            if restore(storages[key], location).device.type != "cpu":
                raise RuntimeError("torchlite loads PyTorch's legacy (non-zip) checkpoint format "
                                   "to the CPU only: pass map_location='cpu' and move the "
                                   "tensors afterwards")
        root = storages[key]._array
        if pid[5] is None:
            return storages[key]
        _, offset, view_numel = pid[5]
        return _Storage(root[offset:offset + view_numel], _device.CPU)

    result = next_pickle(persistent_load)
    for key in next_pickle():
        arr = storages[_ascii(key)]._array
        count = fh.read(8)
        if (len(count) != 8 or struct.unpack("<q", count)[0] != arr.size
                or not _read_into(fh, memoryview(arr.view(np.uint8)))):
            raise RuntimeError(f"storage {key} of the legacy checkpoint is truncated or corrupt")
        if swap:
            arr.byteswap(inplace=True)
    return result


def _load_safetensors(path, map_location):
    """``torch.load`` of a ``.safetensors`` path, as PyTorch: a device map_location only."""
    if isinstance(map_location, dict):
        raise RuntimeError("Loading safetensors file with dict map_location is not supported. "
                           "Use a device string or torch.device instead.")
    if callable(map_location) and not isinstance(map_location, _device.device):
        raise RuntimeError("Loading safetensors file with callable map_location is not "
                           "supported. Use a device string or torch.device instead.")
    from .safetensors import load_file
    try:
        return load_file(path, device="cpu" if map_location is None else str(map_location))
    except ImportError as e:
        raise RuntimeError("Attempting to load a safetensors file but safetensors is not "
                           "installed. Please install safetensors with: pip install "
                           "safetensors") from e
