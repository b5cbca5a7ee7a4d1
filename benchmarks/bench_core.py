"""Core overhead benchmarks: torchlite vs PyTorch (CPU) vs hand-written NumPy, in one run.

Each workload is written once against the PyTorch API and run on both libraries with the same
BLAS thread count; a hand-written NumPy version gives the floor. The figures that matter are the
ratios printed at the end (torchlite time / PyTorch time): the median of the per-repeat ratios with
their spread, and the ratio of the best times (on a shared machine, other processes only ever add
time, so the best of many interleaved repeats is the steadiest estimate).

    python benchmarks/bench_core.py [--threads 1] [--repeats 7]
"""
import argparse
import statistics
import time

import numpy as np


# ---- workloads, written once against the PyTorch API ------------------------------------------
def per_op(lib, n=2000):
    """A 16-element add in a loop, inputs requiring grad (per-op dispatch + graph recording)."""
    a = lib.ones(16, requires_grad=True)
    b = lib.ones(16, requires_grad=True)

    def run():
        for _ in range(n):
            a + b
    return run, n


def chain(lib, length=200):
    """Forward + backward through a chain of `length` small multiplications."""
    a = lib.ones(16, requires_grad=True)
    b = lib.full((16,), 1.0001, requires_grad=True)

    def run():
        x = a
        for _ in range(length):
            x = x * b
        x.sum().backward()
    return run, length


def mlp_step(lib, batch=128, sizes=(784, 512, 512, 10), lr=0.01):
    """One SGD step of a 784-512-512-10 ReLU MLP with an MSE loss (batch 128)."""
    lib.manual_seed(0)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append((lib.randn(fan_in, fan_out) * fan_in ** -0.5).requires_grad_())
        params.append(lib.zeros(fan_out, requires_grad=True))
    x = lib.randn(batch, sizes[0])
    y = lib.randn(batch, sizes[-1])

    def run():
        h = x
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i + 2 < len(params):
                h = h.relu()
        d = h - y
        loss = (d * d).mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
    return run, 1


# ---- the same workloads by hand in NumPy (the floor) ------------------------------------------
def numpy_per_op(n=2000):
    a, b = np.ones(16, np.float32), np.ones(16, np.float32)

    def run():
        for _ in range(n):
            np.add(a, b)
    return run, n


def numpy_chain(length=200):
    a, b = np.ones(16, np.float32), np.full(16, 1.0001, np.float32)

    def run():
        xs = [a]
        for _ in range(length):
            xs.append(xs[-1] * b)
        g = np.ones(16, np.float32)
        gb = np.zeros(16, np.float32)
        for i in range(length - 1, -1, -1):
            gb += g * xs[i]
            g = g * b
    return run, length


def numpy_mlp_step(batch=128, sizes=(784, 512, 512, 10), lr=0.01):
    rng = np.random.default_rng(0)
    ws = [(rng.standard_normal((i, o)) * i ** -0.5).astype(np.float32)
          for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(o, np.float32) for o in sizes[1:]]
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.standard_normal((batch, sizes[-1])).astype(np.float32)

    def run():
        acts, pre = [x], []
        for i, (w, b) in enumerate(zip(ws, bs)):
            z = acts[-1] @ w + b
            pre.append(z)
            acts.append(np.maximum(z, 0) if i + 1 < len(ws) else z)
        g = 2 * (acts[-1] - y) / y.size
        for i in range(len(ws) - 1, -1, -1):
            if i + 1 < len(ws):
                g = g * (pre[i] > 0)
            gw, gb = acts[i].T @ g, g.sum(0)
            if i:
                g = g @ ws[i].T
            ws[i] -= lr * gw
            bs[i] -= lr * gb
    return run, 1


# ---- timing --------------------------------------------------------------------------------------
def time_interleaved(makers, repeats):
    """Per-unit times of each workload, repeats alternating between them so that load on this
    shared machine hits all libraries alike."""
    runs = [make() for make in makers]
    for run, _ in runs:
        run()  # warm-up
    times = [[] for _ in runs]
    for _ in range(repeats):
        for (run, units), out in zip(runs, times):
            t0 = time.perf_counter()
            run()
            out.append((time.perf_counter() - t0) / units)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    import torchlite
    torch.set_num_threads(args.threads)
    torchlite.set_num_threads(args.threads)
    threadpool_limits(args.threads)

    workloads = [("per-op add (16 elems, requires_grad)", per_op, numpy_per_op, "us/op"),
                 ("fwd+bwd chain (200 muls)", chain, numpy_chain, "us/op"),
                 ("MLP 784-512-512-10 SGD step (b=128)", mlp_step, numpy_mlp_step, "ms/step")]
    print(f"threads={args.threads} repeats={args.repeats}  torch {torch.__version__}")
    print(f"{'workload':40s} {'torchlite':>10s} {'torch':>10s} {'numpy':>10s} "
          f"{'tl/torch':>9s} {'spread':>13s} {'best':>7s} {'tl/numpy':>9s}")
    for name, workload, by_hand, unit in workloads:
        scale = 1e6 if unit == "us/op" else 1e3
        tl_t, th_t, np_t = time_interleaved(
            [lambda: workload(torchlite), lambda: workload(torch), by_hand], args.repeats)
        ratios = sorted(a / b for a, b in zip(tl_t, th_t))
        med = [statistics.median(t) * scale for t in (tl_t, th_t, np_t)]
        print(f"{name:40s} {med[0]:9.2f}  {med[1]:9.2f}  {med[2]:9.2f}  "
              f"{statistics.median(ratios):8.2f}x  [{ratios[0]:.2f}-{ratios[-1]:.2f}]  "
              f"{min(tl_t) / min(th_t):5.2f}x  {med[0] / med[2]:8.2f}x   ({unit})")


if __name__ == "__main__":
    main()
