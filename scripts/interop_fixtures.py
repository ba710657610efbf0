#!/usr/bin/env python3
"""Writes the PyTorch models typenet's interop tests load (tests/it/interop_pytorch.rs).

Run once, by hand, when a fixture changes; CI never runs it (its outputs are committed):

    ~/.venvs/torch/bin/python scripts/interop_fixtures.py   # needs torch and safetensors

Writes to tests/fixtures/interop/:
- mlp.safetensors: Linear(20, 32), BatchNorm1d(32), ReLU, Linear(32, 16), ReLU, Linear(16, 3),
  trained briefly (Adam, 60 steps) on a fixed synthetic three-class problem, so batch norm's
  running statistics and num_batches_tracked are real;
- lenet.safetensors: LeNet-5 on 1x28x28 as three nested nn.Sequential blocks (the grouping of
  typenet's LeNet type), trained briefly on fixed synthetic images;
- lenet_wide.safetensors: an untrained LeNet whose first conv has 8 channels instead of 6 (a
  state_dict that does not fit typenet's LeNet);
- outputs.json: for each trained model, 4 fixed inputs and the model's outputs in eval mode.
Everything is float32 on the CPU with one thread, from fixed seeds; numbers are written with 9
significant digits, which reads back to the same float32.
"""

import json
import pathlib

import torch
import torch.nn as nn
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "interop"
torch.set_num_threads(1)


def nums(t):
    return [float("%.9g" % v) for v in t.detach().contiguous().view(-1).tolist()]


def mlp():
    return nn.Sequential(
        nn.Linear(20, 32), nn.BatchNorm1d(32), nn.ReLU(),
        nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 3),
    )


def lenet(first=6):
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(1, first, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(2, 2)),
        nn.Sequential(nn.Conv2d(first, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2)),
        nn.Sequential(
            nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
        ),
    )


def train(model, x, y, steps):
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    model.eval()
    return loss.item()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    records = []

    torch.manual_seed(0)
    m = mlp()
    x = torch.randn(256, 20)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    loss = train(m, x, y, 60)
    save_file(m.state_dict(), OUT / "mlp.safetensors")
    probe = torch.randn(4, 20)
    records.append({"name": "mlp", "input_shape": [4, 20], "input": nums(probe),
                    "output": nums(m(probe)), "train_loss": loss})

    torch.manual_seed(1)
    m = lenet()
    x = torch.randn(64, 1, 28, 28)
    y = (x[:, 0, :14].mean(dim=(1, 2)) * 40).clamp(-4.9, 4.9).add(5).long()
    loss = train(m, x, y, 30)
    save_file(m.state_dict(), OUT / "lenet.safetensors")
    probe = torch.randn(4, 1, 28, 28)
    records.append({"name": "lenet", "input_shape": [4, 1, 28, 28], "input": nums(probe),
                    "output": nums(m(probe)), "train_loss": loss})

    torch.manual_seed(2)
    save_file(lenet(first=8).state_dict(), OUT / "lenet_wide.safetensors")

    meta = {"torch": torch.__version__, "records": records}
    (OUT / "outputs.json").write_text(json.dumps(meta, indent=1) + "\n")
    for r in records:
        print(r["name"], "train loss", r["train_loss"])


if __name__ == "__main__":
    main()
