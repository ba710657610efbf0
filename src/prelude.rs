//! Everything a first model needs, in one import: `use typenet::prelude::*;`.
//!
//! dfdx's prelude (layers, devices, tensors, shapes, tensor ops, dfdx's loss functions), dfdx's
//! optimizers and their configurations (which dfdx's prelude leaves out), and every typenet item.

pub use dfdx::optim::{Adam, Optimizer, RMSprop, Sgd};
pub use dfdx::prelude::*;
pub use dfdx::tensor::CpuError;

pub use crate::data::{
    read_idx, BatchShape, Classes, Dataset, FashionMnist, FashionMnistImages, IdxDataset, InMemory,
    Subset, Target, Values, FASHION_MNIST_DIR,
};
pub use crate::losses::{
    BinaryCrossentropy, BinaryCrossentropyWithLogits, CategoricalCrossentropy, Huber, Loss,
    MeanAbsoluteError, MeanSquaredError, SparseCategoricalCrossentropy,
};
pub use crate::nn::{summary, AvgPool2D, Conv2D, Flatten2D, MaxPool2D, Params, Summarize, Summary};
pub use crate::train::{
    Evaluation, FitConfig, History, LearningRate, Metric, OptimizerConfig, Predictions, TrainModel,
    Trainer, Verbosity,
};
pub use crate::{Error, Result};
pub use rand::SeedableRng;
