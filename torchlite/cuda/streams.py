"""cuda Streams and Events over CuPy's, with PyTorch's API."""
from .._device import _cupy


def _require(what):
    from . import is_available
    if not is_available():
        raise RuntimeError(what)


class Stream:
    """A cuda stream: kernels queued on it run in order, concurrently with other streams."""

    def __init__(self, device=None, priority=0, _cupy_stream=None):
        if _cupy_stream is None:
            _require("torch.cuda.Stream requires CUDA support")
            _cupy_stream = _cupy().cuda.Stream(non_blocking=True)
        self.cupy_stream = _cupy_stream
        self.priority = priority

    @property
    def cuda_stream(self):
        return self.cupy_stream.ptr

    @property
    def device(self):
        from .._device import device
        return device("cuda", self.cupy_stream.device_id)

    def synchronize(self):
        self.cupy_stream.synchronize()

    def query(self):
        return self.cupy_stream.done

    def wait_event(self, event):
        self.cupy_stream.wait_event(event.cupy_event)

    def wait_stream(self, stream):
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream

    def __hash__(self):
        return hash(self.cuda_stream)

    def __repr__(self):
        return f"<torch.cuda.Stream device={self.device} cuda_stream={hex(self.cuda_stream)}>"


class Event:
    """A marker in a stream: ``record()``, ``synchronize()``, ``elapsed_time(end)`` in ms."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        _require("Tried to instantiate dummy base class Event")
        self.cupy_event = _cupy().cuda.Event(block=blocking, disable_timing=not enable_timing,
                                             interprocess=interprocess)

    def record(self, stream=None):
        self.cupy_event.record(None if stream is None else stream.cupy_stream)

    def wait(self, stream=None):
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self):
        return self.cupy_event.done

    def synchronize(self):
        self.cupy_event.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event`` (both recorded, timing on)."""
        return float(_cupy().cuda.get_elapsed_time(self.cupy_event, end_event.cupy_event))


def current_stream(device=None):
    """The stream kernels are queued on now."""
    return Stream(_cupy_stream=_cupy().cuda.get_current_stream())


def default_stream(device=None):
    return Stream(_cupy_stream=_cupy().cuda.Stream.null)


class stream:
    """``with torch.cuda.stream(s):`` queues the block's kernels on ``s`` (None: no change)."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        if self.stream is not None:
            self.stream.cupy_stream.__enter__()
        return self.stream

    def __exit__(self, *exc):
        if self.stream is not None:
            self.stream.cupy_stream.__exit__(*exc)
        return False
