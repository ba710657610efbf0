#!/usr/bin/env python3
"""Checks ONNX files written by typenet with the reference tools: onnx.checker (full check,
with shape inference) and, when it is installed, ONNX Runtime (loads each file and runs it on
random inputs of the declared shape, a dynamic batch as 3).

    pip install onnx onnxruntime
    python3 scripts/onnx_check.py FILE.onnx [FILE.onnx ...]

The files of typenet's interop tests (one per exported model type) are kept with

    TYPENET_ONNX_DIR=/tmp/onnx cargo test -p interop-tests
    python3 scripts/onnx_check.py /tmp/onnx/*.onnx

Prints one line per file and exits 1 if any file fails.
"""

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
        feeds = {}
        for i in sess.get_inputs():
            shape = [d if isinstance(d, int) else 3 for d in i.shape]
            feeds[i.name] = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        outs = sess.run(None, feeds)
        finite = all(np.isfinite(o).all() for o in outs)
        note += f", onnxruntime {ort.__version__} ran it: output {list(outs[0].shape)}"
        if not finite:
            raise ValueError("onnxruntime output is not finite")
    return note


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
