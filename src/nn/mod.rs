//! Layers and what they run on:
//! - the layers: a faster [`Linear`] and batch norm ([`BatchNorm2D`], [`BatchNorm1D`]), and
//!   the layers dfdx lacks on stable ([`Conv2D`], [`MaxPool2D`], [`AvgPool2D`], [`Flatten2D`]),
//!   with their dimension arithmetic in the types ([`shape`]) and initialisation
//!   ([`glorot_uniform`]);
//! - the devices ([`device`]): [`LayerKernels`], the one trait the layers run through (typenet's
//!   fused kernels on the CPU, portable dfdx-op compositions by default, so on CUDA), and
//!   [`TrainingDevice`], what training needs of a device;
//! - the CPU kernels themselves, on slices (crate-private `kernels`);
//! - compile-time model facts: parameter counts ([`Params`]) and summaries ([`summary`]).
//!
//! Group deep models into balanced tuples of at most six layers, e.g. one tuple per conv block:
//! dfdx's tuple impls make type checking exponential in the nesting depth of right-nested tuples
//! (51 layers nested 10 deep took 128 s to check; balanced 6-ary grouping of 67 layers, 0.3 s).

mod attention;
mod batchnorm;
mod combinators;
mod concat;
mod conv2d;
pub mod custom;
pub mod device;
mod embedding;
mod flatten;
pub mod frozen;
mod gelu;
mod init;
mod kernels;
mod linear;
mod packing;
mod parallel;
mod params;
mod pool2d;
mod recurrent;
mod seq_pool;
pub mod shape;
mod summary;
mod unflatten;

pub use attention::builder::{EncoderBlock, SelfAttention};
pub use batchnorm::builder::{BatchNorm1D, BatchNorm2D};
pub use combinators::Shapes;
pub use concat::Concat;
pub use conv2d::builder::{Conv2D, Conv2DBy};
pub use conv2d::RuleSet;
pub use custom::builder::Custom;
pub use device::{LayerKernels, TrainingDevice};
pub use embedding::builder::{Embedding, EmbeddingBag, PositionalEmbedding};
pub use embedding::{Positions, TokenIdError, TokenIds};
pub use flatten::{Flatten2D, Flatten2DBy};
pub use frozen::builder::Frozen;
pub use gelu::ExactGeLU;
pub use init::glorot_uniform;
pub use linear::builder::Linear;
pub use packing::{Pack, Unpack};
pub use parallel::Parallel;
pub use params::Params;
pub use pool2d::{AvgPool2D, AvgPool2DBy, MaxPool2D, MaxPool2DBy};
pub use recurrent::builder::{Gru, Lstm};
pub use recurrent::{AllSteps, LastStep, Steps};
pub use seq_pool::{SeqFirst, SeqLast, SeqMax, SeqMean};
pub use shape::{Channels, Features, FlatDims, FlatRule, PlaneRule, Tables, Window};
pub use summary::{summary, LayerRow, Summarize, Summary};
pub use unflatten::Unflatten2D;

/// The built (device-holding) forms of layers, as dfdx's `nn::modules`: dfdx's, with typenet's
/// [`Linear`](modules::Linear), [`Conv2D`](modules::Conv2D),
/// [`BatchNorm2D`](modules::BatchNorm2D) and [`BatchNorm1D`](modules::BatchNorm1D) in place of
/// dfdx's.
pub mod modules {
    pub use super::attention::{EncoderBlock, SelfAttention};
    pub use super::batchnorm::{BatchNorm1D, BatchNorm2D};
    pub use super::conv2d::Conv2D;
    pub use super::custom::Custom;
    pub use super::embedding::{Embedding, EmbeddingBag, PositionalEmbedding};
    pub use super::frozen::Frozen;
    pub use super::linear::Linear;
    pub use super::parallel::Parallel;
    pub use super::recurrent::{Gru, Lstm};
    pub use dfdx::nn::modules::*;
}
