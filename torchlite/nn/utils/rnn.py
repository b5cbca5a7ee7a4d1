"""Variable-length sequences for RNNs: PackedSequence and the pad / pack helpers.

A PackedSequence stores time-major steps one after the other: ``data[offset[t] + b]`` is step t
of the b-th (length-sorted) sequence, and ``batch_sizes[t]`` (a CPU int64 tensor) counts the
sequences still running at step t. Packing and unpacking are single indexing ops, so gradients
flow through them.
"""
from collections import abc, namedtuple

from ... import _creation, _dtype
from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence_",
                                 ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """Packed batch of variable-length sequences (built by pack_padded_sequence/pack_sequence)."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never "
                "be created manually. They should be instantiated by functions like "
                "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def __repr__(self):
        return (f"PackedSequence(data={self.data!r}, batch_sizes={self.batch_sizes!r}, "
                f"sorted_indices={self.sorted_indices!r}, "
                f"unsorted_indices={self.unsorted_indices!r})")

    def to(self, *args, **kwargs):
        """Move/cast ``data`` (indices follow its device; batch_sizes stay on the CPU)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def cuda(self, *args, **kwargs):
        return self.to("cuda", *args, **kwargs) if not args or isinstance(args[0], _dtype.dtype) \
            else self.to(*args, **kwargs)

    def cpu(self, *args, **kwargs):
        return self.to("cpu", *args, **kwargs)

    def pin_memory(self):
        return self

    def is_pinned(self):
        return False

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def double(self):
        return self.to(dtype=_dtype.float64)

    def float(self):
        return self.to(dtype=_dtype.float32)

    def half(self):
        return self.to(dtype=_dtype.float16)

    def long(self):
        return self.to(dtype=_dtype.int64)

    def int(self):
        return self.to(dtype=_dtype.int32)

    def short(self):
        return self.to(dtype=_dtype.int16)

    def char(self):
        return self.to(dtype=_dtype.int8)

    def byte(self):
        return self.to(dtype=_dtype.uint8)


def invert_permutation(permutation):
    """The inverse of an index permutation (None stays None)."""
    if permutation is None:
        return None
    output = _creation.empty_like(permutation)
    output.scatter_(0, permutation, _creation.arange(permutation.numel(),
                                                     device=permutation.device))
    return output


def _check_lengths(lengths, batch_size, input_numel):
    if lengths.dim() != 1 or lengths.device.type != "cpu" or lengths.dtype != _dtype.int64:
        raise RuntimeError(
            f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D "
            f"{lengths.device} {lengths.dtype._short} tensor")
    if input_numel == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if lengths.size(0) != batch_size:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size(0)} (batch_size={batch_size})")
    values = lengths.tolist()
    if any(b > a for a, b in zip(values, values[1:])):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
            "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
            "to sidestep this requirement if you do not need ONNX exportability.")
    if values[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    return values


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded ``T x B x *`` (or ``B x T x *``) batch; ``lengths`` sorted unless
    ``enforce_sorted=False`` (then the batch is sorted and the permutation is kept)."""
    from ... import sort
    if not isinstance(lengths, Tensor):
        lengths = _creation.as_tensor(lengths, dtype=_dtype.int64, device="cpu")
    else:
        lengths = lengths.to(dtype=_dtype.int64)
    sorted_indices = None
    if not enforce_sorted:
        lengths, sorted_indices = sort(lengths, descending=True, stable=True)
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    values = _check_lengths(lengths, input.size(1), input.numel())
    steps = values[0]
    mask = _creation.arange(steps).unsqueeze(1) < lengths.unsqueeze(0)
    batch_sizes = mask.sum(1)
    data = input[:steps][mask.to(input.device)]
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo pack_padded_sequence: returns (padded batch, lengths in the original order)."""
    from ... import cat
    batch_sizes = sequence.batch_sizes
    max_seq_length = batch_sizes.size(0)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{max_seq_length}")
        max_seq_length = total_length
    data = sequence.data
    batch = int(batch_sizes[0]) if batch_sizes.numel() else 0
    steps = batch_sizes.size(0)
    cols = _creation.arange(batch).unsqueeze(0)
    offsets = (batch_sizes.cumsum(0) - batch_sizes).unsqueeze(1)
    pad_row = data.size(0)
    index = (offsets + cols).masked_fill(cols >= batch_sizes.unsqueeze(1), pad_row)
    if max_seq_length > steps:
        index = cat([index, _creation.full((max_seq_length - steps, batch), pad_row,
                                           dtype=_dtype.int64)])
    pad = _creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype,
                         device=data.device)
    padded = cat([data, pad])[index.to(data.device)]
    lengths = (batch_sizes.unsqueeze(0) > cols.t()).sum(1)
    if batch_first:
        padded = padded.transpose(0, 1)
    unsorted_indices = sequence.unsorted_indices
    if unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, unsorted_indices)
        lengths = lengths[unsorted_indices.cpu()]
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shape ``L_i x *`` into ``L_max x B x *`` (``B x L_max x *`` when
    ``batch_first``), padding on ``padding_side`` with ``padding_value``."""
    from ... import cat, stack
    if not isinstance(sequences, abc.Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of "
                           f"type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError("Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    trailing = tuple(sequences[0].shape[1:])
    max_len = max(s.size(0) for s in sequences)
    rows = []
    for seq in sequences:
        for k, (want, got) in enumerate(zip(trailing, seq.shape[1:]), 1):
            if want != got and got != 1:
                raise RuntimeError(f"The size of tensor a ({want}) must match the size of "
                                   f"tensor b ({got}) at non-singleton dimension {k}")
        seq = seq.expand(seq.size(0), *trailing)
        pad_len = max_len - seq.size(0)
        if pad_len:
            pad = _creation.full((pad_len, *trailing), padding_value, dtype=seq.dtype,
                                 device=seq.device)
            seq = cat([seq, pad] if padding_side == "right" else [pad, seq])
        rows.append(seq)
    return stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of its sequences (without padding)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(length)] for seq, length in zip(padded_sequences, lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of ``L_i x *`` sequences (pad_sequence then pack_padded_sequence)."""
    lengths = _creation.as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Undo pack_sequence: the list of the original sequences."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
