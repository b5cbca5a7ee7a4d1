"""TrainingDashboard overhead on the MLP benchmark (784-512-512-10 ReLU, MSE, SGD, batch 128):
the same training step with ``dash.log`` (default settings, widget attached) and without, in one
run, repeats interleaved, plus the time spent inside ``dash.log`` itself (robust to machine
noise). The dashboard's budget is <= 5%.

    python benchmarks/bench_dashboard.py [--threads 1] [--repeats 9] [--steps 50]
"""
import argparse
import statistics
import time

from bench_core import time_interleaved


def mlp_setup(sizes=(784, 512, 512, 10), batch=128, lr=0.01):
    """The MLP benchmark's model, SGD optimizer and one batch (x, y), seeded."""
    import torchlite as tl
    from torchlite import nn

    tl.manual_seed(0)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    opt = tl.optim.SGD(model.parameters(), lr=lr)
    return model, opt, tl.randn(batch, sizes[0]), tl.randn(batch, sizes[-1])


def make_runs(steps):
    """Two runs of ``steps`` SGD steps on the SAME model and data (so that memory layout does
    not differ): without and with a dashboard (default settings, its widget made) logging."""
    from torchlite.viz import TrainingDashboard

    model, opt, x, y = mlp_setup()
    dashboard = TrainingDashboard(model, opt)
    dashboard.widget    # noqa: B018 -- sends go through a real (kernel-less) widget comm
    state = {"step": 0, "in_log": 0.0}

    def run(dash):
        for _ in range(steps):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            if dash is not None:
                t0 = time.perf_counter()
                dash.log(state["step"], loss=loss)
                state["in_log"] += time.perf_counter() - t0
            else:
                loss.item()          # the baseline reads the loss too, as any training loop does
            opt.step()
            state["step"] += 1
    return (lambda: run(None), steps), (lambda: run(dashboard), steps), state


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    import torchlite
    torchlite.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    runs = make_runs(args.steps)
    off, on = time_interleaved([lambda: runs[0], lambda: runs[1]], args.repeats)
    logged = (args.repeats + 1) * args.steps      # the warm-up run included
    ratios = [b / a for a, b in zip(off, on)]
    print(f"MLP step, dashboard off: {1e3 * statistics.median(off):.3f} ms/step, "
          f"on: {1e3 * statistics.median(on):.3f} ms/step "
          f"(threads={args.threads}, {args.steps} steps x {args.repeats} repeats)")
    print(f"overhead ratio on/off: median {statistics.median(ratios):.4f} "
          f"(min {min(ratios):.4f}, max {max(ratios):.4f})")
    per_log = runs[2]["in_log"] / logged
    print(f"time inside dash.log: {1e3 * per_log:.4f} ms/step = "
          f"{100 * per_log / statistics.median(off):.2f}% of a step")


if __name__ == "__main__":
    main()
