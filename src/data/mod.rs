//! Data: the [`Dataset`] abstraction, labels, batch shapes and the IDX (MNIST-format) loader.

mod batch;
mod dataset;
mod idx;
mod idx_dataset;
mod loader;
mod subset;
mod target;

pub use batch::BatchShape;
pub use dataset::{Dataset, Feature, InMemory};
pub use idx::{read_idx, IdxArray};
pub use idx_dataset::{
    FashionMnist, FashionMnistImages, IdxDataset, FASHION_MNIST_DIR, FASHION_MNIST_INSTALL,
};
pub use loader::{gather, Batch, BatchOf, DataLoader};
pub use subset::Subset;
pub use target::{Classes, Target, Targets, Values};
