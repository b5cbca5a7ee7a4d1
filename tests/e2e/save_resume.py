"""Checkpoint and resume: the resumed run's losses equal the uninterrupted run's, exactly.

Plain PyTorch code (tests/e2e/test_e2e.py runs it on torchlite with only the import resolved to
torchlite). A small MLP with BatchNorm (buffers) trains N steps with AdamW (optimizer state) and a
StepLR schedule, is checkpointed with torch.save and trains K more steps. Fresh objects (built from
a different seed) then load the checkpoint with torch.load and run the same K steps. A second
checkpoint of the whole module (weights_only=False) resumes the same way.
"""
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

N_STEPS, K_STEPS = 20, 15


def make_batches(n, seed):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(8, 3, generator=g)
    batches = []
    for _ in range(n):
        x = torch.randn(32, 8, generator=g)
        batches.append((x, (x @ w).argmax(dim=1)))
    return batches


def build(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 3))
    return (model, *make_optimizer(model))


def make_optimizer(model):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    return optimizer, scheduler


def train(model, optimizer, scheduler, batches):
    losses = []
    model.train()
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def main():
    batches = make_batches(N_STEPS + K_STEPS, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ckpt.pt")
        whole = os.path.join(tmp, "whole.pt")
        model, optimizer, scheduler = build(seed=0)
        first = train(model, optimizer, scheduler, batches[:N_STEPS])
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "step": N_STEPS}, path)
        torch.save(model, whole)
        continued = train(model, optimizer, scheduler, batches[N_STEPS:])
        print("uninterrupted:", [round(v, 6) for v in first + continued])

        model2, optimizer2, scheduler2 = build(seed=1)
        checkpoint = torch.load(path)
        model2.load_state_dict(checkpoint["model"])
        optimizer2.load_state_dict(checkpoint["optimizer"])
        scheduler2.load_state_dict(checkpoint["scheduler"])
        assert checkpoint["step"] == N_STEPS
        assert scheduler2.get_last_lr() == [1e-2 * 0.25]
        resumed = train(model2, optimizer2, scheduler2, batches[N_STEPS:])
        print("resumed:      ", [round(v, 6) for v in resumed])
        assert resumed == continued, (resumed, continued)
        for p, q in zip(model.parameters(), model2.parameters()):
            assert torch.equal(p, q)
        assert torch.equal(model[1].running_mean, model2[1].running_mean)

        model3 = torch.load(whole, weights_only=False)
        optimizer3, scheduler3 = make_optimizer(model3)
        checkpoint = torch.load(path)  # optimizer2 trained the state tensors it loaded in place
        optimizer3.load_state_dict(checkpoint["optimizer"])
        scheduler3.load_state_dict(checkpoint["scheduler"])
        assert train(model3, optimizer3, scheduler3, batches[N_STEPS:]) == continued
    assert continued[-1] < 0.5 * first[0], (first[0], continued[-1])
    print("resumed losses match the uninterrupted run")


if __name__ == "__main__":
    main()
