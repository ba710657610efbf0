//! CIFAR-10 and CIFAR-100 in their binary formats.
//!
//! A CIFAR-10 file is a sequence of 3,073-byte records: one label byte, then 3,072 pixel bytes
//! (1,024 red, 1,024 green, 1,024 blue, each 32 rows of 32), which is exactly the row-major
//! layout of `Rank3<3, 32, 32>`. CIFAR-100 records have two label bytes (coarse, then fine) and
//! are 3,074 bytes long. The file length is checked to be a whole number of records before the
//! data is read, and every label is checked against the number of classes.

use super::{Classes, InMemory};
use crate::{Error, Result};
use dfdx::prelude::*;
use std::path::{Path, PathBuf};

/// Pixels of one image (`3 × 32 × 32`).
const PIXELS: usize = 3 * 32 * 32;

/// Where to get the binary versions.
const CIFAR_HINT: &str =
    "download the binary version from https://www.cs.toronto.edu/~kriz/cifar.html \
     (cifar-10-binary.tar.gz or cifar-100-binary.tar.gz), unpack it and pass the directory";

/// CIFAR images as the model sees them: `3 × 32 × 32`, `u8` in memory (scaled to `[0, 1]` per
/// batch), with `N` classes.
pub type CifarImages<const N: usize> = InMemory<Rank3<3, 32, 32>, Classes<N>, u8>;

/// CIFAR-10: 50,000 training and 10,000 test images in 10 classes.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// // two records: label 3 with all pixels 0, label 9 with all pixels 255
/// let mut bytes = vec![3u8];
/// bytes.extend([0u8; 3072]);
/// bytes.push(9);
/// bytes.extend([255u8; 3072]);
/// let path = std::env::temp_dir()
///     .join(format!("typenet-cifar-doc-{}.bin", std::process::id()));
/// std::fs::write(&path, bytes).unwrap();
/// let data = Cifar10::load_file(&path)?;
/// assert_eq!(data.targets(), &[3, 9]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Cifar10 {
    /// `data_batch_1.bin` … `data_batch_5.bin`, in order.
    pub train: CifarImages<10>,
    /// `test_batch.bin`.
    pub test: CifarImages<10>,
}

impl Cifar10 {
    /// Loads the six files of `cifar-10-batches-bin` from `dir`.
    ///
    /// # Errors
    /// [`Error::DatasetMissing`] (saying where to get it) when a file is absent; [`Error::Io`]
    /// with the operating system's reason when `dir` or a file is there but cannot be read;
    /// otherwise the errors of [`Cifar10::load_file`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let mut train = Vec::new();
        for i in 1..=5 {
            train.push(Self::load_file(find(dir, &format!("data_batch_{i}.bin"))?)?);
        }
        let (features, targets) =
            train
                .iter()
                .fold((Vec::new(), Vec::new()), |(mut f, mut t), d| {
                    f.extend_from_slice(d.features());
                    t.extend_from_slice(d.targets());
                    (f, t)
                });
        Ok(Cifar10 {
            train: InMemory::new(features, targets)?,
            test: Self::load_file(find(dir, "test_batch.bin")?)?,
        })
    }

    /// Reads one CIFAR-10 binary file.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read; [`Error::Cifar`] naming the file if it is empty or not
    /// a whole number of 3,073-byte records; [`Error::LabelOutOfRange`] for a label above 9.
    pub fn load_file(path: impl AsRef<Path>) -> Result<CifarImages<10>> {
        read_records(path.as_ref(), 1, 0)
    }
}

/// CIFAR-100: 50,000 training and 10,000 test images with fine (100) and coarse (20) labels.
#[derive(Debug, Clone)]
pub struct Cifar100 {
    /// `train.bin`, fine labels.
    pub train: CifarImages<100>,
    /// `test.bin`, fine labels.
    pub test: CifarImages<100>,
}

impl Cifar100 {
    /// Loads `train.bin` and `test.bin` of `cifar-100-binary` from `dir`, with the fine labels.
    ///
    /// # Errors
    /// [`Error::DatasetMissing`] when a file is absent; otherwise as [`Cifar100::load_file`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        Ok(Cifar100 {
            train: Self::load_file(find(dir, "train.bin")?)?,
            test: Self::load_file(find(dir, "test.bin")?)?,
        })
    }

    /// Reads one CIFAR-100 binary file with its fine labels (100 classes, the second label byte).
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read; [`Error::Cifar`] naming the file if it is empty or not
    /// a whole number of 3,074-byte records; [`Error::LabelOutOfRange`] for a label above 99.
    pub fn load_file(path: impl AsRef<Path>) -> Result<CifarImages<100>> {
        read_records(path.as_ref(), 2, 1)
    }

    /// Reads one CIFAR-100 binary file with its coarse labels (20 superclasses, the first byte).
    ///
    /// # Errors
    /// As [`Cifar100::load_file`], with labels checked against 20 classes.
    pub fn load_file_coarse(path: impl AsRef<Path>) -> Result<CifarImages<20>> {
        read_records(path.as_ref(), 2, 0)
    }
}

fn cifar_err(path: &Path, reason: String) -> Error {
    Error::Cifar {
        path: path.into(),
        reason,
    }
}

/// Reads records of `label_bytes` label bytes then the pixels, with the label at `label_at`.
fn read_records<const N: usize>(
    path: &Path,
    label_bytes: usize,
    label_at: usize,
) -> Result<CifarImages<N>> {
    let record = label_bytes + PIXELS;
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if len == 0 {
        return Err(cifar_err(
            path,
            format!("the file is empty (expected {record}-byte records)"),
        ));
    }
    if len % record as u64 != 0 {
        return Err(cifar_err(
            path,
            format!(
                "holds {len} bytes, which is not a whole number of {record}-byte records \
                 ({} records and {} bytes left over): truncated, or not a {} file",
                len / record as u64,
                len % record as u64,
                if label_bytes == 1 {
                    "CIFAR-10"
                } else {
                    "CIFAR-100"
                }
            ),
        ));
    }
    // The length was checked above, so this reads what the file holds and nothing more.
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.len() % record != 0 {
        return Err(cifar_err(
            path,
            format!("changed size while being read ({} bytes)", bytes.len()),
        ));
    }
    let count = bytes.len() / record;
    let mut features = Vec::with_capacity(count * PIXELS);
    let mut targets = Vec::with_capacity(count);
    for (index, rec) in bytes.chunks_exact(record).enumerate() {
        let label = rec[label_at] as usize;
        if label >= N {
            return Err(Error::LabelOutOfRange {
                path: path.into(),
                index,
                label,
                classes: N,
            });
        }
        targets.push(label);
        features.extend_from_slice(&rec[label_bytes..]);
    }
    InMemory::new(features, targets)
}

/// `dir/name`, or `dir/cifar-10-batches-bin/name` / `dir/cifar-100-binary/name` (the archives'
/// top directories), whichever exists.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    let archived =
        ["cifar-10-batches-bin", "cifar-100-binary"].map(|sub| Path::new(sub).join(name));
    super::locate::locate(dir, &[Path::new(name), &archived[0], &archived[1]])?.ok_or_else(|| {
        Error::DatasetMissing {
            path: dir.join(name),
            hint: format!("{name} is not in {}; {CIFAR_HINT}", dir.display()),
        }
    })
}
