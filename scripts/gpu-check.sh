#!/usr/bin/env bash
# Run typenet on an NVIDIA GPU and compare it with the CPU.
#
# Needs: an NVIDIA GPU with its driver, the CUDA toolkit (nvcc on PATH; dfdx compiles its kernels
# with it), and Fashion-MNIST (`apt-get install -y dataset-fashion-mnist`).
#
#   bash scripts/gpu-check.sh
#
# It (1) builds with `--features cuda`, (2) runs the CUDA tests (loss and gradients of the 784-128-10
# MLP and of a small CNN — typenet's conv/pool through dfdx ops on the GPU, its own kernels on the
# CPU — equal the CPU's within 1e-5 / 1e-4 relative; the trainer fits on the GPU), and (3) trains the
# 784-128-10 MLP for one epoch on each device from the same seed and checks that test accuracy differs
# by at most 0.01 and test loss by at most 0.02 (f32 sums run in another order on the GPU, so the
# two runs drift apart a little over 1,875 steps; they are not bit-identical).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v nvidia-smi >/dev/null && nvidia-smi -L || { echo "no NVIDIA driver (nvidia-smi) on this machine" >&2; exit 2; }
command -v nvcc >/dev/null || { echo "no CUDA toolkit (nvcc) on PATH" >&2; exit 2; }

cargo test --release --features cuda --test it cuda::
cargo build --release --features cuda --example fashion_mnist_mlp
run() { ./target/release/examples/fashion_mnist_mlp --epochs 1 --seed 0 --json --device "$1" | tail -n 1; }
cpu=$(run cpu)
gpu=$(run cuda)
python3 - "$cpu" "$gpu" <<'PY'
import json, sys
cpu, gpu = (json.loads(a) for a in sys.argv[1:3])
da = abs(cpu["test_accuracy"] - gpu["test_accuracy"])
dl = abs(cpu["test_loss"] - gpu["test_loss"])
print(f"cpu: acc {cpu['test_accuracy']:.4f} loss {cpu['test_loss']:.4f} in {cpu['train_seconds']:.1f}s")
print(f"gpu: acc {gpu['test_accuracy']:.4f} loss {gpu['test_loss']:.4f} in {gpu['train_seconds']:.1f}s")
ok = da <= 0.01 and dl <= 0.02
print("PASS" if ok else f"FAIL: accuracy differs by {da:.4f}, loss by {dl:.4f}")
sys.exit(0 if ok else 1)
PY
