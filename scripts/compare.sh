#!/usr/bin/env bash
# The performance rows, typenet and PyTorch (and JAX, when importable) side by side in one run with
# the same thread count: the 784-128-10 MLP (train step b64/b256, inference b1/b256), LeNet (train
# step b64), the `cifar10_cnn` example's model (train step b64, inference b64/b256), a VGG-style
# stack (train step and inference b32), ResNet-20 (train step b64), and the `language_id`
# example's GRU and transformer (train steps b64). `benches/perf_rows.rs` lists the models.
#
#   scripts/compare.sh [--threads N] [--scale X] [--only ROWS] [--memory] [--no-peak]
#                      [--fmnist [--fmnist-dir DIR] [--fmnist-batch B]]
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
# The machine's f32 peak is measured at the same thread count (perf_rows --peak: an FMA-throughput
# loop, and the `gemm` crate on 2048x2048 matrices; PyTorch's own 2048x2048 matmul beside it), and
# the GEMM-bound rows (MLP b256, cifar, VGG) report the fraction of it each side reaches (FLOPs
# from the models' multiply-adds, a train step counted as 3 forward passes); --no-peak skips it.
# --fmnist adds the whole Fashion-MNIST run of the 784-128-10 MLP on both sides (5 epochs, batch
# --fmnist-batch, default 32, shuffled, Adam 1e-3, pixels scaled to [0, 1]; the IDX files of
# --fmnist-dir, default where the dataset-fashion-mnist package puts them): training seconds and
# test accuracy. `--fmnist --only fmnist` runs it alone (no row is named fmnist).
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
peak=(--peak)
gemm=(--gemm)
fmnist=()
fmnist_dir=/usr/share/datasets/fashion-mnist
fmnist_batch=32
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --memory) memory=(--memory); shift ;;
    --no-peak) peak=(); gemm=(); shift ;;
    --fmnist) fmnist=(yes); shift ;;
    --fmnist-dir) fmnist_dir="$2"; shift 2 ;;
    --fmnist-batch) fmnist_batch="$2"; shift 2 ;;
    -h|--help) sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
select=()
if [ -n "$only" ]; then
  select=(--only "$only")
fi

ours_fmnist=()
theirs_fmnist=()
if [ ${#fmnist[@]} -gt 0 ]; then
  ours_fmnist=(--fmnist "$fmnist_dir" --fmnist-batch "$fmnist_batch")
  theirs_fmnist=(--fmnist "$fmnist_dir" --fmnist-batch "$fmnist_batch")
fi

python="${TYPENET_TORCH_PYTHON:-python3}"
jax_python="${TYPENET_JAX_PYTHON:-$python}"
load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "typenet: cargo bench --bench perf_rows -- --json --threads $threads --scale $scale ${select[*]} ${memory[*]} ${peak[*]} ${ours_fmnist[*]}" >&2
cargo bench --quiet --bench perf_rows -- --json --threads "$threads" --scale "$scale" \
  "${select[@]}" "${memory[@]}" "${peak[@]}" "${ours_fmnist[@]}" > "$tmp/typenet.json"

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

echo "pytorch: $python scripts/perf/torch_bench.py --threads $threads --scale $scale ${select[*]} ${memory[*]} ${gemm[*]} ${theirs_fmnist[*]}" >&2
"$python" scripts/perf/torch_bench.py --threads "$threads" --scale "$scale" \
  "${select[@]}" "${memory[@]}" "${gemm[@]}" "${theirs_fmnist[@]}" > "$tmp/torch.json"

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
peak = ours.get("peak")
fractions = {}
if peak:
    print(f"f32 peak at {ours['threads']} thread(s): FMA loop {peak.get('fma_gflops')} GFLOP/s "
          f"({peak.get('fma_isa')}); 2048x2048 GEMM: gemm crate {peak['gemm2048_gflops']}, PyTorch "
          f"{theirs.get('peak', {}).get('gemm2048_gflops', '-')} GFLOP/s; peak = "
          f"{peak['peak_gflops']} GFLOP/s", file=sys.stderr)
    print(f"{'GEMM-bound row':<20} {'GFLOP/call':>10} {'typenet GFLOP/s':>16} {'of peak':>8} "
          f"{'pytorch GFLOP/s':>16} {'of peak':>8}", file=sys.stderr)
    for row, t in ours["rows"].items():
        if "gflop_per_call" not in t:
            continue
        p = theirs["rows"].get(row)
        pg = t["gflops"] * t["median_us"] / p["median_us"] if p else None  # the same FLOPs
        fractions[row] = {"typenet": t.get("peak_fraction"),
                          "pytorch": round(pg / peak["peak_gflops"], 3) if pg else None}
        pg_text = f"{pg:.1f}" if pg else "-"
        pf_text = f"{100 * fractions[row]['pytorch']:.1f}%" if pg else "-"
        print(f"{row:<20} {t['gflop_per_call']:>10} {t['gflops']:>16} "
              f"{100 * t.get('peak_fraction', 0):>7.1f}% {pg_text:>16} {pf_text:>8}", file=sys.stderr)
fm, fp = ours.get("fmnist"), theirs.get("fmnist")
if fm:
    line = (f"fashion-mnist {fm['epochs']} epochs, batch {fm['batch']}: typenet {fm['train_s']:.2f} s, "
            f"test accuracy {fm['test_accuracy']:.4f}")
    if fp:
        line += (f"; pytorch {fp['train_s']:.2f} s, test accuracy {fp['test_accuracy']:.4f}; "
                 f"typenet/pytorch {fm['train_s'] / fp['train_s']:.2f}")
        ratios["fmnist"] = round(fm["train_s"] / fp["train_s"], 2)
    print(line, file=sys.stderr)
print(f"load average at the start: {sys.argv[4]}; at the end: {sys.argv[5]}", file=sys.stderr)
out = {"load_average": sys.argv[4], "load_average_end": sys.argv[5], "typenet": ours,
       "pytorch": theirs, "ratios": ratios}
if fractions:
    out["peak_fractions"] = fractions
if jax_rows:
    out["jax"] = jax
    out["ratios_jax"] = ratios_jax
print(json.dumps(out))
EOF
