//! Any bytes given to `import_npz` as an `.npz` archive, for a model of two linear layers and
//! one with batch-norm scalars: an error or a value, never a panic, a hang or an allocation the
//! file does not back; a refused archive leaves the model as it was.
#![no_main]
use libfuzzer_sys::fuzz_target;
use typenet::checkpoint::{import_npz, import_npz_with, LoadOptions, Snapshot};
use typenet::prelude::*;

#[path = "common.rs"]
mod common;

/// The model of the seed corpus (tests/fixtures/npz holds archives of it).
type Small = (Linear<4, 3>, ReLU, Linear<3, 2>);
/// dfdx's scalars (momentum, epsilon) are `float64` arrays of shape `()`.
type Norm = (Linear<3, 2>, BatchNorm1D<2>);

fuzz_target!(|data: &[u8]| {
    let path = common::scratch("npz", data);
    let dev = Cpu::default();
    let mut small = dev.build_module::<Small, f32>();
    let before = Snapshot::of(&small).unwrap();
    if import_npz(&mut small, &path).is_err() {
        assert_eq!(Snapshot::of(&small).unwrap(), before, "a refused import changed the model");
    }
    let allow = LoadOptions {
        allow_non_finite: true,
        ..LoadOptions::default()
    };
    let _ = import_npz_with(&mut small, &path, &allow);
    let mut norm = dev.build_module::<Norm, f32>();
    let before = Snapshot::of(&norm).unwrap();
    if import_npz(&mut norm, &path).is_err() {
        assert_eq!(Snapshot::of(&norm).unwrap(), before, "a refused import changed the model");
    }
});
