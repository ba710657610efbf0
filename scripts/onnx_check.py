#!/usr/bin/env python3
"""Checks ONNX files written by typenet with the reference tools: onnx.checker (full check,
with shape inference) and, when it is installed, ONNX Runtime (loads each file and runs it on
random inputs of the declared shape, a dynamic batch as 3; or, where the interop tests kept
NAME.io.json beside NAME.onnx, on typenet's input, its outputs compared with typenet's within
1e-5).

    pip install onnx onnxruntime
    python3 scripts/onnx_check.py FILE.onnx [FILE.onnx ...]

The files of typenet's interop tests (one per exported model type) are kept with

    TYPENET_ONNX_DIR=/tmp/onnx cargo test -p interop-tests
    python3 scripts/onnx_check.py /tmp/onnx/*.onnx

Prints one line per file and exits 1 if any file fails.
"""

import json
import os
import sys

import numpy as np
import onnx

try:
    import onnxruntime as ort
except ImportError:  # the checker alone still runs
    ort = None


def check(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    note = "checker ok"
    if ort is not None:
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        io = recorded(path)
        feeds = {}
        for i in sess.get_inputs():
            if io is not None:
                feeds[i.name] = np.asarray(io["input"], np.float32).reshape(io["shape"])
                continue
            shape = [d if isinstance(d, int) else 3 for d in i.shape]
            feeds[i.name] = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        outs = sess.run(None, feeds)
        finite = all(np.isfinite(o).all() for o in outs)
        note += f", onnxruntime {ort.__version__} ran it: output {list(outs[0].shape)}"
        if not finite:
            raise ValueError("onnxruntime output is not finite")
        if io is not None:
            want = np.asarray(io["output"], np.float32)
            got = outs[0].reshape(-1)
            err = np.abs(got - want) / np.maximum(1.0, np.abs(want))
            note += f", max relative difference from typenet {err.max():.2e}"
            if err.max() > 1e-5:
                raise ValueError(f"outputs differ from typenet's by {err.max():.2e} (> 1e-5)")
    return note


def recorded(path):
    """The input and typenet's output kept beside the file (NAME.io.json), if any."""
    io = path[: -len(".onnx")] + ".io.json" if path.endswith(".onnx") else None
    if io is None or not os.path.exists(io):
        return None
    with open(io) as f:
        return json.load(f)


def main(paths):
    failed = 0
    for p in paths:
        try:
            print(f"{p}: {check(p)}")
        except Exception as e:  # report every file, not the first failure only
            failed += 1
            print(f"{p}: FAILED: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
