#!/usr/bin/env python3
"""Records PyTorch's nn.GRU, nn.LSTM and nn.EmbeddingBag on fixed weights for typenet's sequence
tests (tests/it/sequence.rs).

Run once, by hand, when a fixture is added or PyTorch's behaviour is to be rechecked; CI never
runs it (the JSON it writes is committed):

    python3 scripts/pytorch_sequence_fixtures.py   # writes tests/fixtures/pytorch/sequence.json

Needs `torch` (the CPU build is enough). Everything is float32 on the CPU with one thread, from
fixed seeds. Each record holds the input, the layer's parameters under PyTorch's names
(weight_ih_l0 of shape (G*H, I), weight_hh_l0 (G*H, H), bias_ih_l0 and bias_hh_l0 (G*H,)), its
whole output (batch, steps, H) and, for sum(output * gy) with a fixed gy, the gradients with
respect to the input and to each parameter.
"""

import json
import pathlib

import torch
import torch.nn as nn

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pytorch"

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)


def nums(t):
    """A tensor as a flat list of float32 values (row-major), 9 significant digits."""
    a = t.detach().to(torch.float32).contiguous().view(-1).numpy()
    return [float("%.9g" % v) for v in a]


def seeded(seed, *size, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*size, generator=g) * scale).to(torch.float32)


def recurrent(name, cls, batch, steps, inp, hidden, seed):
    torch.manual_seed(seed)
    layer = cls(inp, hidden, batch_first=True)
    x = seeded(seed + 1, batch, steps, inp).requires_grad_(True)
    y, _ = layer(x)
    gy = seeded(seed + 2, *y.shape)
    (y * gy).sum().backward()
    rec = {
        "name": name,
        "shape": [batch, steps, inp, hidden],
        "x": nums(x),
        "y": nums(y),
        "gy": nums(gy),
        "grad_x": nums(x.grad),
        "params": {},
        "grads": {},
    }
    for pname in ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]:
        p = getattr(layer, pname)
        rec["params"][pname] = nums(p)
        rec["grads"][pname] = nums(p.grad)
    return rec


def bag(name, vocab, dim, ids, seed):
    torch.manual_seed(seed)
    layer = nn.EmbeddingBag(vocab, dim, mode="mean", padding_idx=0)
    idx = torch.tensor(ids, dtype=torch.long)
    y = layer(idx)
    return {
        "name": name,
        "shape": [len(ids), len(ids[0]), vocab, dim],
        "ids": [i for row in ids for i in row],
        "weight": nums(layer.weight),
        "y": nums(y),
    }


def main():
    records = [
        recurrent("gru", nn.GRU, 3, 5, 4, 6, 10),
        recurrent("lstm", nn.LSTM, 3, 5, 4, 6, 20),
        recurrent("gru_long", nn.GRU, 2, 16, 3, 8, 30),
        recurrent("lstm_long", nn.LSTM, 2, 16, 3, 8, 40),
        bag("embedding_bag", 7, 3, [[1, 2, 0, 0], [3, 3, 6, 0], [0, 0, 0, 0]], 50),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "sequence.json"
    meta = {"torch": torch.__version__}
    path.write_text(json.dumps({"meta": meta, "records": records}, indent=None) + "\n")
    print(f"wrote {path} ({len(records)} records)")


if __name__ == "__main__":
    main()
