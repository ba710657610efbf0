#!/usr/bin/env bash
# The performance rows, typenet and PyTorch (and JAX, when importable) side by side in one run with
# the same thread count: the 784-128-10 MLP (train step b64/b256, inference b1/b256), LeNet (train
# step b64), the `cifar10_cnn` example's model (train step b64, inference b64/b256), a VGG-style
# stack (train step and inference b32), ResNet-20 (train step b64), and the `language_id`
# example's GRU and transformer (train steps b64). `benches/perf_rows.rs` lists the models.
#
#   scripts/compare.sh [--threads N] [--scale X] [--only ROWS] [--memory]
#
# Runs `benches/perf_rows.rs` (`cargo bench`, the release profile), then, when PyTorch is
# importable, `scripts/perf/torch_bench.py`, then, when JAX is importable and
# `scripts/perf/jax_bench.py` exists, that script (otherwise the JAX column is skipped with a
# message). Prints a table (stderr) and one JSON object (stdout):
#   {"typenet": {...}, "pytorch": {...}, "ratios": {"mlp_step_b64": 1.1, ...}, ...}
# A ratio is typenet's median time over PyTorch's: above 1, PyTorch is faster (`ratios_jax`:
# over JAX's).
#
# Python: $TYPENET_TORCH_PYTHON (e.g. a virtualenv's bin/python), else python3; for JAX,
# $TYPENET_JAX_PYTHON, else the same.
# Threads: --threads, else $TYPENET_THREADS, else every core (`nproc`).
# --scale multiplies the number of timed calls (0.1 for a quick look; default 1: at one thread
# on a quiet 2-core machine about a minute per side).
# --only picks rows by comma-separated names or name prefixes (`--only vgg,resnet20`).
# --memory adds each row's peak resident memory (MiB) on both sides: each row runs again alone in
# a child process; perf_rows' header says what is counted.
#
# On a machine other jobs load, PyTorch's OpenMP threads spin waiting for a descheduled peer and
# its multi-thread train steps slow down 10-100x (typenet's rayon threads yield instead);
# OMP_WAIT_POLICY=PASSIVE (passed through) or --threads 1 keeps its figures stable. The JSON
# records the load average at the start and the end, so such runs can be told apart.
set -euo pipefail
cd "$(dirname "$0")/.."

threads="${TYPENET_THREADS:-$(nproc)}"
scale=1
only=""
memory=()
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --memory) memory=(--memory); shift ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
select=()
if [ -n "$only" ]; then
  select=(--only "$only")
fi

python="${TYPENET_TORCH_PYTHON:-python3}"
jax_python="${TYPENET_JAX_PYTHON:-$python}"
load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "typenet: cargo bench --bench perf_rows -- --json --threads $threads --scale $scale ${select[*]} ${memory[*]}" >&2
cargo bench --quiet --bench perf_rows -- --json --threads "$threads" --scale "$scale" \
  "${select[@]}" "${memory[@]}" > "$tmp/typenet.json"

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

echo "pytorch: $python scripts/perf/torch_bench.py --threads $threads --scale $scale ${select[*]} ${memory[*]}" >&2
"$python" scripts/perf/torch_bench.py --threads "$threads" --scale "$scale" \
  "${select[@]}" "${memory[@]}" > "$tmp/torch.json"

echo '{}' > "$tmp/jax.json"
if [ ! -f scripts/perf/jax_bench.py ]; then
  echo "jax: skipped (no scripts/perf/jax_bench.py in this checkout)" >&2
elif ! "$jax_python" -c 'import jax, optax' 2>/dev/null; then
  echo "jax: skipped (jax and optax are not importable for '$jax_python'; set TYPENET_JAX_PYTHON)" >&2
else
  echo "jax: $jax_python scripts/perf/jax_bench.py --threads $threads --scale $scale ${select[*]}" >&2
  "$jax_python" scripts/perf/jax_bench.py --threads "$threads" --scale "$scale" "${select[@]}" \
    > "$tmp/jax.json" || { echo "jax: failed; its column is skipped" >&2; echo '{}' > "$tmp/jax.json"; }
fi

end_load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
"$python" - "$tmp/typenet.json" "$tmp/torch.json" "$tmp/jax.json" "$load" "$end_load" <<'EOF'
import json, os, sys
ours, theirs, jax = (json.load(open(p)) for p in sys.argv[1:4])
theirs["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY", "default")
jax_rows = jax.get("rows", {})
ratios, ratios_jax = {}, {}
fmt = lambda r: f"{r['median_us']:.1f} [{r['min_us']:.1f}-{r['max_us']:.1f}]" if r else "-"
head = f"{'row':<20} {'typenet µs [spread]':>30} {'pytorch µs [spread]':>30} {'typenet/pytorch':>16}"
if jax_rows:
    head += f" {'jax µs':>12} {'typenet/jax':>12}"
memory = any("peak_mb" in r for r in ours["rows"].values())
if memory:
    head += f" {'peak MiB typenet/pytorch':>26}"
print(head, file=sys.stderr)
for row, p in theirs["rows"].items():  # torch_bench.py's order
    t = ours["rows"].get(row)
    if t is None:
        continue
    ratios[row] = round(t["median_us"] / p["median_us"], 2)
    line = f"{row:<20} {fmt(t):>30} {fmt(p):>30} {ratios[row]:>16.2f}"
    if jax_rows:
        j = jax_rows.get(row)
        if j:
            ratios_jax[row] = round(t["median_us"] / j["median_us"], 2)
        line += f" {j['median_us'] if j else '-':>12} {ratios_jax.get(row, '-'):>12}"
    if memory:
        line += f" {str(t.get('peak_mb', '-')) + ' / ' + str(p.get('peak_mb', '-')):>26}"
    print(line, file=sys.stderr)
print(f"load average at the start: {sys.argv[4]}; at the end: {sys.argv[5]}", file=sys.stderr)
out = {"load_average": sys.argv[4], "load_average_end": sys.argv[5], "typenet": ours,
       "pytorch": theirs, "ratios": ratios}
if jax_rows:
    out["jax"] = jax
    out["ratios_jax"] = ratios_jax
print(json.dumps(out))
EOF
