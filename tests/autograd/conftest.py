"""Every autograd test starts and ends with grad mode on and anomaly mode off, even on failure."""
import pytest

import torchlite


@pytest.fixture(autouse=True)
def _clean_autograd_state():
    yield
    torchlite.set_grad_enabled(True)
    torchlite.autograd.set_anomaly_enabled(False)
