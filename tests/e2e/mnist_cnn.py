"""MNIST-style CNN: classify generated 28x28 images of ten simple shapes.

Plain PyTorch code (tests/e2e/test_e2e.py runs it on torchlite with only the import resolved to
torchlite). Images are drawn with NumPy: each class is a shape (bars, diagonals, box, cross, ring,
...) at a random position and size, with pixel noise.
"""
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

N_CLASSES = 10


def draw(label, rng):
    """One 28x28 float32 image of shape class ``label``."""
    img = np.zeros((28, 28), np.float32)
    s = int(rng.integers(8, 13))  # half-size of the shape
    cy, cx = rng.integers(s + 1, 27 - s, size=2)
    y, x = np.mgrid[0:28, 0:28]
    dy, dx = y - cy, x - cx
    inside = (abs(dy) <= s) & (abs(dx) <= s)
    r = np.sqrt(dy ** 2 + dx ** 2)
    masks = [
        inside & (abs(dy) <= 1),                                   # horizontal bar
        inside & (abs(dx) <= 1),                                   # vertical bar
        inside & (abs(dy - dx) <= 1),                              # diagonal
        inside & (abs(dy + dx) <= 1),                              # anti-diagonal
        inside & ((abs(dy) >= s - 1) | (abs(dx) >= s - 1)),        # box outline
        inside & ((abs(dy) <= 1) | (abs(dx) <= 1)),                # plus
        inside & ((abs(dy - dx) <= 1) | (abs(dy + dx) <= 1)),      # x
        abs(r - s) <= 1.2,                                         # ring
        r <= s * 0.6,                                              # disc
        inside & (dy >= 0) & (abs(dx) <= dy),                      # triangle
    ]
    img[masks[label]] = 1.0
    img += rng.normal(0.0, 0.2, size=img.shape).astype(np.float32)
    return img


class ShapesDataset(Dataset):
    """``n`` generated images, with labels cycling through the classes."""

    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.labels = np.arange(n) % N_CLASSES
        self.images = np.stack([draw(int(lab), rng) for lab in self.labels])

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = torch.from_numpy(self.images[idx]).unsqueeze(0)
        return image, int(self.labels[idx])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 64),
            nn.ReLU(),
            nn.Dropout(0.25),
            nn.Linear(64, N_CLASSES),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            pred = model(images).argmax(dim=1)
            correct += (pred == labels).sum().item()
            total += labels.size(0)
    return correct / total


def main():
    torch.manual_seed(0)
    train_loader = DataLoader(ShapesDataset(3200, seed=1), batch_size=32, shuffle=True,
                              num_workers=2)
    test_loader = DataLoader(ShapesDataset(1000, seed=2), batch_size=200, num_workers=2)
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.time()
    step = 0
    for epoch in range(3):
        model.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            step += 1
            if step % 50 == 0:
                print(f"epoch {epoch} step {step} loss {loss.item():.4f}")
    accuracy = evaluate(model, test_loader)
    print(f"{step} steps in {time.time() - start:.1f}s, test accuracy {accuracy:.3f}")
    assert step == 300, step
    assert accuracy > 0.6, f"accuracy {accuracy:.3f} does not beat chance (0.1) clearly"


if __name__ == "__main__":
    main()
