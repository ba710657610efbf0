#!/usr/bin/env python3
"""Writes the .npz archives under tests/fixtures/npz/ with NumPy itself (not run by CI).

    pip install numpy && python3 scripts/npz_fixtures.py

Each archive holds the tensors of `(Linear<4, 3>, ReLU, Linear<3, 2>)` under typenet's names,
with values a test states by hand:
  0.weight = [[0.0, 0.1, 0.2, 0.3], [0.4, 0.5, 0.6, 0.7], [0.8, 0.9, 1.0, 1.1]]  (k / 10)
  0.bias   = [1, 2, 3]
  2.weight = [[0, 1, 2], [3, 4, 5]]
  2.bias   = [-1, 0.5]
savez_compressed.npz: np.savez_compressed (deflate, zip64 local headers), 2.weight stored in
Fortran (column-major) order. savez.npz: np.savez (stored), 0.bias big-endian.
"""
import pathlib

import numpy as np

out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "npz"
out.mkdir(parents=True, exist_ok=True)

w0 = (np.arange(12, dtype=np.float32) / np.float32(10)).reshape(3, 4)
b0 = np.array([1, 2, 3], dtype=np.float32)
w2 = np.arange(6, dtype=np.float32).reshape(2, 3)
b2 = np.array([-1, 0.5], dtype=np.float32)

np.savez_compressed(
    out / "savez_compressed.npz",
    **{"0.weight": w0, "0.bias": b0, "2.weight": np.asfortranarray(w2), "2.bias": b2},
)
np.savez(
    out / "savez.npz",
    **{"0.weight": w0, "0.bias": b0.astype(">f4"), "2.weight": w2, "2.bias": b2},
)
# what the tests check against, read back by NumPy
for name in ["savez_compressed.npz", "savez.npz"]:
    with np.load(out / name) as f:
        assert np.array_equal(f["0.weight"], w0) and np.array_equal(f["2.weight"], w2)
        assert f["2.weight"].flags.f_contiguous == (name == "savez_compressed.npz")
print("wrote", *sorted(p.name for p in out.glob("*.npz")))
