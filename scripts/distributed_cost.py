#!/usr/bin/env python3
"""Projects data-parallel step time and efficiency from the ring all-reduce model.

    T_ring(P, N)   = 2(N-1)·α + 2·(N-1)/N · 4P / B          (what an all-reduce in a fixed ring costs)
    T_gather(P, N) = (N-1)·α + (N-1) · 4P / B + (N-1)·P/γ   (fit's ordered exchange: all-gather, then sum)
    efficiency     = t_step / (t_step + T)                    (no overlap of exchange and backward)

P: parameters (f32), N: ranks, α: per-message latency, B: bandwidth in bytes/s, γ: additions/s.
Usage: scripts/distributed_cost.py MLP_STEP_MS CNN_STEP_MS [GAMMA_PER_S]
(the step times measured by `examples/allreduce_cost --steps`). Prints a Markdown table.
"""
import sys

MODELS = {"784-128-10 MLP": 101_770, "CIFAR CNN": 545_098}
NETWORKS = {"10 Gb/s": (10e9 / 8, 30e-6), "100 Gb/s": (100e9 / 8, 5e-6)}


def ring(p, n, bw, alpha):
    return 2 * (n - 1) * alpha + 2 * (n - 1) / n * 4 * p / bw


def gather(p, n, bw, alpha, gamma):
    return (n - 1) * alpha + (n - 1) * 4 * p / bw + (n - 1) * p / gamma


def main():
    steps = {"784-128-10 MLP": float(sys.argv[1]) / 1e3, "CIFAR CNN": float(sys.argv[2]) / 1e3}
    gamma = float(sys.argv[3]) if len(sys.argv) > 3 else 1e9
    print("| model | network | ranks | step compute ms | ring ms | ring eff. | gather ms | gather eff. |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for model, p in MODELS.items():
        t = steps[model]
        for net, (bw, alpha) in NETWORKS.items():
            for n in (8, 64, 512):
                r, g = ring(p, n, bw, alpha), gather(p, n, bw, alpha, gamma)
                print(
                    f"| {model} | {net} | {n} | {t * 1e3:.2f} | {r * 1e3:.2f} | {t / (t + r):.0%} "
                    f"| {g * 1e3:.1f} | {t / (t + g):.0%} |"
                )


if __name__ == "__main__":
    main()
