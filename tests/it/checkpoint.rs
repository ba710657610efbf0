//! Model files: metadata, checked loads (every mismatch listed, never a panic), bad files, npz.

use typenet::checkpoint::{export_npz, import_npz, load_model, read_info, save_model};
use typenet::prelude::*;

fn tmp(name: &str) -> std::path::PathBuf {
    crate::support::tmp_dir("ckpt").join(name)
}

type Small = (Linear<4, 3>, ReLU, Linear<3, 2>);

#[test]
fn metadata_records_type_params_version_and_shapes() {
    let dev = Cpu::seed_from_u64(0);
    let model = dev.build_module::<Small, f32>();
    let path = tmp("meta.safetensors");
    save_model(&model, &path).unwrap();
    let info = read_info(&path).unwrap();
    // 4·3 + 3 + 3·2 + 2 = 23 trainable numbers
    assert_eq!(info.metadata["typenet.params"], "23");
    assert_eq!(info.metadata["typenet.version"], env!("CARGO_PKG_VERSION"));
    assert!(info.metadata["typenet.model"].contains("Linear<4, 3"));
    assert!(info.metadata["typenet.shapes"].contains("\"0.weight\":[3,4]"));
    let names: Vec<&str> = info.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["0.bias", "0.weight", "2.bias", "2.weight"]);
}

#[test]
fn wrong_model_lists_every_mismatch_and_leaves_the_model_alone() {
    let dev = Cpu::seed_from_u64(0);
    let path = tmp("small.safetensors");
    save_model(&dev.build_module::<Small, f32>(), &path).unwrap();
    let mut other =
        dev.build_module::<(Linear<4, 5>, ReLU, Linear<5, 2>, ReLU, Linear<2, 2>), f32>();
    let before = other.0.weight.as_vec();
    let err = load_model(&mut other, &path).unwrap_err();
    let msg = err.to_string();
    match &err {
        // 0.weight, 0.bias, 2.weight differ; 4.* are missing; 2.bias ([2]) fits
        Error::CheckpointMismatch { mismatches, .. } => assert_eq!(mismatches.len(), 5, "{msg}"),
        e => panic!("{e}"),
    }
    for line in [
        "0.weight: expected F32 [5, 4], found F32 [3, 4]",
        "0.bias: expected F32 [5], found F32 [3]",
        "2.weight: expected F32 [2, 5], found F32 [2, 3]",
        "4.weight: expected F32 [2, 2], found nothing",
        "4.bias: expected F32 [2], found nothing",
        "small.safetensors",
    ] {
        assert!(msg.contains(line), "missing `{line}` in:\n{msg}");
    }
    assert_eq!(other.0.weight.as_vec(), before);
    // a file with a tensor the model lacks is refused as well
    let mut fewer = dev.build_module::<Linear<4, 3>, f32>();
    let msg = load_model(&mut fewer, &path).unwrap_err().to_string();
    assert!(msg.contains("expected nothing, found F32 [2, 3]"), "{msg}");
}

#[test]
fn truncated_and_garbage_files_are_errors_naming_the_file() {
    let dev = Cpu::seed_from_u64(0);
    let model = dev.build_module::<Small, f32>();
    let path = tmp("whole.safetensors");
    save_model(&model, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let cut = tmp("cut.safetensors");
    let garbage = tmp("garbage.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    std::fs::write(&garbage, b"certainly not a safetensors file").unwrap();
    let mut m = dev.build_module::<Small, f32>();
    for p in [&cut, &garbage, &tmp("absent.safetensors")] {
        let msg = load_model(&mut m, p).unwrap_err().to_string();
        assert!(msg.contains(&*p.to_string_lossy()), "{msg}");
    }
    assert!(matches!(
        load_model(&mut m, &cut),
        Err(Error::Checkpoint { .. })
    ));
}

#[test]
fn dfdx_can_read_typenet_files() {
    use dfdx::nn::LoadFromSafetensors;
    let dev = Cpu::seed_from_u64(0);
    let model = dev.build_module::<Small, f32>();
    let path = tmp("dfdx.safetensors");
    save_model(&model, &path).unwrap();
    let mut back = dev.build_module::<Small, f32>();
    back.load_safetensors(&path).unwrap();
    assert_eq!(back.2.weight.as_vec(), model.2.weight.as_vec());
}

#[test]
fn npz_round_trip() {
    let dev = Cpu::seed_from_u64(0);
    let model = dev.build_module::<Small, f32>();
    let path = tmp("model.npz");
    export_npz(&model, &path).unwrap();
    let mut back = dev.build_module::<Small, f32>();
    assert_ne!(back.0.weight.as_vec(), model.0.weight.as_vec());
    import_npz(&mut back, &path).unwrap();
    assert_eq!(back.0.weight.as_vec(), model.0.weight.as_vec());
    assert_eq!(back.2.bias.as_vec(), model.2.bias.as_vec());
    // a zip archive of .npy files, one per tensor
    assert_eq!(&std::fs::read(&path).unwrap()[..2], b"PK");
}

/// The tensors of the archives `scripts/npz_fixtures.py` wrote with NumPy, as its docstring
/// states them.
fn assert_fixture_values(m: &Built<Small>) {
    let w0: Vec<f32> = (0..12).map(|k| k as f32 / 10.0).collect();
    assert_eq!(m.0.weight.as_vec(), w0);
    assert_eq!(m.0.bias.as_vec(), [1.0, 2.0, 3.0]);
    assert_eq!(m.2.weight.as_vec(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(m.2.bias.as_vec(), [-1.0, 0.5]);
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/npz")
        .join(name)
}

#[test]
fn npz_written_by_numpy_is_read_compressed_fortran_order_and_big_endian() {
    let dev = Cpu::seed_from_u64(0);
    // np.savez_compressed: deflate members with zip64 local headers; 2.weight column-major
    let mut m = dev.build_module::<Small, f32>();
    import_npz(&mut m, fixture("savez_compressed.npz")).unwrap();
    assert_fixture_values(&m);
    // np.savez: stored members; 0.bias big-endian
    let mut m = dev.build_module::<Small, f32>();
    import_npz(&mut m, fixture("savez.npz")).unwrap();
    assert_fixture_values(&m);
}

/// The model's tensors, to compare before and after a refused import.
fn all(m: &Built<Small>) -> Vec<Vec<f32>> {
    vec![
        m.0.weight.as_vec(),
        m.0.bias.as_vec(),
        m.2.weight.as_vec(),
        m.2.bias.as_vec(),
    ]
}

#[test]
fn malformed_npz_is_a_named_error_and_leaves_the_model_unchanged() {
    let dev = Cpu::seed_from_u64(0);
    let mut m = dev.build_module::<Small, f32>();
    let before = all(&m);
    let dir = crate::support::tmp_dir("npz-bad");
    let good = std::fs::read(fixture("savez_compressed.npz")).unwrap();
    let stored = std::fs::read(fixture("savez.npz")).unwrap();
    let mut import = |name: &str, bytes: &[u8]| -> Error {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        let err = import_npz(&mut m, &p).unwrap_err();
        assert!(err.to_string().contains(&*p.to_string_lossy()), "{err}");
        err
    };
    // every truncation of a compressed and of a stored archive
    for cut in (0..good.len()).step_by(7) {
        import("cut.npz", &good[..cut]);
    }
    for cut in (0..stored.len()).step_by(11) {
        import("cut-stored.npz", &stored[..cut]);
    }
    // one flipped byte anywhere in the stored archive: refused (checksums, headers, offsets),
    // or, in a field nothing reads (timestamps, attributes), the same values
    let mut flips = 0;
    for at in 0..stored.len() {
        let mut b = stored.clone();
        b[at] ^= 0x55;
        let p = dir.join("flip.npz");
        std::fs::write(&p, &b).unwrap();
        let mut fresh = dev.build_module::<Small, f32>();
        let earlier = all(&fresh);
        match import_npz(&mut fresh, &p) {
            Ok(()) => assert_fixture_values(&fresh),
            Err(_) => {
                flips += 1;
                assert_eq!(all(&fresh), earlier, "flip at {at}");
            }
        }
    }
    assert!(
        flips > stored.len() / 2,
        "{flips} of {} flips refused",
        stored.len()
    );
    // a flipped data byte of a stored member: its CRC-32 names it
    let data_at = stored.windows(6).position(|w| w == b"\x93NUMPY").unwrap() + 128 + 4;
    let mut b = stored.clone();
    b[data_at] ^= 1;
    match import("crc.npz", &b) {
        Error::Npz { member, reason, .. } => {
            assert_eq!(member, "0.weight.npy");
            assert!(reason.contains("checksum"), "{reason}");
        }
        e => panic!("{e}"),
    }
    // not a zip archive at all
    assert!(matches!(
        import("text.npz", b"not an archive"),
        Error::Npz { .. }
    ));
    assert_eq!(all(&m), before);
}

#[test]
fn npz_of_another_model_or_dtype_lists_every_mismatch() {
    let dev = Cpu::seed_from_u64(0);
    let dir = crate::support::tmp_dir("npz-mismatch");
    let p = dir.join("wide.npz");
    export_npz(
        &dev.build_module::<(Linear<4, 5>, ReLU, Linear<5, 2>), f32>(),
        &p,
    )
    .unwrap();
    let mut m = dev.build_module::<Small, f32>();
    let before = all(&m);
    let err = import_npz(&mut m, &p).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, Error::CheckpointMismatch { ref mismatches, .. } if mismatches.len() == 3),
        "{msg}"
    );
    for line in [
        "0.weight: expected F32 [3, 4], found F32 [5, 4]",
        "0.bias: expected F32 [3], found F32 [5]",
        "2.weight: expected F32 [2, 3], found F32 [2, 5]",
    ] {
        assert!(msg.contains(line), "missing `{line}` in:\n{msg}");
    }
    // float64 arrays for an f32 model: named, not converted
    let p64 = dir.join("f32.npz");
    export_npz(&dev.build_module::<Small, f32>(), &p64).unwrap();
    let mut f64_model = dev.build_module::<Small, f64>();
    let msg = import_npz(&mut f64_model, &p64).unwrap_err().to_string();
    assert!(
        msg.contains("0.bias: expected F64 [3], found F32 [3]"),
        "{msg}"
    );
    assert_eq!(all(&m), before);
}

#[test]
fn non_finite_checkpoints_are_refused_unless_asked() {
    use typenet::checkpoint::{import_npz_with, load_model_with, LoadOptions};
    let dev = Cpu::seed_from_u64(0);
    let mut bad = dev.build_module::<Small, f32>();
    bad.2.weight = dev.tensor([[1.0, 2.0, f32::INFINITY], [f32::NAN, 0.0, f32::NAN]]);
    let st = tmp("nan.safetensors");
    let npz = tmp("nan.npz");
    save_model(&bad, &st).unwrap();
    export_npz(&bad, &npz).unwrap();
    let allow = LoadOptions {
        allow_non_finite: true,
        ..LoadOptions::default()
    };
    for (path, safetensors) in [(&st, true), (&npz, false)] {
        let mut m = dev.build_module::<Small, f32>();
        let before = all(&m);
        let err = if safetensors {
            load_model(&mut m, path)
        } else {
            import_npz(&mut m, path)
        }
        .unwrap_err();
        let msg = err.to_string();
        match err {
            Error::NonFiniteTensor {
                tensor,
                index,
                value,
                count,
                path: p,
            } => {
                assert_eq!((tensor.as_str(), index, count), ("2.weight", 2, 3));
                assert_eq!(value, f64::INFINITY);
                assert_eq!(&p, path);
            }
            e => panic!("{e}"),
        }
        assert!(
            msg.contains("2.weight") && msg.contains(&*path.to_string_lossy()),
            "{msg}"
        );
        assert_eq!(all(&m), before);
        // the explicit opt-in loads it
        if safetensors {
            load_model_with(&mut m, path, &allow).unwrap();
        } else {
            import_npz_with(&mut m, path, &allow).unwrap();
        }
        let w = m.2.weight.as_vec();
        assert!(w[2].is_infinite() && w[3].is_nan() && w[0] == 1.0);
    }
}

#[test]
fn model_checkpoint_keeps_the_last_files_asked_for() {
    use crate::support::{data, Net};
    let dir = crate::support::tmp_dir("keep-last");
    let dev = Cpu::seed_from_u64(0);
    let mut t = Trainer::compile(
        &dev,
        dev.build_module::<Net, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &[],
    )
    .unwrap();
    let mut ckpt = ModelCheckpoint::every_epoch(dir.join("m-{epoch}.safetensors")).keep_last(2);
    let cfg = FitConfig {
        epochs: 4,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    t.fitting(&data()).callback(&mut ckpt).run(&cfg).unwrap();
    let kept = [dir.join("m-3.safetensors"), dir.join("m-4.safetensors")];
    assert_eq!(ckpt.saved, kept);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files, kept);
    // 0 would remove the file just written
    let mut none = ModelCheckpoint::every_epoch(dir.join("x.safetensors")).keep_last(0);
    let err = t
        .fitting(&data())
        .callback(&mut none)
        .run(&cfg)
        .unwrap_err();
    assert!(err.to_string().contains("keep_last"), "{err}");
}

#[test]
fn a_file_from_another_architecture_is_refused_even_when_every_tensor_fits() {
    use typenet::checkpoint::{load_model_with, LoadOptions};
    let dev = Cpu::seed_from_u64(3);
    let saved = dev.build_module::<Small, f32>();
    let path = tmp("relu.safetensors");
    save_model(&saved, &path).unwrap();
    // the same tensors (names, shapes) behind a different activation
    let mut swapped = dev.build_module::<(Linear<4, 3>, Tanh, Linear<3, 2>), f32>();
    let before = swapped.0.weight.as_vec();
    let err = load_model(&mut swapped, &path).unwrap_err();
    let msg = err.to_string();
    match &err {
        Error::ArchitectureMismatch {
            path: p,
            saved,
            expected,
        } => {
            assert_eq!(p, &path);
            assert!(saved.contains("ReLU") && !saved.contains("Tanh"), "{saved}");
            assert!(
                expected.contains("Tanh") && !expected.contains("ReLU"),
                "{expected}"
            );
        }
        e => panic!("{e}"),
    }
    assert!(msg.contains("allow_architecture_change"), "{msg}");
    assert_eq!(
        swapped.0.weight.as_vec(),
        before,
        "a refused load changed the model"
    );
    // a deliberate transfer loads the saved values
    let transfer = LoadOptions {
        allow_architecture_change: true,
        ..LoadOptions::default()
    };
    load_model_with(&mut swapped, &path, &transfer).unwrap();
    assert_eq!(swapped.0.weight.as_vec(), saved.0.weight.as_vec());
    assert_eq!(swapped.2.bias.as_vec(), saved.2.bias.as_vec());
    // the same architecture in f64 records the same fingerprint
    let a32 = read_info(&path).unwrap().metadata["typenet.architecture"].clone();
    let path64 = tmp("relu64.safetensors");
    save_model(&dev.build_module::<Small, f64>(), &path64).unwrap();
    assert_eq!(
        read_info(&path64).unwrap().metadata["typenet.architecture"],
        a32
    );
}

#[test]
fn a_file_without_a_recorded_architecture_loads_by_its_tensors() {
    let dev = Cpu::seed_from_u64(4);
    let saved = dev.build_module::<Small, f32>();
    let path = tmp("dfdx-written.safetensors");
    // dfdx's own writer records no typenet metadata
    saved.save_safetensors(&path).unwrap();
    let mut other = dev.build_module::<(Linear<4, 3>, Tanh, Linear<3, 2>), f32>();
    load_model(&mut other, &path).unwrap();
    assert_eq!(other.0.weight.as_vec(), saved.0.weight.as_vec());
}

#[test]
fn part_of_a_saved_model_loads_by_the_prefix_of_its_names() {
    use typenet::checkpoint::{export_npz, import_npz_with, load_model_with, LoadOptions};
    type Body = (Linear<4, 3>, ReLU);
    let dev = Cpu::seed_from_u64(5);
    let whole = dev.build_module::<(Body, Linear<3, 2>), f32>();
    let st = tmp("whole.safetensors");
    let npz = tmp("whole.npz");
    save_model(&whole, &st).unwrap();
    export_npz(&whole, &npz).unwrap();
    let body_only = LoadOptions {
        prefix: "0.".into(),
        ..LoadOptions::default()
    };
    for (path, safetensors) in [(&st, true), (&npz, false)] {
        let mut body = dev.build_module::<Body, f32>();
        if safetensors {
            load_model_with(&mut body, path, &body_only).unwrap();
        } else {
            import_npz_with(&mut body, path, &body_only).unwrap();
        }
        assert_eq!(body.0.weight.as_vec(), whole.0 .0.weight.as_vec());
        assert_eq!(body.0.bias.as_vec(), whole.0 .0.bias.as_vec());
        // the head under "1." is a Linear<3, 2>: a Linear<3, 5> does not fit, and the error says
        // which tensors and how
        let mut head = dev.build_module::<Linear<3, 5>, f32>();
        let before = head.weight.as_vec();
        let head_only = LoadOptions {
            prefix: "1.".into(),
            ..LoadOptions::default()
        };
        let err = if safetensors {
            load_model_with(&mut head, path, &head_only)
        } else {
            import_npz_with(&mut head, path, &head_only)
        }
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("weight: expected F32 [5, 3], found F32 [2, 3]"),
            "{msg}"
        );
        assert!(
            msg.contains("bias: expected F32 [5], found F32 [2]"),
            "{msg}"
        );
        assert_eq!(head.weight.as_vec(), before);
    }
    // without the prefix the body does not fit the whole file
    let mut body = dev.build_module::<Body, f32>();
    assert!(matches!(
        load_model(&mut body, &st),
        Err(Error::CheckpointMismatch { .. })
    ));
}
