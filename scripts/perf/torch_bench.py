"""PyTorch CPU side of the performance rows, the same work and JSON shape as `benches/perf_rows.rs`.

The thread count is an argument (`--threads`, so scripts/compare.sh gives both sides the same),
each row is timed in rounds like perf_rows (median round, fastest and slowest: median_us, min_us,
max_us) with the same numbers of calls, rows are named as perf_rows names them, and the GEMM
peak and the 5-epoch Fashion-MNIST run are opt-in (`--gemm`, `--fmnist DIR`). First measured
2026-11-29 with PyTorch 2.15 CPU.

    python3 scripts/perf/torch_bench.py --threads 2 [--scale 0.1] [--gemm] [--fmnist DIR]

Prints one JSON line. Needs `torch` and `numpy` (pip install torch numpy --index-url
https://download.pytorch.org/whl/cpu, in a virtualenv).
"""
import argparse, gzip, json, struct, time
import numpy as np
import torch, torch.nn as nn

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--threads", type=int, default=torch.get_num_threads())
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--scale", type=float, default=1.0, help="multiplies every row's number of calls")
ap.add_argument("--gemm", action="store_true", help="also time a 2048^3 f32 matmul (GFLOP/s)")
ap.add_argument("--fmnist", metavar="DIR", help="also train 5 Fashion-MNIST epochs from DIR's IDX files")
args = ap.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(0)


def time_row(fn, calls):
    """Warm-up, then `rounds` rounds of `calls` timed calls; median round, fastest, slowest (µs)."""
    calls = max(1, round(calls * args.scale))
    for _ in range(max(calls // 10, 3)):
        fn()
    rounds = []
    for _ in range(max(args.rounds, 1)):
        ts = []
        for _ in range(calls):
            t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
        ts.sort()
        rounds.append(ts[len(ts) // 2] * 1e6)
    rounds.sort()
    return {"median_us": round(rounds[len(rounds) // 2], 1), "min_us": round(rounds[0], 1),
            "max_us": round(rounds[-1], 1), "calls_per_round": calls}


def mlp():
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 10))


def step_fn(model, x):
    y = torch.arange(x.shape[0]) % 10  # labels i % 10, as perf_rows
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()
    def f():
        opt.zero_grad(set_to_none=False)
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()
    return f


rows = {}
for b, calls in ((64, 300), (256, 150)):
    rows[f"mlp_step_b{b}"] = time_row(step_fn(mlp(), torch.randn(b, 784)), calls)
for b, calls in ((1, 2000), (256, 500)):
    m = mlp(); x = torch.randn(b, 784)
    with torch.no_grad():
        rows[f"mlp_infer_b{b}"] = time_row(lambda: m(x), calls)
rows["lenet_step_b64"] = time_row(step_fn(cnn(), torch.randn(64, 1, 28, 28)), 60)
res = {"framework": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
       "rounds": max(args.rounds, 1), "rows": rows}

if args.gemm:
    a = torch.randn(2048, 2048); bm = torch.randn(2048, 2048)
    for _ in range(3):
        a @ bm
    ts = []
    for _ in range(10):
        t = time.perf_counter(); a @ bm; ts.append(time.perf_counter() - t)
    res["gemm2048_gflops"] = 2 * 2048**3 / float(np.median(ts)) / 1e9


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4]); nd = magic & 0xff
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


if args.fmnist:
    d = args.fmnist
    xtr = torch.tensor(idx(f"{d}/train-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    ytr = torch.tensor(idx(f"{d}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
    xte = torch.tensor(idx(f"{d}/t10k-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    yte = torch.tensor(idx(f"{d}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    torch.manual_seed(0)
    m = mlp(); opt = torch.optim.Adam(m.parameters(), lr=1e-3); lossf = nn.CrossEntropyLoss()
    t = time.perf_counter()
    for ep in range(5):
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 32):
            idxs = perm[i:i + 32]
            opt.zero_grad(); loss = lossf(m(xtr[idxs]), ytr[idxs]); loss.backward(); opt.step()
    res["fmnist_5ep_b32_s"] = time.perf_counter() - t
    with torch.no_grad():
        res["fmnist_5ep_test_acc"] = float((m(xte).argmax(1) == yte).float().mean())

print(json.dumps(res))
