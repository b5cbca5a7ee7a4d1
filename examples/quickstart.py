"""Quickstart: autograd on a tiny expression, then a few steps of training a linear model."""
import torchlite as torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x * x + 2 * x).sum()
y.backward()
print("y =", y)
print("dy/dx =", x.grad, "(expected 2x + 2)")
print("graph:", y.grad_fn, "->", y.grad_fn.next_functions)

torch.manual_seed(0)
w_true = torch.tensor([[2.0], [-3.0]])
inputs = torch.randn(64, 2)
targets = inputs @ w_true
w = torch.zeros(2, 1, requires_grad=True)
for step in range(50):
    loss = ((inputs @ w - targets) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
    w.grad = None
print(f"after 50 steps: loss {loss.item():.6f}, w = {w.detach().view(-1).tolist()}")
