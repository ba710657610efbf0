"""PyTorch CPU side of the performance rows, the same work and JSON shape as `benches/perf_rows.rs`.

The thread count is an argument (`--threads`, so scripts/compare.sh gives both sides the same),
each row is timed in rounds like perf_rows (median round, fastest and slowest: median_us, min_us,
max_us) with the same numbers of calls, rows are named and built as perf_rows names and builds
them (its header lists the models), and the GEMM peak and the 5-epoch Fashion-MNIST run are
opt-in (`--gemm`, `--fmnist DIR`; perf_rows' `--peak` and `--fmnist`, whose figures this prints
under the same keys: "peak" {"gemm2048_gflops"}, "fmnist" {"epochs", "batch", "train_s", "load_s",
"test_accuracy"}). `--only` picks rows by name or name prefix; `--memory` adds
each row's `peak_mb` measured as perf_rows measures it (the row alone in a child process: peak
resident memory, VmHWM, less the resident memory before its model was built). First measured
2026-11-29 with PyTorch 2.15 CPU.

    python3 scripts/perf/torch_bench.py --threads 2 [--scale 0.1] [--only vgg,resnet20] [--memory]
                                        [--gemm] [--fmnist DIR [--fmnist-epochs 5] [--fmnist-batch 32]]

Prints one JSON line. Needs `torch` and `numpy` (pip install torch numpy --index-url
https://download.pytorch.org/whl/cpu, in a virtualenv).
"""
import argparse, gzip, json, struct, subprocess, sys, time
import numpy as np
import torch, torch.nn as nn

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--threads", type=int, default=torch.get_num_threads())
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--scale", type=float, default=1.0, help="multiplies every row's number of calls")
ap.add_argument("--only", default="", help="comma-separated row names or name prefixes")
ap.add_argument("--memory", action="store_true", help="also measure each row's peak memory")
ap.add_argument("--rss", action="store_true", help=argparse.SUPPRESS)  # child mode of --memory
ap.add_argument("--gemm", action="store_true", help="also time a 2048^3 f32 matmul (GFLOP/s)")
ap.add_argument("--fmnist", metavar="DIR", help="also train the MLP on Fashion-MNIST from DIR's IDX files")
ap.add_argument("--fmnist-epochs", type=int, default=5, help="epochs of --fmnist")
ap.add_argument("--fmnist-batch", type=int, default=32, help="batch size of --fmnist")
args = ap.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(0)


def time_row(fn, calls):
    """Warm-up, then `rounds` rounds of `calls` timed calls; median round, fastest, slowest (µs).
    With --rss: 3 warm-up calls and one timed call."""
    calls = max(1, round(calls * args.scale))
    rounds_n = max(args.rounds, 1)
    if args.rss:
        calls, rounds_n = 1, 1
    for _ in range(max(calls // 10, 3)):
        fn()
    rounds = []
    for _ in range(rounds_n):
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


def cifar_cnn():
    """The `cifar10_cnn` example's model."""
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4096, 128), nn.ReLU(), nn.Linear(128, 10))


def vgg():
    """3x3 convs 3-64-64, pool, 64-128-128, pool, 128-256, pool, Linear(4096, 10) on 3x32x32."""
    c = lambda i, o: [nn.Conv2d(i, o, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*c(3, 64), *c(64, 64), nn.MaxPool2d(2), *c(64, 128), *c(128, 128),
                         nn.MaxPool2d(2), *c(128, 256), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4096, 10))


class Block(nn.Module):
    """A basic block, perf_rows' `Block<C>` (stride 1, identity shortcut) or `Down<I, O>` (stride 2,
    1x1 convolution + batch norm shortcut); convolutions keep their biases, as typenet's."""

    def __init__(self, i, o, stride):
        super().__init__()
        self.f = nn.Sequential(nn.Conv2d(i, o, 3, stride, 1), nn.BatchNorm2d(o), nn.ReLU(),
                               nn.Conv2d(o, o, 3, 1, 1), nn.BatchNorm2d(o))
        self.r = nn.Sequential(nn.Conv2d(i, o, 1, stride), nn.BatchNorm2d(o)) if stride != 1 else None

    def forward(self, x):
        return torch.relu(self.f(x) + (x if self.r is None else self.r(x)))


def resnet20():
    return nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU(),
                         Block(16, 16, 1), Block(16, 16, 1), Block(16, 16, 1),
                         Block(16, 32, 2), Block(32, 32, 1), Block(32, 32, 1),
                         Block(32, 64, 2), Block(64, 64, 1), Block(64, 64, 1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


# The `language_id` example's recurrent model and transformer, as its PyTorch reference defines them.
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
from language_id_reference import LEN, VOCAB, Recurrent as GruNet, Transformer as AttentionNet  # noqa: E402


def step_fn(model, x, classes=10):
    y = torch.arange(x.shape[0]) % classes  # labels i % classes, as perf_rows
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()
    def f():
        opt.zero_grad(set_to_none=False)
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()
    return f


def infer(model, x, calls):
    with torch.no_grad():
        return time_row(lambda: model(x), calls)


img = lambda b: torch.randn(b, 3, 32, 32)
tokens = lambda b: torch.randint(0, VOCAB, (b, LEN))

# name -> a function timing it; the order and the numbers of calls are perf_rows'
ROWS = {
    "mlp_step_b64": lambda: time_row(step_fn(mlp(), torch.randn(64, 784)), 300),
    "mlp_step_b256": lambda: time_row(step_fn(mlp(), torch.randn(256, 784)), 150),
    "mlp_infer_b1": lambda: infer(mlp(), torch.randn(1, 784), 2000),
    "mlp_infer_b256": lambda: infer(mlp(), torch.randn(256, 784), 500),
    "lenet_step_b64": lambda: time_row(step_fn(cnn(), torch.randn(64, 1, 28, 28)), 60),
    "cifar_step_b64": lambda: time_row(step_fn(cifar_cnn(), img(64)), 20),
    "cifar_infer_b64": lambda: infer(cifar_cnn(), img(64), 40),
    "cifar_infer_b256": lambda: infer(cifar_cnn(), img(256), 12),
    "vgg_step_b32": lambda: time_row(step_fn(vgg(), img(32)), 6),
    "vgg_infer_b32": lambda: infer(vgg(), img(32), 12),
    "resnet20_step_b64": lambda: time_row(step_fn(resnet20(), img(64)), 6),
    "gru_step_b64": lambda: time_row(step_fn(GruNet(), tokens(64), 6), 60),
    "attention_step_b64": lambda: time_row(step_fn(AttentionNet(), tokens(64), 6), 60),
}
only = [o for o in args.only.split(",") if o]
names = [n for n in ROWS if not only or any(n.startswith(o) for o in only)]


def resident_mb():
    """(VmRSS, VmHWM) in MiB, from /proc/self/status (Linux)."""
    f = {}
    with open("/proc/self/status") as s:
        for line in s:
            k, _, v = line.partition(":")
            f[k] = v.strip()
    return int(f["VmRSS"].split()[0]) / 1024, int(f["VmHWM"].split()[0]) / 1024


if args.rss:
    # PyTorch sets up its kernels (oneDNN, the autograd engine's threads) on first use: a few
    # calls of tiny layers first, so the baseline holds them and the peak counts the row alone
    tiny = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(36, 6))
    step_fn(tiny, torch.randn(2, 3, 8, 8), 6)()
    step_fn(nn.Sequential(nn.Embedding(VOCAB, 8), nn.Flatten(), nn.Linear(8 * LEN, 6)), tokens(2), 6)()
    with torch.no_grad():
        tiny(torch.randn(2, 3, 8, 8))
    before, _ = resident_mb()
    for n in names:
        ROWS[n]()
    print(json.dumps({"rows": names, "peak_mb": round(resident_mb()[1] - before, 1)}))
    sys.exit(0)

rows = {n: ROWS[n]() for n in names}
if args.memory:
    for n in names:
        out = subprocess.run([sys.executable, __file__, "--rss", "--only", n, "--threads",
                              str(args.threads)], capture_output=True, text=True)
        if out.returncode == 0:
            rows[n]["peak_mb"] = json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"]
        else:
            print(f"--memory: row {n} failed: {out.stderr}", file=sys.stderr)
res = {"framework": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(),
       "rounds": max(args.rounds, 1), "rows": rows}

if args.gemm:
    # PyTorch's own f32 GEMM (its BLAS) on 2048x2048 matrices, timed as perf_rows times the gemm
    # crate: 2 warm-up calls, the median of 5
    a = torch.randn(2048, 2048); bm = torch.randn(2048, 2048)
    for _ in range(2):
        a @ bm
    ts = []
    for _ in range(5):
        t = time.perf_counter(); a @ bm; ts.append(time.perf_counter() - t)
    res["peak"] = {"gemm2048_gflops": round(2 * 2048**3 / float(np.median(ts)) / 1e9, 1)}


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4]); nd = magic & 0xff
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


if args.fmnist:
    # the same run as perf_rows --fmnist: the 784-128-10 MLP, PyTorch's default initialisation,
    # Adam lr 1e-3, cross-entropy, a fresh shuffle every epoch, the last smaller batch kept,
    # pixels / 255; the files read with numpy (no download); the time of the training loop
    d = args.fmnist
    t = time.perf_counter()
    xtr = torch.tensor(idx(f"{d}/train-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    ytr = torch.tensor(idx(f"{d}/train-labels-idx1-ubyte.gz"), dtype=torch.long)
    xte = torch.tensor(idx(f"{d}/t10k-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    yte = torch.tensor(idx(f"{d}/t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    load_s = time.perf_counter() - t
    torch.manual_seed(0)
    m = mlp(); opt = torch.optim.Adam(m.parameters(), lr=1e-3); lossf = nn.CrossEntropyLoss()
    b = args.fmnist_batch
    t = time.perf_counter()
    for ep in range(args.fmnist_epochs):
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), b):
            idxs = perm[i:i + b]
            opt.zero_grad(); loss = lossf(m(xtr[idxs]), ytr[idxs]); loss.backward(); opt.step()
    train_s = time.perf_counter() - t
    with torch.no_grad():
        acc = float((m(xte).argmax(1) == yte).float().mean())
    res["fmnist"] = {"epochs": args.fmnist_epochs, "batch": b, "train_s": round(train_s, 3),
                     "load_s": round(load_s, 3), "test_accuracy": acc}

print(json.dumps(res))
