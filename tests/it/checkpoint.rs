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
