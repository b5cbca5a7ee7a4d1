"""GPU workloads, torchlite side by side with PyTorch (eager) on the same card, printing ratios.

    python benchmarks/bench_gpu.py --out DIR          # on a GPU machine (PyTorch + CuPy)
    python benchmarks/bench_gpu.py --tiny --out DIR   # tiny sizes on the CPU: checks the script

Sections: per-op overhead on a small tensor; the char-GPT train step (6 layers, 6 heads, 384,
block 256, batch 64: nanoGPT's shakespeare-char) in tokens/s; a GPT-2-small-shaped step (12, 12,
768, block 1024, batch 8) under bf16 autocast; peak memory of each; a loss curve of the char-GPT
from the same init and batches. Writes DIR/bench_gpu.json and prints a report.
"""
import argparse
import json
import math
import os
import time

import numpy as np

import torch
import torchlite
from gpt_model import build_gpt


class Side:
    """One library on one device: its model, optimizer, synchronisation and memory counters."""

    def __init__(self, m, device, cfg, state=None):
        self.m, self.device = m, device
        self.model = build_gpt(m, *cfg)
        if state is not None:
            self.model.load_state_dict({k: m.tensor(v) for k, v in state.items()})
        self.model.to(device)
        self.opt = m.optim.AdamW(self.model.parameters(), lr=1e-3, weight_decay=0.1)

    def sync(self):
        if self.device != "cpu":
            self.m.cuda.synchronize()

    def reset_peak(self):
        if self.device != "cpu":
            self.m.cuda.empty_cache()
            self.m.cuda.reset_peak_memory_stats()

    def peak(self):
        return self.m.cuda.max_memory_allocated() if self.device != "cpu" else 0

    def step(self, x, y, amp_dtype=None):
        m = self.m
        xs, ys = m.tensor(x, device=self.device), m.tensor(y, device=self.device)
        if amp_dtype is None:
            loss = self.model(xs, ys)
        else:
            with m.autocast(self.device, dtype=getattr(m, amp_dtype)):
                loss = self.model(xs, ys)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss


def batches(vocab, block, batch, n, seed):
    """Token batches drawn from generated text with structure (a noisy repeating pattern)."""
    rng = np.random.default_rng(seed)
    period = rng.integers(0, vocab, size=97)
    text = np.resize(period, 200_000)
    noise = rng.random(text.shape) < 0.1
    text = np.where(noise, rng.integers(0, vocab, size=text.shape), text).astype(np.int64)
    for _ in range(n):
        i = rng.integers(0, len(text) - block - 1, size=batch)
        yield (np.stack([text[j:j + block] for j in i]),
               np.stack([text[j + 1:j + block + 1] for j in i]))


def tokens_per_s(side, data, amp_dtype, warmup, steps):
    for x, y in data[:warmup]:
        side.step(x, y, amp_dtype)
    side.sync()
    side.reset_peak()
    t0 = time.perf_counter()
    for x, y in data[warmup:warmup + steps]:
        loss = side.step(x, y, amp_dtype)
    side.sync()
    dt = time.perf_counter() - t0
    ntok = sum(x.size for x, _ in data[warmup:warmup + steps])
    return ntok / dt, side.peak(), float(loss.item())


def train_step_bench(name, cfg, batch, amp_dtype, device, warmup, steps):
    vocab, _, _, _, block = cfg
    data = list(batches(vocab, block, batch, warmup + steps, seed=1))
    torch.manual_seed(0)
    ref = Side(torch, device, cfg)
    state = {k: v.detach().cpu().numpy() for k, v in ref.model.state_dict().items()}
    lite = Side(torchlite, device, cfg, state)
    row = {"workload": name}
    for label, side in (("torch", ref), ("torchlite", lite)):
        tps, peak, loss = tokens_per_s(side, data, amp_dtype, warmup, steps)
        row.update({f"{label}_tokens_per_s": tps, f"{label}_peak_bytes": peak,
                    f"{label}_last_loss": loss})
        del side.model, side.opt
    row["speed_ratio"] = row["torchlite_tokens_per_s"] / row["torch_tokens_per_s"]
    if row["torch_peak_bytes"]:
        row["memory_ratio"] = row["torchlite_peak_bytes"] / row["torch_peak_bytes"]
    return row


def op_overhead(device, n=300):
    """Microseconds per small op (32x32), each library, synchronised once per batch of ops."""
    rows = []
    for op, fn in [("add", lambda a, b: a + b), ("mul", lambda a, b: a * b),
                   ("matmul", lambda a, b: a @ b), ("relu", lambda a, b: a.relu()),
                   ("sum", lambda a, b: a.sum()), ("softmax", lambda a, b: a.softmax(-1))]:
        row = {"op": op}
        for label, m in (("torch", torch), ("torchlite", torchlite)):
            a = m.randn(32, 32, device=device)
            b = m.randn(32, 32, device=device)
            for _ in range(20):
                fn(a, b)
            sync = (lambda: m.cuda.synchronize()) if device != "cpu" else (lambda: None)
            sync()
            t0 = time.perf_counter()
            for _ in range(n):
                fn(a, b)
            sync()
            row[f"{label}_us"] = (time.perf_counter() - t0) / n * 1e6
        row["overhead_ratio"] = row["torchlite_us"] / row["torch_us"]
        rows.append(row)
    return rows


def loss_curve(cfg, batch, device, steps):
    """The char-GPT from PyTorch's init in both libraries on the same batches: both curves."""
    vocab, _, _, _, block = cfg
    data = list(batches(vocab, block, batch, steps, seed=2))
    torch.manual_seed(0)
    ref = Side(torch, device, cfg)
    state = {k: v.detach().cpu().numpy() for k, v in ref.model.state_dict().items()}
    lite = Side(torchlite, device, cfg, state)
    curves = {"torch": [], "torchlite": []}
    for x, y in data:
        curves["torch"].append(float(ref.step(x, y).item()))
        curves["torchlite"].append(float(lite.step(x, y).item()))
    return curves


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tiny", action="store_true", help="tiny sizes on the CPU (script check)")
    p.add_argument("--out", default=".")
    p.add_argument("--curve-steps", type=int, default=200)
    args = p.parse_args()
    device = "cpu" if args.tiny else "cuda"
    if args.tiny:
        char_cfg, char_batch = (65, 2, 2, 32, 16), 4
        gpt2_cfg, gpt2_batch = (256, 2, 2, 32, 32), 2
        warmup, steps, curve_steps = 1, 2, min(args.curve_steps, 5)
    else:
        torchlite.backends.cuda.matmul.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
        char_cfg, char_batch = (65, 6, 6, 384, 256), 64
        gpt2_cfg, gpt2_batch = (50304, 12, 12, 768, 1024), 8
        warmup, steps, curve_steps = 3, 10, args.curve_steps
    report = {"device": device, "card": torch.cuda.get_device_name() if device == "cuda"
              else "cpu (--tiny)"}
    report["op_overhead"] = op_overhead(device)
    report["char_gpt"] = train_step_bench("char-GPT 6/6/384 block 256 batch 64", char_cfg,
                                          char_batch, None, device, warmup, steps)
    amp = "bfloat16" if device == "cpu" or torchlite.cuda.is_bf16_supported() else "float16"
    report["gpt2_small"] = train_step_bench(f"GPT-2-small 12/12/768 block 1024 batch 8 {amp} "
                                            "autocast", gpt2_cfg, gpt2_batch, amp, device,
                                            warmup, steps)
    curves = loss_curve(char_cfg, char_batch, device, curve_steps)
    k = max(1, curve_steps // 10)
    report["loss_curve"] = curves
    report["loss_curve_summary"] = {
        "first": {s: c[0] for s, c in curves.items()},
        "last_mean": {s: float(np.mean(c[-k:])) for s, c in curves.items()},
        "max_abs_diff": float(np.max(np.abs(np.subtract(curves["torch"],
                                                        curves["torchlite"])))),
        "learning": bool(np.mean(curves["torchlite"][-k:]) < curves["torchlite"][0] - 0.1
                         or curve_steps < 20),
    }
    os.makedirs(args.out, exist_ok=True)
    with open(f"{args.out}/bench_gpu.json", "w") as f:
        json.dump(report, f, indent=1)
    print(f"card: {report['card']}")
    for r in report["op_overhead"]:
        print(f"op {r['op']:8s} torch {r['torch_us']:8.1f} us  torchlite {r['torchlite_us']:8.1f}"
              f" us  ratio {r['overhead_ratio']:.2f}x")
    for key in ("char_gpt", "gpt2_small"):
        r = report[key]
        mem = f"  peak memory ratio {r['memory_ratio']:.2f}x" if "memory_ratio" in r else ""
        print(f"{r['workload']}: torch {r['torch_tokens_per_s']:.0f} tok/s, torchlite "
              f"{r['torchlite_tokens_per_s']:.0f} tok/s, speed ratio {r['speed_ratio']:.2f}x"
              f"{mem}")
    s = report["loss_curve_summary"]
    print(f"loss curve ({curve_steps} steps): first {s['first']}, last {s['last_mean']}, "
          f"max |diff| {s['max_abs_diff']:.4f}, learning: {s['learning']}")
    if not all(math.isfinite(v) for c in curves.values() for v in c):
        raise SystemExit("non-finite loss")


if __name__ == "__main__":
    main()
