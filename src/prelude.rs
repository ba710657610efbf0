//! Everything a first model needs, in one import: `use typenet::prelude::*;`.
//!
//! dfdx's prelude (layers, devices, tensors, shapes, tensor ops, dfdx's loss functions), dfdx's
//! optimizers and their configurations (which dfdx's prelude leaves out), and every typenet item.
//! typenet's [`Linear`], [`BatchNorm2D`], [`BatchNorm1D`] and [`modules`] shadow dfdx's of the
//! same names: the same layer, fields and initialisation on a faster CPU kernel (dfdx's stay at
//! `dfdx::nn::builders`).

pub use dfdx::optim::{Adam, Optimizer, RMSprop, Sgd};
pub use dfdx::prelude::*;
pub use dfdx::tensor::CpuError;

pub use crate::data::{
    one_hot, Augmentation, Augmented, ChannelNorm, Cifar10, Cifar100, CifarImages, CsvDataset,
    CsvTarget, HorizontalFlip, ImageShape, RandomCrop, SampleTransform, Standardize, Transformed,
};
pub use crate::data::{
    read_idx, Batch, BatchShape, Classes, DataLoader, Dataset, FashionMnist, FashionMnistImages,
    IdxDataset, InMemory, Inputs, NoLabels, Packed, PerOutput, Reconstruction, Subset, Target,
    ValueImages, ValueSequences, Values, Zip, FASHION_MNIST_DIR,
};
pub use crate::data::{CharVocab, Pad, TokenClasses, TokenSet, Tokens, Vocab, IGNORE, OOV, PAD};
pub use crate::gradcheck::{
    gradcheck, gradcheck_fn, GradCheckConfig, GradCheckModel, GradCheckReport, TensorCheck,
};
pub use crate::interpret::{
    heatmap_png, integrated_gradients, saliency, Explainable, HeatmapRow, IntegratedGradients,
};
pub use crate::losses::{
    BceLoss, BinaryCrossentropy, BinaryCrossentropyWithLogits, CategoricalCrossentropy, Huber,
    Loss, Losses, MeanAbsoluteError, MeanSquaredError, SparseCategoricalCrossentropy,
    TokenCrossentropy,
};
pub use crate::nn::Shapes;
pub use crate::nn::{
    glorot_uniform, modules, summary, AvgPool2D, Conv2D, Custom, ExactGeLU, Flatten2D, Frozen,
    LayerKernels, Linear, MaxPool2D, Params, Summarize, Summary, TrainingDevice, Unflatten2D,
};
pub use crate::nn::{
    AllSteps, Concat, Embedding, EmbeddingBag, EncoderBlock, Gru, LastStep, Lstm, Pack, Parallel,
    PositionalEmbedding, SelfAttention, SeqFirst, SeqLast, SeqMax, SeqMean, Unpack,
};
pub use crate::nn::{BatchNorm1D, BatchNorm2D};
pub use crate::optim::{
    AdamPrecise, Convention, LearningRate, OptimizerConfig, OptimizerState, Resumable,
    ResumableOptimizer, RmsProp,
};
pub use crate::train::{
    metric, AdamTrainer, Built, EpochLog, Evaluation, Fit, FitConfig, GradClip, History, Metric,
    MetricList, Predictions, TrainModel, TrainState, Trainer, Verbosity,
};
pub use crate::train::{
    BatchLog, Callback, Context, Control, CsvLogger, EarlyStopping, JsonLinesLogger,
    LearningRateScheduler, Mode, ModelCheckpoint, ReduceLrOnPlateau, Schedule,
};
pub use crate::{network, seq, Error, Result};
pub use rand::{Rng, SeedableRng};
