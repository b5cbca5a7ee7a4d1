"""End-to-end: plain PyTorch training scripts run unchanged on torchlite.

Each script in this directory is PyTorch code as a user writes it (``import torch`` ...). It runs
in a subprocess whose PYTHONPATH starts with ``_shim/``, whose sitecustomize resolves ``torch`` and
every ``torch.<sub>`` to torchlite in that process and in the processes it spawns (DataLoader
workers); the script asserts that it learned. The same scripts also run on real PyTorch (when
installed) to show they are genuine PyTorch programs.
"""
import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPTS = ["mnist_cnn.py", "char_gpt.py", "lstm_seq.py", "save_resume.py"]
TIMEOUT_S = 300


def run(args, backend):
    """Run ``python *args`` in a fresh interpreter with ``torch`` bound to ``backend``."""
    paths = [str(ROOT)] + ([str(HERE / "_shim")] if backend == "torchlite" else [])
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    # Both libraries get one BLAS/OpenMP thread: torch's default pool oversubscribes the cores
    # that the DataLoader worker processes use.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), OMP_NUM_THREADS="1",
               TORCHLITE_NUM_THREADS="1")
    return subprocess.run([sys.executable, *args], cwd=HERE, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)


def check(result):
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def test_shim_binds_torch_to_torchlite():
    code = ("import torch, torch.nn as nn, torch.nn.functional as F, torch.optim as optim\n"
            "from torch.utils.data import DataLoader\n"
            "import torchlite, sys\n"
            "assert torch is torchlite and nn is torchlite.nn and optim is torchlite.optim\n"
            "assert F is torchlite.nn.functional\n"
            "assert DataLoader is torchlite.utils.data.DataLoader\n"
            "assert not any(m == 'torch' or m.startswith('torch.') for m in sys.modules\n"
            "               if not sys.modules[m].__name__.startswith('torchlite'))\n"
            "print('ok')\n")
    assert check(run(["-c", code], "torchlite")).strip() == "ok"


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_on_torchlite(script):
    print(check(run([script], "torchlite")))


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_on_pytorch(script, torch_oracle):
    print(check(run([script], "torch")))
