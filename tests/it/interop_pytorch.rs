//! PyTorch `state_dict`s (written by `scripts/interop_fixtures.py`, committed in
//! `tests/fixtures/interop/`) loaded into the matching typenet types reproduce the outputs
//! PyTorch recorded on fixed inputs; a `state_dict` of other shapes names every tensor that does
//! not fit; and typenet saves under exactly PyTorch's keys.

use serde_json::Value;
use typenet::interop::pytorch::{load_state_dict, save_state_dict};
use typenet::prelude::*;

type TorchMlp = (
    Linear<20, 32>,
    BatchNorm1D<32>,
    ReLU,
    Linear<32, 16>,
    ReLU,
    Linear<16, 3>,
);

type TorchLeNet = (
    (Conv2D<1, 6, 5, 1, 2>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<6, 16, 5>, ReLU, MaxPool2D<2, 2>),
    (
        Flatten2D,
        Linear<400, 120>,
        ReLU,
        Linear<120, 84>,
        ReLU,
        Linear<84, 10>,
    ),
);

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/interop")
        .join(name)
}

/// The record of model `name` in outputs.json: its inputs and PyTorch's outputs.
fn recorded(name: &str) -> (Vec<f32>, Vec<f32>) {
    let text = std::fs::read_to_string(fixture("outputs.json")).expect("outputs.json");
    let file: Value = serde_json::from_str(&text).expect("outputs.json is JSON");
    let rec = file["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no record {name}"));
    let floats = |v: &Value| -> Vec<f32> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|x| x.as_f64().expect("number") as f32)
            .collect()
    };
    (floats(&rec["input"]), floats(&rec["output"]))
}

fn assert_close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * w.abs().max(1.0),
            "output {i}: typenet {g}, PyTorch {w}"
        );
    }
}

#[test]
fn pytorch_mlp_with_batch_norm_reproduces_its_outputs() {
    let dev = Cpu::default();
    let mut model = dev.build_module::<TorchMlp, f32>();
    load_state_dict(&mut model, fixture("mlp.safetensors")).expect("loads");
    let (x, want) = recorded("mlp");
    let y = model.forward(dev.tensor_from_vec(x, (Const::<4>, Const::<20>)));
    assert_close(&y.as_vec(), &want);
}

#[test]
fn pytorch_lenet_reproduces_its_outputs() {
    let dev = Cpu::default();
    let mut model = dev.build_module::<TorchLeNet, f32>();
    load_state_dict(&mut model, fixture("lenet.safetensors")).expect("loads");
    let (x, want) = recorded("lenet");
    let y = model.forward(dev.tensor_from_vec(x, Rank4::<4, 1, 28, 28>::default()));
    assert_close(&y.as_vec(), &want);
}

#[test]
fn wrong_shapes_name_every_mismatched_tensor() {
    let dev = Cpu::default();
    let mut model = dev.build_module::<TorchLeNet, f32>();
    let before = model.0 .0.weight.as_vec();
    let err = load_state_dict(&mut model, fixture("lenet_wide.safetensors")).unwrap_err();
    let Error::CheckpointMismatch { mismatches, .. } = &err else {
        panic!("expected a mismatch, got {err}");
    };
    let names: Vec<&str> = mismatches.iter().map(|m| m.name.as_str()).collect();
    // PyTorch's LeNet with 8 first channels: its first conv (weight, bias) and the second
    // conv's weight (8 input channels) differ; nothing else.
    assert_eq!(names, ["0.0.weight", "0.0.bias", "1.0.weight"], "{err}");
    let text = err.to_string();
    assert!(text.contains("0.0.weight: expected F32 [6, 1, 5, 5], found F32 [8, 1, 5, 5]"));
    assert!(text.contains("1.0.weight: expected F32 [16, 6, 5, 5], found F32 [16, 8, 5, 5]"));
    assert_eq!(model.0 .0.weight.as_vec(), before, "nothing loaded");
}

#[test]
fn missing_and_extra_tensors_are_named() {
    let dev = Cpu::default();
    // The MLP's file into a model without its batch norm: the norm's tensors are extra, and the
    // layers after it sit at other indices.
    let mut model = dev.build_module::<(Linear<20, 32>, ReLU, Linear<32, 16>), f32>();
    let err = load_state_dict(&mut model, fixture("mlp.safetensors")).unwrap_err();
    let Error::CheckpointMismatch { mismatches, .. } = &err else {
        panic!("expected a mismatch, got {err}");
    };
    let missing: Vec<&str> = mismatches
        .iter()
        .filter(|m| m.found.is_none())
        .map(|m| m.name.as_str())
        .collect();
    let extra: Vec<&str> = mismatches
        .iter()
        .filter(|m| m.expected.is_none())
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(missing, ["2.weight", "2.bias"], "{err}");
    assert_eq!(
        extra,
        [
            "1.bias",
            "1.num_batches_tracked",
            "1.running_mean",
            "1.running_var",
            "1.weight",
            "3.bias",
            "3.weight",
            "5.bias",
            "5.weight"
        ],
        "{err}"
    );
}

/// The header of a safetensors file: (name, dtype, shape), sorted by name.
fn header(path: &std::path::Path) -> Vec<(String, String, Vec<usize>)> {
    let info = typenet::checkpoint::read_info(path).expect("a safetensors file");
    let mut out: Vec<_> = info
        .tensors
        .into_iter()
        .map(|t| (t.name, t.dtype, t.shape))
        .collect();
    out.sort();
    out
}

#[test]
fn saved_state_dict_has_pytorchs_keys_and_reloads() {
    let dev = Cpu::default();
    let mut model = dev.build_module::<TorchMlp, f32>();
    load_state_dict(&mut model, fixture("mlp.safetensors")).expect("loads");
    let path = std::env::temp_dir().join(format!(
        "typenet-it-torch-save-{}.safetensors",
        std::process::id()
    ));
    save_state_dict(&model, &path).expect("saves");
    // The same names, dtypes and shapes as PyTorch's own state_dict of this model.
    assert_eq!(header(&path), header(&fixture("mlp.safetensors")));
    let mut again = dev.build_module::<TorchMlp, f32>();
    load_state_dict(&mut again, &path).expect("reloads");
    std::fs::remove_file(&path).ok();
    let (x, want) = recorded("mlp");
    let y = again.forward(dev.tensor_from_vec(x, (Const::<4>, Const::<20>)));
    assert_close(&y.as_vec(), &want);
}
