#!/usr/bin/env python3
"""The PyTorch reference of examples/char_lm.rs: the same two-layer LSTM language model, trained
the same way on the same text, so the example's validation perplexity can be compared.

    cargo run --release --example char_lm -- --export-text /tmp/fortunes
    python3 scripts/char_lm_reference.py /tmp/fortunes [--epochs 3] [--seed 0]

The directory holds train.txt and val.txt. Characters get ids as typenet's `CharVocab` gives them
(0 padding, 1 unknown, then the 98 most frequent characters of the training text, ties in
code-point order); each text is cut into windows of 65 characters one apart by 64 (64 inputs, 64
next-character targets). The model: nn.Embedding(100, 64), nn.LSTM(64, 128, batch_first=True),
nn.LSTM(128, 128, batch_first=True), nn.Linear(128, 100) on every step; cross-entropy over every
position, Adam (lr 0.003), batches of 32 in a new random order each epoch, PyTorch's default
initialisation. It prints the validation perplexity (exp of the mean cross-entropy per
character) after each epoch. Not run by CI (it needs torch).
"""

import argparse
import collections
import json
import math
import pathlib
import time

import torch
import torch.nn as nn

LEN = 64
VOCAB = 100


def windows(ids):
    xs, ys = [], []
    start = 0
    while start + LEN < len(ids):
        xs.append(ids[start : start + LEN])
        ys.append(ids[start + 1 : start + LEN + 1])
        start += LEN
    return torch.tensor(xs), torch.tensor(ys)


class Lm(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 64)
        self.l1 = nn.LSTM(64, 128, batch_first=True)
        self.l2 = nn.LSTM(128, 128, batch_first=True)
        self.out = nn.Linear(128, VOCAB)

    def forward(self, x):
        h, _ = self.l1(self.emb(x))
        h, _ = self.l2(h)
        return self.out(h)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dir")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    d = pathlib.Path(a.dir)
    train_text = (d / "train.txt").read_text(encoding="utf-8")
    val_text = (d / "val.txt").read_text(encoding="utf-8")
    counts = collections.Counter(train_text)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: VOCAB - 2]
    ids = {c: i + 2 for i, (c, _) in enumerate(ranked)}
    x, y = windows([ids.get(c, 1) for c in train_text])
    vx, vy = windows([ids.get(c, 1) for c in val_text])
    print(f"{len(x)} training windows, {len(vx)} validation windows, {len(ids) + 2} character ids")
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    model = Lm()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    perplexities = []
    start = time.time()
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), 32):
            idx = order[i : i + 32]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]).reshape(-1, VOCAB), y[idx].reshape(-1))
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            nll = sum(
                loss_fn(model(vx[i : i + 256]).reshape(-1, VOCAB), vy[i : i + 256].reshape(-1)).item()
                * len(vx[i : i + 256])
                for i in range(0, len(vx), 256)
            ) / len(vx)
        perplexities.append(round(math.exp(nll), 3))
        print(f"epoch {epoch + 1}: validation perplexity {perplexities[-1]:.3f} ({time.time() - start:.0f} s)", flush=True)
    print(json.dumps({"val_perplexity": perplexities[-1], "epoch_perplexities": perplexities,
                      "seconds": round(time.time() - start, 1)}))


if __name__ == "__main__":
    main()
