//! # typenet: a neural network is a Rust type
//!
//! ```
//! use typenet::prelude::*;
//!
//! type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);
//! const _: () = assert!(<Mlp as Params>::PARAMS == 101_770);
//! ```
//!
//! Every shape in a model is checked by the compiler: a layer that does not fit the one before
//! it, a loss that does not fit the model's output, or a data set that does not fit the model's
//! input is a compile error. typenet stands on [dfdx] 0.13 (its kernels and tape-based autodiff)
//! and adds a Keras-like [`Trainer`](train::Trainer), data loaders, model summaries and
//! compile-time parameter counts.
//!
//! ## The Keras recipe
//! ```no_run
//! use typenet::prelude::*;
//!
//! type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);
//!
//! fn main() -> typenet::Result<()> {
//!     let data = FashionMnist::load(FASHION_MNIST_DIR)?;
//!     let dev = Cpu::seed_from_u64(0);
//!     let mut model = Trainer::compile(
//!         &dev,
//!         dev.build_module::<Mlp, f32>(),
//!         AdamConfig::default(),
//!         SparseCategoricalCrossentropy,
//!         &["accuracy"],
//!     )?;
//!     model.fit(&data.train, &FitConfig { epochs: 5, ..Default::default() })?;
//!     println!("{}", model.evaluate(&data.test)?);
//!     Ok(())
//! }
//! ```
//!
//! ## Modules
//! - [`prelude`]: the one import.
//! - [`nn`]: layers ([`Linear`](nn::Linear) on a fused AVX-512 kernel, [`Conv2D`](nn::Conv2D),
//!   pooling), the devices they run on ([`LayerKernels`](nn::LayerKernels),
//!   [`TrainingDevice`](nn::TrainingDevice)) and compile-time model facts ([`Params`](nn::Params),
//!   [`summary`](nn::summary)).
//! - [`losses`]: Keras-named losses, paired with outputs and targets by the compiler.
//! - [`data`]: the [`Dataset`](data::Dataset) trait, IDX (MNIST) loading, in-memory sets.
//! - [`optim`]: optimizer configurations ([`OptimizerConfig`](optim::OptimizerConfig),
//!   [`LearningRate`](optim::LearningRate)) and optimizers whose state can be saved
//!   ([`Resumable`](optim::Resumable)).
//! - [`checkpoint`]: model files (safetensors with metadata, checked on load), `.npz` export.
//! - [`train`]: [`Trainer`](train::Trainer) (`fit`, `evaluate`, `predict`), metrics, history.
//! - [`gradcheck`]: finite-difference gradient checks and proptest strategies.
//! - [`interpret`]: saliency maps, integrated gradients and heat-map PNGs.
//! - [`for_keras_and_pytorch_users`]: a phrase book, Keras and PyTorch side by side with typenet.
//! - [`Error`]: the one error type.

mod error;

pub mod checkpoint;
pub mod data;
pub mod for_keras_and_pytorch_users;
pub mod gradcheck;
pub mod interpret;
pub mod losses;
pub mod nn;
pub mod optim;
mod plot;
pub mod prelude;
pub mod train;

pub use error::{Error, Result};

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
