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
//! - [`distributed`]: data-parallel `fit` over ranks ([`Communicator`](distributed::Communicator);
//!   MPI with the `mpi` feature), bit-identical to one process with gradient accumulation.
//! - [`gradcheck`]: finite-difference gradient checks and proptest strategies.
//! - [`interop`]: PyTorch `state_dict`s (safetensors) in and out; ONNX export and import
//!   (feature `onnx`).
//! - [`interpret`]: saliency maps, integrated gradients and heat-map PNGs.
//! - [`for_keras_and_pytorch_users`]: a phrase book, Keras and PyTorch side by side with typenet.
//! - [`Error`]: the one error type.

mod error;

pub mod checkpoint;
pub mod data;
mod dims;
pub mod distributed;
pub mod for_keras_and_pytorch_users;
pub mod gradcheck;
pub mod interop;
pub mod interpret;
pub mod losses;
pub mod nn;
pub mod optim;
mod plot;
pub mod prelude;
pub mod train;
mod type_name;

pub use error::{Error, Result};

/// ONNX export and import (feature `onnx`): [`interop::onnx`] under a short path, so
/// `typenet::onnx::export::<Model, Rank3<1, 28, 28>>(&model, path)`.
#[cfg(feature = "onnx")]
pub use interop::onnx;

// `#[network]` expands to `::typenet::…` paths, which this lets typenet's own code use too.
extern crate self as typenet;

/// Declares a model type for one input shape, with every conv, pool and flatten size computed
/// from its literals: any kernel, stride, padding and input size compiles, sequences may be
/// longer than six layers, and a layer that does not fit is a compile error on its literal.
///
/// Write it on the model's type alias with the shape of one sample, `[C, H, W]` (or `[N]` for
/// flat inputs):
/// ```
/// use typenet::prelude::*;
///
/// // 4 channels of 26x26 flatten to 2704 features (outside typenet's flatten table), and
/// // a kernel of 11 with stride 4 (outside its conv table): both compile.
/// #[typenet::network([1, 28, 28])]
/// type Small = ((Conv2D<1, 4, 3>, ReLU), Flatten2D, Linear<2704, 10>);
///
/// #[typenet::network([3, 224, 224])]
/// type AlexStem = (Conv2D<3, 64, 11, 4, 2>, ReLU, MaxPool2D<3, 2>);
///
/// let dev = Cpu::default();
/// let m = dev.build_module::<Small, f32>();
/// let y: Tensor<Rank2<2, 10>, f32, _> = m.forward(dev.zeros::<Rank4<2, 1, 28, 28>>());
/// let s = summary::<AlexStem, Rank3<3, 224, 224>>();
/// assert_eq!(s.rows[2].output, [64, 27, 27]); // (224 + 4 - 11) / 4 + 1 = 55, (55 - 3) / 2 + 1
/// ```
///
/// A layer that does not fit its input is a `compile_error!` at `cargo check` time, on the
/// offending number:
/// ```compile_fail
/// #[typenet::network([1, 28, 28])]
/// type Small = (typenet::prelude::Conv2D<1, 4, 3>, typenet::prelude::Flatten2D, typenet::prelude::Linear<2705, 10>);
/// // error: `Linear<2705, 10>` takes 2705 input features, but its input has 2704 (Flatten2D of 4x26x26)
/// ```
///
/// What it does: it defines a marker type `__{Alias}Shapes` next to the alias, gives it exactly
/// the size rules the model needs ([`PlaneRule`](nn::shape::PlaneRule),
/// [`FlatRule`](nn::shape::FlatRule)), and writes each `Conv2D`, `MaxPool2D`, `AvgPool2D` and
/// `Flatten2D` of the model as its `…By` form carrying that marker (summaries show the usual
/// names). The model then takes inputs of its declared height and width (any batch size, and
/// runtime `usize` sizes, checked when it runs). Tuples longer than six are regrouped into
/// balanced nested tuples (so field paths like `model.0.1` follow that grouping).
///
/// The macro sees only the tokens of the alias: it knows typenet's and dfdx's layers by name
/// (`Conv2D`, the pools, `Flatten2D`, `Linear`, `BatchNorm2D`, activations, `Residual`,
/// `GeneralizedResidual`, `Repeated`, the global pools), and stops at the first layer it cannot
/// see into (another alias, a custom layer): from there on the model uses typenet's tables, as a
/// plain alias does.
///
/// Without the macro a model type works as before, for the sizes in typenet's tables
/// ([`nn::shape`]).
pub use typenet_macros::network;

/// A sequence of layers of any length, as balanced nested tuples of at most six (dfdx implements
/// `Module` for tuples of up to six layers).
///
/// ```
/// use typenet::prelude::*;
/// type Deep = typenet::seq!(
///     Linear<8, 16>, ReLU, Linear<16, 16>, ReLU, Linear<16, 16>, ReLU,
///     Linear<16, 16>, ReLU, Linear<16, 16>, ReLU, Linear<16, 4>, Softmax,
/// );
/// let dev = Cpu::default();
/// let m = dev.build_module::<Deep, f32>();
/// let y: Tensor<Rank1<4>, f32, _> = m.forward(dev.zeros::<Rank1<8>>());
/// ```
/// [`macro@network`] regroups long tuples itself.
pub use typenet_macros::seq;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
