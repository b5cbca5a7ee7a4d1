"""embedding.cu's index check on the CPU emulator: a device-side assert for any index outside
[0, num), none for valid ones, for both index dtypes."""
import numpy as np
import pytest

from torchlite._kernels import embedding


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("bad", [None, -1, 10, 2**31 - 1])
def test_check_indices(emulated, dtype, bad):
    idx = np.random.default_rng(0).integers(0, 10, (3, 177)).astype(dtype)
    if bad is None:
        embedding.check_indices(idx, 10)
        return
    idx[2, 170] = bad
    with pytest.raises(emulated.KernelError, match="device-side assert triggered: index out of "
                                                   "range in self"):
        embedding.check_indices(idx, 10)


def test_check_indices_of_no_indices_launches_nothing(emulated):
    embedding.check_indices(np.zeros((0, 3), np.int64), 10)
