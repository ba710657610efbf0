//! typenet models exported to ONNX and run by an independent runtime, tract (`tests/`): built
//! only by `cargo test -p interop-tests`, so the root's `cargo test` never compiles tract.
//!
//! The helpers the tests share: running an ONNX file in tract, and comparing outputs.

use std::path::{Path, PathBuf};
use tract_onnx::prelude::*;

/// A fresh path in the temporary directory for `name` (unique per process), or `name` in
/// `$TYPENET_ONNX_DIR` when that is set (the files are then kept, for `scripts/onnx_check.py`).
pub fn temp(name: &str) -> PathBuf {
    match keep_dir() {
        Some(dir) => {
            std::fs::create_dir_all(&dir).expect("TYPENET_ONNX_DIR can be created");
            dir.join(name)
        }
        None => std::env::temp_dir().join(format!("typenet-interop-{}-{name}", std::process::id())),
    }
}

/// The directory `$TYPENET_ONNX_DIR` names, if set.
pub fn keep_dir() -> Option<PathBuf> {
    std::env::var_os("TYPENET_ONNX_DIR").map(PathBuf::from)
}

/// When files are being kept, writes `input` (of shape `shape`) and typenet's `output` beside
/// the ONNX file `path`, as `NAME.io.json` (`{"shape": [..], "input": [..], "output": [..]}`),
/// for `scripts/onnx_check.py` to compare ONNX Runtime's outputs with.
pub fn keep_io(path: &Path, shape: &[usize], input: &[f32], output: &[f32]) {
    if keep_dir().is_none() {
        return;
    }
    let list = |v: &[f32]| {
        v.iter()
            .map(|x| format!("{x:?}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let dims = shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let json = format!(
        "{{\"shape\": [{dims}], \"input\": [{}], \"output\": [{}]}}\n",
        list(input),
        list(output)
    );
    std::fs::write(path.with_extension("io.json"), json).expect("the io file can be written");
}

/// Removes `path` unless files are being kept.
pub fn remove(path: &Path) {
    if keep_dir().is_none() {
        std::fs::remove_file(path).ok();
    }
}

/// Runs the ONNX file `path` in tract on `input` (row-major, of shape `shape`, batch first);
/// returns the first output's values and shape.
pub fn run_tract(path: &Path, input: Vec<f32>, shape: &[usize]) -> (Vec<f32>, Vec<usize>) {
    let model = tract_onnx::onnx()
        .model_for_path(path)
        .and_then(|m| m.with_input_fact(0, f32::fact(shape).into()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .unwrap_or_else(|e| panic!("tract cannot load {}: {e:?}", path.display()));
    let x = tract_ndarray::ArrayD::from_shape_vec(shape.to_vec(), input).expect("input shape");
    let out = model
        .run(tvec!(Tensor::from(x).into()))
        .unwrap_or_else(|e| panic!("tract cannot run {}: {e:?}", path.display()));
    let view = out[0].to_plain_array_view::<f32>().expect("f32 output");
    (view.iter().copied().collect(), view.shape().to_vec())
}

/// Asserts `got` equals `want` within `1e-5 · max(1, |want|)` per element.
pub fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * w.abs().max(1.0),
            "{what}: element {i}: tract {g}, typenet {w}"
        );
    }
}
