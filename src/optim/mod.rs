//! Optimizers: the configurations the trainer builds one from ([`OptimizerConfig`], with
//! [`LearningRate`] for schedules), and optimizers whose state can be saved, so that training
//! resumes exactly.
//!
//! Two families of rules:
//! - typenet's [`RmsProp`] and [`AdamPrecise`] compute what `torch.optim.RMSprop` and
//!   `torch.optim.Adam`/`AdamW` compute (checked against numbers recorded from PyTorch), or
//!   with [`Convention::Keras`] what Keras's optimizers of those names compute; always
//!   resumable;
//! - dfdx's configurations ([`SgdConfig`](dfdx::optim::SgdConfig) is PyTorch's SGD, with
//!   momentum, Nesterov and L2 decay; dfdx's [`AdamConfig`](dfdx::optim::AdamConfig) rounds its
//!   bias corrections to `f32`; dfdx's [`RMSpropConfig`](dfdx::optim::RMSpropConfig) is neither
//!   PyTorch's nor Keras's rule, see [`RmsProp`]).
//!
//! dfdx's optimizers keep their state (moments, step count) private. [`Resumable`] wraps one of
//! dfdx's configurations ([`AdamConfig`](dfdx::optim::AdamConfig),
//! [`SgdConfig`](dfdx::optim::SgdConfig), [`RMSpropConfig`](dfdx::optim::RMSpropConfig)) and
//! builds a [`ResumableOptimizer`] that owns one set of state buffers per parameter tensor and
//! updates them with dfdx's own per-tensor kernels (`AdamKernel`, `SgdKernel`,
//! `RMSpropKernel`) on the model's device (CPU or CUDA), so its steps are bit-for-bit those of
//! dfdx's optimizer with the same configuration on that device. AdamW is Adam with `weight_decay: Some(WeightDecay::Decoupled(λ))`; SGD's
//! momentum may be classic or Nesterov.
//!
//! # Example
//! ```
//! # use typenet::prelude::*;
//! # fn main() -> typenet::Result<()> {
//! type Mlp = (Linear<2, 8>, Tanh, Linear<8, 2>);
//! let dev = Cpu::seed_from_u64(0);
//! let adamw = AdamConfig { weight_decay: Some(WeightDecay::Decoupled(1e-2)), ..Default::default() };
//! let mut model = Trainer::compile(
//!     &dev,
//!     dev.build_module::<Mlp, f32>(),
//!     Resumable(adamw),
//!     SparseCategoricalCrossentropy,
//!     &[],
//! )?;
//! let xor = InMemory::<Rank1<2>, Classes<2>>::new(vec![0., 0., 0., 1., 1., 0., 1., 1.], vec![0, 1, 1, 0])?;
//! let cfg = FitConfig { epochs: 2, batch_size: 2, verbosity: Verbosity::Silent, ..Default::default() };
//! let history = model.fit(&xor, &cfg)?;
//! let dir = std::env::temp_dir().join(format!("typenet-doc-optim-{}", std::process::id()));
//! let saved = model.save_state(&dir, &history, &cfg)?; // dir/epoch-0002
//! assert_eq!(model.optimizer.step(), 4);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```
//!
//! **Keras equivalent**: `keras.optimizers.Adam` / `AdamW` / `SGD(momentum, nesterov)` /
//! `RMSprop`, whose `variables` are saved with the model.

mod config;
mod conventions;
mod resumable;
mod rules;

pub use crate::nn::device::HostSlices;
pub use config::{LearningRate, OptimizerConfig};
pub use conventions::{AdamPrecise, Convention, RmsProp};
pub use resumable::ResumableOptimizer;
pub use rules::UpdateRule;

use crate::Result;
use std::path::Path;

/// Wraps one of dfdx's optimizer configurations so the optimizer it builds can save and load
/// its state: `Resumable(AdamConfig::default())`.
///
/// **PyTorch equivalent**: any `torch.optim` optimizer with its `state_dict()`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Resumable<C>(pub C);

/// An optimizer whose state (per-parameter buffers, step count, learning rate) can be written to
/// a file and read back.
#[diagnostic::on_unimplemented(
    message = "the optimizer `{Self}` cannot save its state",
    label = "dfdx's optimizers keep their moments private",
    note = "compile the trainer with `Resumable(AdamConfig {{ … }})` (or `Resumable(SgdConfig …)`, `Resumable(RMSpropConfig …)`) instead of the bare configuration"
)]
pub trait OptimizerState {
    /// Writes the state to `path` (safetensors, atomically).
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) naming the file.
    fn save_state(&self, path: &Path) -> Result<()>;

    /// Reads state written by [`OptimizerState::save_state`] for the same model and rule.
    ///
    /// # Errors
    /// [`Error::CheckpointMismatch`](crate::Error::CheckpointMismatch) listing every buffer that
    /// does not fit; [`Error::Checkpoint`](crate::Error::Checkpoint) for another rule, or a
    /// truncated or garbage file. On error the optimizer is unchanged.
    fn load_state(&mut self, path: &Path) -> Result<()>;

    /// The rule and its hyperparameters but the learning rate (which a saved state carries),
    /// e.g. `adam AdamConfig { betas: [0.9, 0.999], eps: 1e-8, weight_decay: None }`: recorded
    /// with a backup, so that resuming it with other ones is refused. Empty where unknown.
    fn settings(&self) -> String {
        String::new()
    }
}
