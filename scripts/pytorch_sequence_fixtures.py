#!/usr/bin/env python3
"""Records PyTorch's nn.GRU, nn.LSTM, nn.EmbeddingBag and nn.TransformerEncoderLayer on fixed weights for typenet's sequence
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


def encoder(name, batch, steps, width, heads, ff, seed):
    """nn.TransformerEncoderLayer (post-norm, ReLU, no dropout) and its attention alone."""
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(width, heads, ff, dropout=0.0, batch_first=True)
    # non-zero biases and norm parameters, so every parameter is exercised
    with torch.no_grad():
        for p in layer.parameters():
            if p.dim() == 1:
                p.copy_(seeded(seed + p.numel(), p.numel(), scale=0.3) + (1.0 if p is layer.norm1.weight or p is layer.norm2.weight else 0.0))
    layer.eval()
    x = seeded(seed + 1, batch, steps, width).requires_grad_(True)
    attn, _ = layer.self_attn(x, x, x, need_weights=False)
    gy = seeded(seed + 2, *attn.shape)
    (attn * gy).sum().backward()
    grad_x = x.grad.clone()
    y = layer(x)
    sa = layer.self_attn
    return {
        "name": name,
        "shape": [batch, steps, width, heads, ff],
        "x": nums(x),
        "attention": nums(attn),
        "gy": nums(gy),
        "attention_grad_x": nums(grad_x),
        "y": nums(y),
        "params": {
            "in_proj_weight": nums(sa.in_proj_weight),
            "in_proj_bias": nums(sa.in_proj_bias),
            "out_proj.weight": nums(sa.out_proj.weight),
            "out_proj.bias": nums(sa.out_proj.bias),
            "linear1.weight": nums(layer.linear1.weight),
            "linear1.bias": nums(layer.linear1.bias),
            "linear2.weight": nums(layer.linear2.weight),
            "linear2.bias": nums(layer.linear2.bias),
            "norm1.weight": nums(layer.norm1.weight),
            "norm1.bias": nums(layer.norm1.bias),
            "norm2.weight": nums(layer.norm2.weight),
            "norm2.bias": nums(layer.norm2.bias),
        },
    }


def main():
    records = [
        recurrent("gru", nn.GRU, 3, 5, 4, 6, 10),
        recurrent("lstm", nn.LSTM, 3, 5, 4, 6, 20),
        recurrent("gru_long", nn.GRU, 2, 16, 3, 8, 30),
        recurrent("lstm_long", nn.LSTM, 2, 16, 3, 8, 40),
        bag("embedding_bag", 7, 3, [[1, 2, 0, 0], [3, 3, 6, 0], [0, 0, 0, 0]], 50),
        encoder("encoder_block", 2, 5, 8, 2, 12, 60),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "sequence.json"
    meta = {"torch": torch.__version__}
    path.write_text(json.dumps({"meta": meta, "records": records}, indent=None) + "\n")
    print(f"wrote {path} ({len(records)} records)")


if __name__ == "__main__":
    main()
