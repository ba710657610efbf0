//! Data: the [`Dataset`] abstraction, labels, batch shapes, loaders (IDX/MNIST, CSV, CIFAR),
//! transforms, splits and augmentation.

mod augment;

mod cifar;
mod csv;
mod dataset;
mod dense;
mod idx;
mod idx_dataset;
mod inputs;
mod loader;
mod locate;
mod moments;
mod normalize;
mod one_hot;
mod outputs;
mod prefetch;
mod reconstruction;
mod split;
pub(crate) use split::split_indices;
mod subset;
mod target;
mod tokens;
mod transform;

pub use crate::dims::{BatchShape, ImageShape, Packed, PackedBatch, Packing, ShapeList};
pub use augment::{Augmentation, Augmented, HorizontalFlip, RandomCrop};
pub use cifar::{Cifar10, Cifar100, CifarImages};
pub use csv::{CsvDataset, CsvTarget};
pub use dataset::{Dataset, Feature, InMemory};
pub use dense::{SampleValues, ValueImages, ValueSequences};
pub use idx::{read_idx, IdxArray};
pub use idx_dataset::{
    FashionMnist, FashionMnistImages, IdxDataset, FASHION_MNIST_DIR, FASHION_MNIST_INSTALL,
};
pub use inputs::{Inputs, Zip};
pub use loader::{gather, upload, Batch, BatchOf, DataLoader};
pub use normalize::ChannelNorm;
pub use one_hot::one_hot;
pub use outputs::PerOutput;
pub(crate) use prefetch::for_each_batch;
pub use prefetch::{gather_host, prefetch, HostBatch};
pub use reconstruction::Reconstruction;
pub use subset::Subset;
pub use target::{Classes, EachOutput, NoLabels, Target, Targets, Values};
pub use tokens::{
    read_lines, CharVocab, Pad, TokenClasses, TokenSet, Tokens, Vocab, IGNORE, MAX_VOCABULARY, OOV,
    PAD,
};
pub use transform::{SampleTransform, Standardize, Transformed};
