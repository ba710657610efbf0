#!/usr/bin/env python3
"""The PyTorch reference of examples/language_id.rs: the same two models, trained the same way on
the same split, so the example's test accuracies can be compared with PyTorch's.

    cargo run --release --example language_id -- --export-split /tmp/split.tsv
    python3 scripts/language_id_reference.py /tmp/split.tsv [--epochs 5] [--seed 0] [--runs 1]

The split file holds one word per line: `train` or `test`, the language index and the word,
tab-separated. Characters get ids as typenet's `CharVocab` gives them (0 padding, 1 unknown, then
the 94 most frequent characters of the training words, ties in code-point order) and words are
padded at the start to 16 ids. The models:
- bag of characters: nn.EmbeddingBag(96, 64, mode="mean", padding_idx=0), nn.Linear(64, 6);
- GRU: nn.Embedding(96, 32), nn.GRU(32, 128, batch_first=True) (its last step), nn.Linear(128, 6);
- transformer: nn.Embedding(96, 64) plus a learned position table (normal, std 0.02),
  nn.TransformerEncoderLayer(64, 4, 128, dropout=0, batch_first=True), the mean over positions,
  nn.Linear(64, 6);
each trained with Adam (lr 0.003), cross-entropy, batches of 64 in a new random order each epoch,
PyTorch's default initialisation. With --runs N it trains N times from seeds seed..seed+N-1 and
prints each run and the mean. Not run by CI (it needs torch).
"""

import argparse
import collections
import json
import time

import torch
import torch.nn as nn

LEN = 16
VOCAB = 96


def read_split(path):
    train, test = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            part, label, word = line.rstrip("\n").split("\t")
            (train if part == "train" else test).append((word, int(label)))
    return train, test


def vocabulary(words):
    counts = collections.Counter(c for w in words for c in w)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: VOCAB - 2]
    return {c: i + 2 for i, (c, _) in enumerate(ranked)}


def encode(pairs, ids):
    x = torch.zeros(len(pairs), LEN, dtype=torch.long)
    for row, (w, _) in enumerate(pairs):
        seq = [ids.get(c, 1) for c in w]
        if seq:
            x[row, LEN - len(seq):] = torch.tensor(seq)
    y = torch.tensor([l for _, l in pairs])
    return x, y


class Bag(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(VOCAB, 64, mode="mean", padding_idx=0)
        self.out = nn.Linear(64, 6)

    def forward(self, x):
        return self.out(self.bag(x))


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 32)
        self.gru = nn.GRU(32, 128, batch_first=True)
        self.out = nn.Linear(128, 6)

    def forward(self, x):
        y, _ = self.gru(self.emb(x))
        return self.out(y[:, -1])


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 64)
        self.pos = nn.Parameter(torch.randn(LEN, 64) * 0.02)
        self.enc = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True)
        self.out = nn.Linear(64, 6)

    def forward(self, x):
        return self.out(self.enc(self.emb(x) + self.pos).mean(1))


def train_and_test(model, data, epochs, seed):
    (x, y), (tx, ty) = data
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=g)
        total = 0.0
        for i in range(0, len(x), 64):
            idx = order[i : i + 64]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        print(f"  epoch {epoch + 1}: loss {total / len(x):.4f}", flush=True)
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(tx[i : i + 256]).argmax(1) for i in range(0, len(tx), 256)])
    return (pred == ty).float().mean().item()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("split")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    train, test = read_split(a.split)
    ids = vocabulary(w for w, _ in train)
    data = (encode(train, ids), encode(test, ids))
    print(f"{len(train)} training words, {len(test)} test words, {len(ids) + 2} character ids")
    results = []
    for run in range(a.runs):
        seed = a.seed + run
        torch.manual_seed(seed)
        start = time.time()
        bag = train_and_test(Bag(), data, a.epochs, seed)
        bag_s = time.time() - start
        torch.manual_seed(seed)
        start = time.time()
        gru = train_and_test(Recurrent(), data, a.epochs, seed)
        gru_s = time.time() - start
        torch.manual_seed(seed)
        start = time.time()
        tr = train_and_test(Transformer(), data, a.epochs, seed)
        tr_s = time.time() - start
        r = {"seed": seed, "bag_accuracy": round(bag, 4), "recurrent_accuracy": round(gru, 4),
             "transformer_accuracy": round(tr, 4), "bag_seconds": round(bag_s, 1),
             "recurrent_seconds": round(gru_s, 1), "transformer_seconds": round(tr_s, 1)}
        print(json.dumps(r), flush=True)
        results.append(r)
    if a.runs > 1:
        mean = {k: round(sum(r[k] for r in results) / len(results), 4)
                for k in ["bag_accuracy", "recurrent_accuracy", "transformer_accuracy"]}
        print(json.dumps({"mean": mean, "runs": a.runs}))


if __name__ == "__main__":
    main()
