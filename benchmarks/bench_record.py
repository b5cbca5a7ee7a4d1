"""Recording overhead on the MLP benchmark (784-512-512-10 ReLU, MSE, SGD, batch 128): the same
training step plain, inside a fresh ``torchlite.graph.record()`` each step (the default: no
value capture), and inside ``record(values="stats")``, in one run with repeats interleaved.

    python benchmarks/bench_record.py [--threads 1] [--repeats 9] [--steps 30]
"""
import argparse
import statistics

from bench_core import time_interleaved
from bench_dashboard import mlp_setup


def make_runs(steps):
    """Three runs of ``steps`` steps on the SAME model and data: plain, record(), and
    record(values="stats"); each recorded step is its own graph (as a per-step debugger)."""
    import contextlib

    from torchlite.graph import record

    model, opt, x, y = mlp_setup()

    def run(recorder):
        for _ in range(steps):
            with recorder():
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
            loss.item()
            opt.step()
    return [lambda: (lambda: run(contextlib.nullcontext), steps),
            lambda: (lambda: run(record), steps),
            lambda: (lambda: run(lambda: record(values="stats")), steps)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    import torchlite
    torchlite.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    off, rec, stats = time_interleaved(make_runs(args.steps), args.repeats)
    print(f"MLP step (threads={args.threads}, {args.steps} steps x {args.repeats} repeats): "
          f"plain {1e3 * statistics.median(off):.3f} ms, record() "
          f"{1e3 * statistics.median(rec):.3f} ms, record(values='stats') "
          f"{1e3 * statistics.median(stats):.3f} ms")
    for name, times in (("record()", rec), ("record(values='stats')", stats)):
        ratios = [b / a for a, b in zip(off, times)]
        print(f"overhead {name} / plain: median {statistics.median(ratios):.3f} "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    main()
