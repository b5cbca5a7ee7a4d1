"""DataLoader throughput: torchlite vs PyTorch (CPU), in one run.

A synthetic map-style dataset of (3x32x32 float32 tensor, int label) samples, batch 64, two
worker processes. Each library builds its own tensors in ``__getitem__`` and collates with its
own default_collate. Two figures per library, median over repeats: a fresh epoch (worker start
included) and a steady-state epoch with persistent workers. The ratios printed at the end are
torchlite samples/s over PyTorch samples/s (higher is better for torchlite).

    python benchmarks/bench_dataloader.py [--samples 4096] [--repeats 5] [--workers 2]
"""
import argparse
import importlib
import statistics
import time

import numpy as np


class SyntheticImages:
    """Map-style dataset: sample i is (image i as a ``lib`` tensor, label i % 10)."""

    def __init__(self, lib_name, n):
        self.lib_name = lib_name
        self.images = np.random.default_rng(0).standard_normal((n, 3, 32, 32), np.float32)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        lib = importlib.import_module(self.lib_name)
        return lib.as_tensor(self.images[i]), i % 10


def _epoch_seconds(loader):
    start = time.perf_counter()
    seen = 0
    for images, labels in loader:
        seen += len(labels)
    assert seen == len(loader.dataset) and tuple(images.shape[1:]) == (3, 32, 32)
    return time.perf_counter() - start


def measure(lib_name, samples, repeats, workers, batch=64):
    """Median samples/s for a fresh epoch and for a persistent-worker epoch."""
    lib = importlib.import_module(lib_name)
    dataset = SyntheticImages(lib_name, samples)
    fresh = lib.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True,
                                      num_workers=workers)
    persistent = lib.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True,
                                           num_workers=workers, persistent_workers=True)
    _epoch_seconds(persistent)  # warm-up: start the persistent workers
    fresh_s = statistics.median(_epoch_seconds(fresh) for _ in range(repeats))
    steady_s = statistics.median(_epoch_seconds(persistent) for _ in range(repeats))
    del persistent
    return samples / fresh_s, samples / steady_s


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import torch
    torch.set_num_threads(1)
    results = {name: measure(name, args.samples, args.repeats, args.workers)
               for name in ("torchlite", "torch")}
    print(f"DataLoader, {args.samples} samples of (3x32x32 float32, int), batch 64, "
          f"{args.workers} workers, median of {args.repeats}  (torch {torch.__version__})")
    for label, k in (("fresh epoch", 0), ("persistent workers", 1)):
        ours, theirs = results["torchlite"][k], results["torch"][k]
        print(f"  {label:20s} torchlite {ours:9.0f} samples/s   torch {theirs:9.0f} samples/s"
              f"   ratio {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
