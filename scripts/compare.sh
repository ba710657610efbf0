#!/usr/bin/env bash
# The performance rows (the 784-128-10 MLP's train step and inference, the LeNet train step),
# typenet and PyTorch side by side in one run with the same thread count.
#
#   scripts/compare.sh [--threads N] [--scale X]
#
# Runs `benches/perf_rows.rs` (`cargo bench`, the release profile) and, when PyTorch is importable, `scripts/perf/torch_bench.py`
# right after it, then prints a table (stderr) and one JSON object (stdout):
#   {"typenet": {...}, "pytorch": {...}, "ratios": {"mlp_step_b64": 1.1, ...}}
# A ratio is typenet's median time over PyTorch's: above 1, PyTorch is faster.
#
# Python: $TYPENET_TORCH_PYTHON (e.g. a virtualenv's bin/python), else python3.
# Threads: --threads, else $TYPENET_THREADS, else every core (`nproc`).
# --scale multiplies the number of timed calls (0.1 for a quick look; default 1, about 20 s in all).
#
# On a machine other jobs load, PyTorch's OpenMP threads spin waiting for a descheduled peer and
# its multi-thread train steps slow down 10-100x (typenet's rayon threads yield instead);
# OMP_WAIT_POLICY=PASSIVE (passed through) or --threads 1 keeps its figures stable. The JSON
# records the load average at the start, so such runs can be told apart.
set -euo pipefail
cd "$(dirname "$0")/.."

threads="${TYPENET_THREADS:-$(nproc)}"
scale=1
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

python="${TYPENET_TORCH_PYTHON:-python3}"
load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "typenet: cargo bench --bench perf_rows -- --json --threads $threads --scale $scale" >&2
cargo bench --quiet --bench perf_rows -- --json --threads "$threads" --scale "$scale" \
  > "$tmp/typenet.json"

if ! "$python" -c 'import torch, numpy' 2>/dev/null; then
  cat >&2 <<EOF
PyTorch is not installed for '$python', so only typenet's figures follow. To compare, install it
into a virtualenv and point TYPENET_TORCH_PYTHON at it:
  python3 -m venv ~/.venvs/torch
  ~/.venvs/torch/bin/pip install torch numpy --index-url https://download.pytorch.org/whl/cpu
  TYPENET_TORCH_PYTHON=~/.venvs/torch/bin/python scripts/compare.sh
EOF
  cat "$tmp/typenet.json"
  exit 0
fi

echo "pytorch: $python scripts/perf/torch_bench.py --threads $threads --scale $scale" >&2
"$python" scripts/perf/torch_bench.py --threads "$threads" --scale "$scale" > "$tmp/torch.json"

"$python" - "$tmp/typenet.json" "$tmp/torch.json" "$load" <<'EOF'
import json, os, sys
ours, theirs = (json.load(open(p)) for p in sys.argv[1:3])
theirs["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY", "default")
ratios = {}
print(f"{'row':<16} {'typenet µs [spread]':>26} {'pytorch µs [spread]':>26} {'typenet/pytorch':>16}",
      file=sys.stderr)
for row, p in theirs["rows"].items():  # torch_bench.py's order
    t = ours["rows"].get(row)
    if t is None:
        continue
    ratios[row] = round(t["median_us"] / p["median_us"], 2)
    fmt = lambda r: f"{r['median_us']:.1f} [{r['min_us']:.1f}-{r['max_us']:.1f}]"
    print(f"{row:<16} {fmt(t):>26} {fmt(p):>26} {ratios[row]:>16.2f}", file=sys.stderr)
print(f"load average at the start: {sys.argv[3]}", file=sys.stderr)
print(json.dumps({"load_average": sys.argv[3], "typenet": ours, "pytorch": theirs, "ratios": ratios}))
EOF
