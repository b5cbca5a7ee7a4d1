"""LSTM on the adding problem with variable-length sequences.

Plain PyTorch code (tests/e2e/test_e2e.py runs it on torchlite with only the import resolved to
torchlite). Each sequence holds random values in [0, 1] and a marker channel flagging two
positions; the target is the sum of the two marked values. Sequences are padded, packed with
pack_padded_sequence and fed to a 2-layer nn.LSTM(batch_first=True); the last hidden state of the
top layer predicts the sum.
"""
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence
from torch.utils.data import DataLoader, TensorDataset


def make_data(n, min_len=6, max_len=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_len, max_len + 1, (n,), generator=g)
    seqs, targets = [], []
    for length in lengths.tolist():
        values = torch.rand(length, generator=g)
        marks = torch.zeros(length)
        marked = torch.randperm(length, generator=g)[:2]
        marks[marked] = 1.0
        seqs.append(torch.stack([values, marks], dim=1))
        targets.append(values[marked].sum())
    return pad_sequence(seqs, batch_first=True), lengths, torch.stack(targets)


class Adder(nn.Module):
    def __init__(self, hidden_size=32):
        super().__init__()
        self.lstm = nn.LSTM(input_size=2, hidden_size=hidden_size, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)
        return self.head(h_n[-1]).squeeze(-1)


def evaluate(model, x, lengths, y):
    model.eval()
    with torch.no_grad():
        mse = nn.functional.mse_loss(model(x, lengths), y).item()
    model.train()
    return mse


def main():
    torch.manual_seed(0)
    x, lengths, y = make_data(4000, seed=1)
    x_val, len_val, y_val = make_data(500, seed=2)
    loader = DataLoader(TensorDataset(x, lengths, y), batch_size=64, shuffle=True)
    model = Adder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    criterion = nn.MSELoss()
    baseline = ((y_val - y_val.mean()) ** 2).mean().item()  # predicting the mean
    start = evaluate(model, x_val, len_val, y_val)
    print(f"baseline mse {baseline:.4f}, untrained mse {start:.4f}")
    for epoch in range(6):
        for xb, lb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb, lb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
        scheduler.step()
        mse = evaluate(model, x_val, len_val, y_val)
        print(f"epoch {epoch} lr {scheduler.get_last_lr()[0]:.4f} train loss {loss.item():.4f} "
              f"val mse {mse:.4f}")
    assert mse < 0.2 * baseline, (mse, baseline)


if __name__ == "__main__":
    main()
