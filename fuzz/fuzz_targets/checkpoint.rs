//! Any bytes given to the checkpoint readers as a safetensors model file (`read_info`,
//! `load_model` with and without non-finite values allowed): an error or a value, never a
//! panic; a refused file leaves the model as it was.
#![no_main]
use libfuzzer_sys::fuzz_target;
use typenet::checkpoint::{load_model, load_model_with, read_info, LoadOptions, Snapshot};
use typenet::prelude::*;

#[path = "common.rs"]
mod common;

/// The model of the seed corpus.
type Small = (Linear<4, 3>, ReLU, Linear<3, 2>);

fuzz_target!(|data: &[u8]| {
    let path = common::scratch("checkpoint", data);
    let _ = read_info(&path);
    let dev = Cpu::default();
    let mut small = dev.build_module::<Small, f32>();
    let before = Snapshot::of(&small).unwrap();
    if load_model(&mut small, &path).is_err() {
        assert_eq!(Snapshot::of(&small).unwrap(), before, "a refused load changed the model");
    }
    let allow = LoadOptions {
        allow_non_finite: true,
        ..LoadOptions::default()
    };
    let _ = load_model_with(&mut small, &path, &allow);
    let mut f64_model = dev.build_module::<Small, f64>();
    let _ = load_model(&mut f64_model, &path);
});
