//! The body of every fuzz target, shared by the cargo-fuzz binaries (one `fuzz_target!` each)
//! and by the stable-Rust smoke test in `cargo test` (`tests/it/fuzz_smoke.rs`), so both run
//! exactly the same checks. Each body writes its input to a scratch file and hands it to the
//! loaders: any outcome but a panic is a pass, and a refused model file must leave the model as
//! it was.

use std::path::PathBuf;
use typenet::checkpoint::{
    import_npz, import_npz_with, load_model, load_model_with, read_info, LoadOptions, Snapshot,
};
use typenet::prelude::*;

/// The parsers read files: writes `data` to a scratch file named after `name`, this process
/// and this thread (so parallel tests never share one), and returns its path.
pub fn scratch(name: &str, data: &[u8]) -> PathBuf {
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    let file = format!("typenet-fuzz-{}-{thread}-{name}", std::process::id());
    let path = std::env::temp_dir().join(file);
    // a new file each time: truncating the old one makes ext4 flush it (milliseconds per input)
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, data).expect("the temp dir is writable");
    path
}

/// The model of the `npz` and `checkpoint` seed corpora (tests/fixtures/npz holds archives of
/// it).
type Small = (Linear<4, 3>, ReLU, Linear<3, 2>);
/// dfdx's scalars (momentum, epsilon) are `float64` arrays of shape `()`.
type Norm = (Linear<3, 2>, BatchNorm1D<2>);

/// Any bytes, raw or gzip, given to the IDX reader and the Fashion-MNIST split loader: an error
/// or a value, never a panic, a hang or an allocation the file does not back.
pub fn idx(data: &[u8]) {
    let path = scratch("idx", data);
    let _ = read_idx(&path);
    // the same bytes as both files of a split
    let _ = FashionMnist::load_split(&path, &path);
}

/// Any bytes given to the CIFAR-10 and CIFAR-100 batch readers.
pub fn cifar(data: &[u8]) {
    let path = scratch("cifar", data);
    let _ = Cifar10::load_file(&path);
    let _ = Cifar100::load_file(&path);
    let _ = Cifar100::load_file_coarse(&path);
}

/// Any bytes given to the CSV loader, as a 4-feature, 3-class table and as a regression table.
pub fn csv(data: &[u8]) {
    let path = scratch("csv", data);
    let _ = CsvDataset::<4, Classes<3>>::load(&path, "label");
    let _ = CsvDataset::<2, Values<1>>::load(&path, "y");
}

/// Any bytes given to `import_npz` as an `.npz` archive, for a model of two linear layers and
/// one with batch-norm scalars: an error or a value, never a panic, a hang or an allocation the
/// file does not back; a refused archive leaves the model as it was.
pub fn npz(data: &[u8]) {
    let path = scratch("npz", data);
    let dev = Cpu::default();
    let mut small = dev.build_module::<Small, f32>();
    let before = Snapshot::of(&small).unwrap();
    if import_npz(&mut small, &path).is_err() {
        assert_eq!(
            Snapshot::of(&small).unwrap(),
            before,
            "a refused import changed the model"
        );
    }
    let allow = LoadOptions {
        allow_non_finite: true,
        ..LoadOptions::default()
    };
    let before = Snapshot::of(&small).unwrap();
    if import_npz_with(&mut small, &path, &allow).is_err() {
        assert_eq!(
            Snapshot::of(&small).unwrap(),
            before,
            "a refused import changed the model"
        );
    }
    let mut norm = dev.build_module::<Norm, f32>();
    let before = Snapshot::of(&norm).unwrap();
    if import_npz(&mut norm, &path).is_err() {
        assert_eq!(
            Snapshot::of(&norm).unwrap(),
            before,
            "a refused import changed the model"
        );
    }
}

/// Any bytes given to the checkpoint readers as a safetensors model file (`read_info`,
/// `load_model` with and without non-finite values allowed, into `f32` and `f64` models): an
/// error or a value, never a panic; a refused file leaves the model as it was.
pub fn checkpoint(data: &[u8]) {
    let path = scratch("checkpoint", data);
    let _ = read_info(&path);
    let dev = Cpu::default();
    let mut small = dev.build_module::<Small, f32>();
    let before = Snapshot::of(&small).unwrap();
    if load_model(&mut small, &path).is_err() {
        assert_eq!(
            Snapshot::of(&small).unwrap(),
            before,
            "a refused load changed the model"
        );
    }
    let allow = LoadOptions {
        allow_non_finite: true,
        ..LoadOptions::default()
    };
    let before = Snapshot::of(&small).unwrap();
    if load_model_with(&mut small, &path, &allow).is_err() {
        assert_eq!(
            Snapshot::of(&small).unwrap(),
            before,
            "a refused load changed the model"
        );
    }
    let mut wide = dev.build_module::<Small, f64>();
    let before = Snapshot::of(&wide).unwrap();
    if load_model(&mut wide, &path).is_err() {
        assert_eq!(
            Snapshot::of(&wide).unwrap(),
            before,
            "a refused load changed the model"
        );
    }
}
