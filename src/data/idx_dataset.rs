//! The MNIST-family data sets (MNIST, Fashion-MNIST) from their four standard IDX files.

use super::{read_idx, BatchShape, Classes, InMemory};
use crate::{Error, Result};
use dfdx::prelude::*;
use std::path::{Path, PathBuf};

/// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The command that installs Fashion-MNIST on Debian and Ubuntu.
pub const FASHION_MNIST_INSTALL: &str = "apt-get install -y dataset-fashion-mnist";

/// A training and a test set read from the four standard IDX files of a directory:
/// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
/// `t10k-labels-idx1-ubyte`, each raw or with `.gz` (gzip is detected from the content).
///
/// `S` is the shape a sample has for the model (`Rank1<784>` for an MLP, `Rank3<1, 28, 28>` for a
/// CNN); the files' rows × columns must equal its size. Pixels stay `u8` in memory and are scaled
/// to `[0, 1]` per batch. Every label is checked against `CLASSES` when the files are read.
///
/// # Example
/// ```no_run
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let data = FashionMnist::load("/usr/share/datasets/fashion-mnist")?;
/// assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct IdxDataset<S: BatchShape, const CLASSES: usize> {
    /// The training set (`train-*` files).
    pub train: InMemory<S, Classes<CLASSES>, u8>,
    /// The test set (`t10k-*` files).
    pub test: InMemory<S, Classes<CLASSES>, u8>,
}

/// Fashion-MNIST (or MNIST) with flat 784-value samples, for MLPs.
pub type FashionMnist = IdxDataset<Rank1<784>, 10>;

/// Fashion-MNIST (or MNIST) with `1 × 28 × 28` image samples, for CNNs.
pub type FashionMnistImages = IdxDataset<Rank3<1, 28, 28>, 10>;

impl<S: BatchShape, const CLASSES: usize> IdxDataset<S, CLASSES> {
    /// Loads both splits from `dir`.
    ///
    /// # Errors
    /// [`Error::DatasetMissing`] (with the install command) when a file is absent;
    /// [`Error::Io`] with the operating system's reason when `dir` or a file is there but
    /// cannot be read (no permission, say); otherwise the errors of [`IdxDataset::load_split`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        Ok(Self {
            train: Self::load_split(
                &find(dir, "train-images-idx3-ubyte")?,
                &find(dir, "train-labels-idx1-ubyte")?,
            )?,
            test: Self::load_split(
                &find(dir, "t10k-images-idx3-ubyte")?,
                &find(dir, "t10k-labels-idx1-ubyte")?,
            )?,
        })
    }

    /// Loads one split from an images file and a labels file.
    ///
    /// # Errors
    /// [`Error::Idx`] naming the file when either is malformed, when the images are not rank 3
    /// with `rows × cols == S::NUMEL`, when the labels are not rank 1, or when the counts differ;
    /// [`Error::LabelOutOfRange`] for a label `>= CLASSES`.
    pub fn load_split(images: &Path, labels: &Path) -> Result<InMemory<S, Classes<CLASSES>, u8>> {
        let img = read_idx(images)?;
        if img.dims.len() != 3 || img.dims[1] * img.dims[2] != S::NUMEL {
            return Err(Error::Idx {
                path: images.into(),
                reason: format!(
                    "expected images of shape N x rows x cols with rows*cols = {} (the sample shape {}), found dimensions {:?}",
                    S::NUMEL,
                    shape_name::<S>(),
                    img.dims
                ),
            });
        }
        let lab = read_idx(labels)?;
        if lab.dims.len() != 1 {
            return Err(Error::Idx {
                path: labels.into(),
                reason: format!(
                    "expected a rank-1 label file, found dimensions {:?}",
                    lab.dims
                ),
            });
        }
        if lab.dims[0] != img.dims[0] {
            return Err(Error::Idx {
                path: labels.into(),
                reason: format!(
                    "holds {} labels but {} holds {} images",
                    lab.dims[0],
                    images.display(),
                    img.dims[0]
                ),
            });
        }
        let targets = lab
            .data
            .iter()
            .enumerate()
            .map(|(index, &l)| {
                if (l as usize) < CLASSES {
                    Ok(l as usize)
                } else {
                    Err(Error::LabelOutOfRange {
                        path: labels.into(),
                        index,
                        label: l as usize,
                        classes: CLASSES,
                    })
                }
            })
            .collect::<Result<Vec<_>>>()?;
        InMemory::new(img.data, targets)
    }
}

fn shape_name<S: Shape + Default>() -> String {
    format!("{:?}", S::default().concrete().into())
        .replace('[', "(")
        .replace(']', ")")
}

/// `dir/name`, or `dir/name.gz`, whichever exists.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    let gz = format!("{name}.gz");
    super::locate::locate(dir, &[name, &gz])?.ok_or_else(|| Error::DatasetMissing {
        path: dir.join(&gz),
        hint: format!(
            "neither {name} nor {name}.gz is in {}; install Fashion-MNIST with `{FASHION_MNIST_INSTALL}` or pass the directory that holds the files",
            dir.display()
        ),
    })
}
