"""Training-step benchmarks: torchlite vs PyTorch (CPU), one optimizer step per unit.

Each workload is written once against the PyTorch API (``lib`` is torch or torchlite) and runs on
both libraries with the same thread count. Repeats alternate between the libraries so that machine
load hits both alike; the ratio (torchlite time / PyTorch time) is the median over the repeats,
with the spread of the per-repeat ratios. Targets (issue 4): MLP and GPT <= 1.2x, conv <= 2x.

    python benchmarks/bench_train.py [--threads 1] [--repeats 7] [--steps 10] [--only gpt]
    python benchmarks/bench_train.py --clock cpu     # process CPU time: steadier on a busy machine
    python benchmarks/bench_train.py --profile gpt   # cProfile of the torchlite step, by tottime
"""
import argparse
import cProfile
import pstats
import resource
import statistics
import time

from gpt_model import build_gpt


# ---- workloads, written once against the PyTorch API ------------------------------------------
def classifier_step(lib, model, x, y, optimizer):
    F = lib.nn.functional

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    return step


def mlp_step(lib, batch=128):
    """784-512-512-10 ReLU MLP, cross_entropy, SGD with momentum, batch 128."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return classifier_step(lib, model, lib.randn(batch, 784), lib.randint(0, 10, (batch,)),
                           optimizer)


def conv_step(lib, batch=32):
    """Two 3x3 conv layers + ReLU + 2x2 max pooling, then a linear layer; 3x32x32, batch 32."""
    nn = lib.nn
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 8 * 8, 10))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return classifier_step(lib, model, lib.randn(batch, 3, 32, 32), lib.randint(0, 10, (batch,)),
                           optimizer)


def gpt_step(lib, n_layer=2, n_head=4, n_embd=64, block=64, batch=12, vocab=65):
    """nanoGPT-style char model: 2 layers, 4 heads, n_embd 64, block 64, batch 12, AdamW."""
    model = build_gpt(lib, vocab, n_layer, n_head, n_embd, block, tie_weights=True)
    optimizer = lib.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95),
                                weight_decay=0.1)
    data = lib.randint(0, vocab, (batch, block + 1))
    x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = model(x, y)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return step


WORKLOADS = {
    "mlp": ("MLP 784-512-512-10 SGD (b=128)", mlp_step, 1.2),
    "conv": ("conv net 3x32x32 SGD (b=32)", conv_step, 2.0),
    "gpt": ("char-GPT 2L 4H 64d blk64 AdamW (b=12)", gpt_step, 1.2),
}


# ---- timing --------------------------------------------------------------------------------------
# wall: elapsed time; cpu: this process's CPU time (user + system, so page faults count), which
# other processes on a shared machine disturb far less
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _minor_faults():
    """Page faults of this process so far: first touches of freshly mapped memory (a cost that
    every large fresh allocation pays; both libraries share the process's allocator)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def per_step(step, steps, clock=time.perf_counter, faults=None):
    f0, t0 = _minor_faults(), clock()
    for _ in range(steps):
        step()
    if faults is not None:
        faults.append((_minor_faults() - f0) / steps)
    return (clock() - t0) / steps


def compare(make, libs, repeats, steps, clock=time.perf_counter):
    """Per-step seconds for each library over ``repeats`` alternating runs of ``steps`` steps,
    and each library's median page faults per step."""
    runs = {}
    for lib in libs:
        lib.manual_seed(0)
        runs[lib] = make(lib)
        per_step(runs[lib], 2)  # warm-up (allocations, optimizer state)
    times = {lib: [] for lib in libs}
    faults = {lib: [] for lib in libs}
    for _ in range(repeats):
        for lib in libs:
            times[lib].append(per_step(runs[lib], steps, clock, faults[lib]))
    return [times[lib] for lib in libs], [statistics.median(faults[lib]) for lib in libs]


def profile(make, lib, steps, top):
    step = make(lib)
    per_step(step, 2)
    prof = cProfile.Profile()
    prof.runcall(per_step, step, steps)
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10, help="steps timed per repeat")
    parser.add_argument("--only", choices=list(WORKLOADS), action="append")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall")
    parser.add_argument("--profile", choices=list(WORKLOADS),
                        help="profile the torchlite step of one workload instead")
    parser.add_argument("--top", type=int, default=25, help="rows of the profile")
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    import torchlite
    torch.set_num_threads(args.threads)
    torchlite.set_num_threads(args.threads)
    threadpool_limits(args.threads)

    if args.profile:
        profile(WORKLOADS[args.profile][1], torchlite, args.steps, args.top)
        return
    print(f"threads={args.threads} repeats={args.repeats} steps/repeat={args.steps} "
          f"clock={args.clock}  torch {torch.__version__}")
    print(f"{'workload (ms/step)':40s} {'torchlite':>10s} {'torch':>10s} {'tl/torch':>9s} "
          f"{'spread':>13s} {'target':>7s}  {'page faults/step tl, torch':>26s}")
    for key in args.only or WORKLOADS:
        name, make, target = WORKLOADS[key]
        (tl_t, th_t), (tl_f, th_f) = compare(make, (torchlite, torch), args.repeats, args.steps,
                                             CLOCKS[args.clock])
        ratios = sorted(a / b for a, b in zip(tl_t, th_t))
        ratio = statistics.median(ratios)
        verdict = "ok" if ratio <= target else "MISS"
        print(f"{name:40s} {statistics.median(tl_t) * 1e3:9.2f}  "
              f"{statistics.median(th_t) * 1e3:9.2f}  {ratio:8.2f}x  "
              f"[{ratios[0]:.2f}-{ratios[-1]:.2f}]  <={target:.1f}x {verdict:4s}  "
              f"{tl_f:12.0f}, {th_f:.0f}")


if __name__ == "__main__":
    main()
