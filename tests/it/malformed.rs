//! A corpus of malformed files: each loader must return an error that names the file and the
//! problem, never panic and never allocate what the file does not hold. The test writes every
//! file itself into a fresh temporary directory. The IDX reader's malformed files are in `idx`.

use std::path::{Path, PathBuf};
use typenet::prelude::*;

use crate::support::tmp_dir;

/// Writes `bytes` to a file `name` in a fresh directory.
fn write(name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = tmp_dir("malformed").join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The error's message, after checking it names the file and contains every `needle`.
fn message<T>(path: &Path, r: typenet::Result<T>, needles: &[&str]) -> String {
    let msg = match r {
        Ok(_) => panic!("{} loaded, but it is malformed", path.display()),
        Err(e) => e.to_string(),
    };
    assert!(
        msg.contains(&path.display().to_string()),
        "no file name in: {msg}"
    );
    for n in needles {
        assert!(msg.contains(n), "`{n}` missing from: {msg}");
    }
    msg
}

// ---- CIFAR ----

fn cifar10_record(label: u8) -> Vec<u8> {
    let mut r = vec![label];
    r.extend(std::iter::repeat_n(128u8, 3072));
    r
}

#[test]
fn cifar_truncated_file() {
    let mut bytes = cifar10_record(1);
    bytes.extend(&cifar10_record(2)[..1000]);
    let p = write("truncated_batch.bin", bytes);
    message(
        &p,
        Cifar10::load_file(&p),
        &["4073 bytes", "3073-byte records", "1000 bytes left over"],
    );
}

#[test]
fn cifar_wrong_record_size() {
    // three CIFAR-100 records (3,074 bytes each) read as CIFAR-10
    let p = write("cifar100_as_10.bin", vec![0u8; 3 * 3074]);
    message(
        &p,
        Cifar10::load_file(&p),
        &["3073-byte records", "not a CIFAR-10 file"],
    );
}

#[test]
fn cifar_empty_file_and_label_out_of_range() {
    let p = write("empty_batch.bin", []);
    message(&p, Cifar10::load_file(&p), &["empty"]);
    let mut bytes = cifar10_record(3);
    bytes.extend(cifar10_record(10));
    let p = write("label10_batch.bin", bytes);
    message(
        &p,
        Cifar10::load_file(&p),
        &["record 1 has label 10", "10 classes"],
    );
    // CIFAR-100 coarse labels are checked against 20 classes
    let p = write("coarse20.bin", [vec![20u8, 5], vec![0; 3072]].concat());
    message(
        &p,
        Cifar100::load_file_coarse(&p),
        &["record 0 has label 20", "20 classes"],
    );
}

// ---- CSV ----

#[test]
fn csv_non_numeric_field_names_line_and_column() {
    let p = write("words.csv", "a,b,label\n1,2,0\n3,abc,1\n");
    message(
        &p,
        CsvDataset::<2, Classes<2>>::load(&p, "label"),
        &["line 3, column 2 (b)", "`abc` is not a number"],
    );
    let p = write("nan.csv", "a,b,label\n1,NaN,0\n");
    message(
        &p,
        CsvDataset::<2, Classes<2>>::load(&p, "label"),
        &["line 2, column 2 (b)", "finite"],
    );
    let p = write("missing.csv", "a,b,label\n1,,0\n");
    message(
        &p,
        CsvDataset::<2, Classes<2>>::load(&p, "label"),
        &["line 2, column 2 (b)", "missing value"],
    );
}

#[test]
fn csv_ragged_rows() {
    let p = write("ragged.csv", "a,b,label\n1,2,0\n3,4\n");
    message(
        &p,
        CsvDataset::<2, Classes<2>>::load(&p, "label"),
        &["line 3", "ragged row: 2 fields, but the header has 3"],
    );
    let p = write("long.csv", "a,b,label\n1,2,0,9\n");
    message(
        &p,
        CsvDataset::<2, Classes<2>>::load(&p, "label"),
        &["line 2", "4 fields"],
    );
}

#[test]
fn csv_labels_out_of_range_or_not_classes() {
    let p = write("label3.csv", "a,label\n1,0\n2,3\n");
    message(
        &p,
        CsvDataset::<1, Classes<3>>::load(&p, "label"),
        &[
            "line 3, column 2 (label)",
            "label 3 is out of range",
            "3 classes",
        ],
    );
    let p = write("label_neg.csv", "a,label\n1,-1\n");
    message(
        &p,
        CsvDataset::<1, Classes<3>>::load(&p, "label"),
        &["line 2, column 2 (label)", "not a class index"],
    );
}

#[test]
fn csv_empty_file_and_header_only() {
    let p = write("empty.csv", "");
    message(
        &p,
        CsvDataset::<2, Classes<2>>::load(&p, "label"),
        &["empty", "header row"],
    );
    let p = write("header_only.csv", "a,b,label\n");
    message(
        &p,
        CsvDataset::<2, Classes<2>>::load(&p, "label"),
        &["no data rows"],
    );
}

#[test]
fn csv_feature_count_must_match_the_model() {
    let p = write("three_features.csv", "a,b,c,y\n1,2,3,4\n");
    message(
        &p,
        CsvDataset::<30, Values<1>>::load(&p, "y"),
        &["expected 30 feature columns, found 3"],
    );
}

#[test]
fn csv_label_column_missing_or_repeated() {
    let p = write("nolabel.csv", "a,b\n1,2\n");
    message(
        &p,
        CsvDataset::<1, Values<1>>::load(&p, "y"),
        &["no column is named `y`", "a, b"],
    );
    let p = write("twolabels.csv", "y,a,y\n1,2,3\n");
    message(
        &p,
        CsvDataset::<1, Values<1>>::load(&p, "y"),
        &["2 columns are named `y`"],
    );
}

#[test]
fn csv_invalid_utf8() {
    let p = write("latin1.csv", b"a,label\n\xe9t\xe9,0\n");
    message(
        &p,
        CsvDataset::<1, Classes<2>>::load(&p, "label"),
        &["UTF-8"],
    );
}

#[test]
fn missing_files_name_the_path() {
    let p = tmp_dir("malformed").join("does-not-exist.csv");
    message(
        &p,
        CsvDataset::<1, Classes<2>>::load(&p, "label"),
        &["I/O error"],
    );
    let d = tmp_dir("malformed").join("no-cifar-here");
    let msg = Cifar10::load(&d).unwrap_err().to_string();
    assert!(
        msg.contains("data_batch_1.bin") && msg.contains("cifar"),
        "{msg}"
    );
}

// ---- gzip members and unreadable directories ----

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_gzip_file_of_several_members_is_read_whole() {
    // 3 labels: the IDX header and the first label in one member, the rest in two more (what
    // `cat a.gz b.gz` or a parallel gzip writes); each trailer counts only its own member
    let idx = [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1];
    let mut file = gzip(&idx[..9]);
    file.extend(gzip(&idx[9..10]));
    file.extend(gzip(&idx[10..]));
    let p = write("labels-idx1-ubyte.gz", &file);
    let labels = read_idx(&p).unwrap();
    assert_eq!((labels.dims, labels.data), (vec![3], vec![7, 2, 1]));
    // members that hold one label too few are still refused, with the true count
    let mut short = gzip(&idx[..9]);
    short.extend(gzip(&idx[9..10]));
    let p = write("short-idx1-ubyte.gz", &short);
    message(&p, read_idx(&p), &["gzip stream holds 2 bytes of data"]);
}

#[test]
fn an_unreadable_data_directory_is_reported_with_the_os_error_not_as_missing() {
    let base = tmp_dir("unreadable");
    // a symbolic-link loop: there, but no one (not even root) can look inside
    let (a, b) = (base.join("a"), base.join("b"));
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    for err in [
        FashionMnist::load(&a).err().unwrap(),
        Cifar10::load(&a).err().unwrap(),
    ] {
        match &err {
            Error::Io { path, source } => {
                assert_eq!(path, &a);
                assert_eq!(source.raw_os_error(), Some(40), "ELOOP: {err}");
            }
            e => panic!("expected an I/O error, got {e}"),
        }
    }
    // a directory without permissions (only a test for a user the permissions stop)
    let locked = base.join("locked");
    std::fs::create_dir(&locked).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_dir(&locked).is_err() {
        let err = FashionMnist::load(&locked).err().unwrap();
        assert!(
            matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied),
            "{err}"
        );
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    // and an absent one is still missing
    assert!(matches!(
        FashionMnist::load(base.join("absent")),
        Err(Error::DatasetMissing { .. })
    ));
}
