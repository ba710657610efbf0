//! The IDX reader and the MNIST-family loader on small files the tests write themselves.

use flate2::{write::GzEncoder, Compression};
use std::io::Write;
use std::path::{Path, PathBuf};
use typenet::prelude::*;

use crate::support::tmp_dir;

/// An IDX file of unsigned bytes: magic `00 00 08 rank`, big-endian dims, data.
fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The reason `read_idx` refuses the file `p`, after checking that the error names the file.
fn refused(p: &Path) -> String {
    let err = read_idx(p).unwrap_err();
    assert!(
        err.to_string().contains(&p.display().to_string()),
        "error must name the file: {err}"
    );
    idx_reason(err)
}

fn idx_reason(err: Error) -> String {
    match err {
        Error::Idx { reason, .. } => reason,
        other => panic!("expected an IDX error, got {other:?}"),
    }
}

#[test]
fn valid_raw_file_reads_back() {
    let dir = tmp_dir("raw");
    let data: Vec<u8> = (0..24).collect();
    let p = write(&dir, "a-idx3-ubyte", &idx_bytes(&[2, 3, 4], &data));
    let a = read_idx(&p).unwrap();
    assert_eq!(a.dims, vec![2, 3, 4]);
    assert_eq!(a.data, data);
}

#[test]
fn valid_gzip_file_is_detected_from_content_not_name() {
    let dir = tmp_dir("gzip");
    let data: Vec<u8> = (0..24).rev().collect();
    // no .gz in the name: detection must come from the 1f 8b magic
    let p = write(
        &dir,
        "images-no-suffix",
        &gzip(&idx_bytes(&[2, 3, 4], &data)),
    );
    let a = read_idx(&p).unwrap();
    assert_eq!((a.dims, a.data), (vec![2, 3, 4], data));
}

#[test]
fn bad_magic_is_its_own_error() {
    let dir = tmp_dir("magic");
    let mut bytes = idx_bytes(&[3], &[1, 2, 3]);
    bytes[0] = 0x50;
    let p = write(&dir, "bad-magic", &bytes);
    let err = read_idx(&p).unwrap_err();
    assert!(
        err.to_string().contains("bad-magic"),
        "error must name the file: {err}"
    );
    assert!(idx_reason(err).contains("bad magic number"));
}

#[test]
fn unsupported_type_is_rejected() {
    let dir = tmp_dir("type");
    let mut bytes = idx_bytes(&[1], &[0, 0, 0, 0]);
    bytes[2] = 0x0d; // float32
    let p = write(&dir, "floats", &bytes);
    assert!(refused(&p).contains("not supported"));
}

#[test]
fn truncated_raw_file_is_rejected_before_allocating() {
    let dir = tmp_dir("trunc");
    let bytes = idx_bytes(&[10, 28, 28], &[7; 100]);
    let p = write(&dir, "truncated", &bytes);
    let reason = refused(&p);
    assert!(
        reason.contains("header says 10x28x28 (7840 bytes of data) but the file holds 100 bytes"),
        "{reason}"
    );
    // a header cut short: rank 3 but only one of its three dimensions
    let p = write(&dir, "short-header", &[0, 0, 8, 3, 0, 0, 0, 1]);
    let reason = refused(&p);
    assert!(reason.contains("truncated header"), "{reason}");
}

#[test]
fn truncated_gzip_file_is_rejected() {
    let dir = tmp_dir("trunc-gz");
    let gz = gzip(&idx_bytes(&[10, 28, 28], &[7; 7840]));
    let p = write(&dir, "truncated.gz", &gz[..gz.len() / 2]);
    let err = read_idx(&p).unwrap_err();
    assert!(matches!(err, Error::Idx { .. }), "{err:?}");
}

#[test]
fn header_claiming_2_pow_31_items_does_not_allocate() {
    let dir = tmp_dir("huge");
    let p = write(&dir, "huge", &idx_bytes(&[1 << 31, 28, 28], &[0; 16]));
    let reason = refused(&p);
    assert!(reason.contains("2147483648"), "{reason}");
    assert!(reason.contains("but the file holds 16 bytes"), "{reason}");
    let p = write(
        &dir,
        "huge.gz",
        &gzip(&idx_bytes(&[1 << 31, 28, 28], &[0; 16])),
    );
    let reason = refused(&p);
    assert!(reason.contains("gzip stream holds 16 bytes"), "{reason}");
}

#[test]
fn trailing_data_is_rejected() {
    let dir = tmp_dir("extra");
    let p = write(&dir, "extra", &idx_bytes(&[2], &[1, 2, 3]));
    assert!(refused(&p).contains("file holds 3 bytes"));
}

#[test]
fn empty_file_is_rejected() {
    let dir = tmp_dir("empty");
    let p = write(&dir, "empty", &[]);
    assert!(refused(&p).contains("too short"));
}

/// Writes a 4-file MNIST-like directory with `n` train and test 28x28 images.
fn mnist_dir(name: &str, n: u32, labels: &[u8], label_count: u32) -> PathBuf {
    let dir = tmp_dir(name);
    let pixels: Vec<u8> = (0..n * 784).map(|i| (i % 251) as u8).collect();
    for split in ["train", "t10k"] {
        write(
            &dir,
            &format!("{split}-images-idx3-ubyte.gz"),
            &gzip(&idx_bytes(&[n, 28, 28], &pixels)),
        );
        write(
            &dir,
            &format!("{split}-labels-idx1-ubyte"),
            &idx_bytes(&[label_count], labels),
        );
    }
    dir
}

#[test]
fn loads_a_four_file_directory() {
    let dir = mnist_dir("ok", 3, &[0, 9, 4], 3);
    let data = FashionMnist::load(&dir).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (3, 3));
    assert_eq!(data.train.targets(), &[0, 9, 4]);
    let mut x = vec![0.0; 784];
    data.train.write_features(1, &mut x);
    // pixel 784 of the file is (784 % 251) = 31, scaled to [0, 1]
    assert_eq!(x[0], 31.0 / 255.0);
    // the same files as 1x28x28 images for a CNN
    let images = FashionMnistImages::load(&dir).unwrap();
    assert_eq!(images.test.len(), 3);
}

#[test]
fn count_mismatch_is_its_own_error() {
    let dir = mnist_dir("count", 3, &[0, 1], 2);
    let err = FashionMnist::load(&dir).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("train-labels-idx1-ubyte"), "{text}");
    assert!(idx_reason(err).contains("holds 2 labels but"));
}

#[test]
fn label_out_of_range_names_file_record_and_label() {
    let dir = mnist_dir("label", 3, &[0, 10, 1], 3);
    match FashionMnist::load(&dir).unwrap_err() {
        Error::LabelOutOfRange {
            path,
            index,
            label,
            classes,
        } => {
            assert!(path.ends_with("train-labels-idx1-ubyte"));
            assert_eq!((index, label, classes), (1, 10, 10));
        }
        other => panic!("expected LabelOutOfRange, got {other:?}"),
    }
}

#[test]
fn wrong_image_size_for_the_sample_shape_is_rejected() {
    let dir = tmp_dir("size");
    for split in ["train", "t10k"] {
        write(
            &dir,
            &format!("{split}-images-idx3-ubyte"),
            &idx_bytes(&[1, 2, 2], &[0; 4]),
        );
        write(
            &dir,
            &format!("{split}-labels-idx1-ubyte"),
            &idx_bytes(&[1], &[0]),
        );
    }
    let reason = idx_reason(FashionMnist::load(&dir).unwrap_err());
    assert!(reason.contains("rows*cols = 784"), "{reason}");
}

#[test]
fn missing_directory_says_how_to_install() {
    let err = FashionMnist::load("/nonexistent/typenet").unwrap_err();
    assert!(matches!(err, Error::DatasetMissing { .. }));
    assert!(
        err.to_string()
            .contains("apt-get install -y dataset-fashion-mnist"),
        "{err}"
    );
}
