//! Optimizer configurations: plain structs that build an optimizer for a model, and the
//! learning rate every optimizer typenet trains with exposes (for schedules).

use dfdx::optim::{Adam, Optimizer, RMSprop, Sgd};
use dfdx::prelude::*;

/// A configuration that builds an optimizer for model `M` on device `D` in the float type `E`
/// (`f32` unless named; dfdx's configurations build for `f32` and `f64`, [`Resumable`](super::Resumable)
/// for `f32`).
///
/// Implemented for dfdx's [`AdamConfig`] (Adam; AdamW with
/// `weight_decay: Some(WeightDecay::Decoupled(λ))`), [`SgdConfig`] (momentum and Nesterov) and
/// [`RMSpropConfig`].
///
/// **Keras equivalent**: `optimizer="adam"` or `Adam(learning_rate=…)`.
pub trait OptimizerConfig<M, D: Device<E>, E: Dtype = f32> {
    /// The optimizer this configuration builds.
    type Optimizer: Optimizer<M, D, E> + LearningRate;
    /// Builds the optimizer for `model`.
    fn build(self, model: &M) -> Self::Optimizer;
}

/// Read and set an optimizer's learning rate (for schedules).
pub trait LearningRate {
    /// The current learning rate.
    fn lr(&self) -> f64;
    /// Sets the learning rate.
    fn set_lr(&mut self, lr: f64);
}

macro_rules! dfdx_optimizer {
    ($cfg:ident, $opt:ident) => {
        impl<E: Dtype, M: TensorCollection<E, D>, D: Device<E>> OptimizerConfig<M, D, E> for $cfg {
            type Optimizer = $opt<M, E, D>;
            fn build(self, model: &M) -> Self::Optimizer {
                $opt::new(model, self)
            }
        }
        impl<M, E: Dtype, D: Device<E>> LearningRate for $opt<M, E, D> {
            fn lr(&self) -> f64 {
                self.cfg.lr
            }
            fn set_lr(&mut self, lr: f64) {
                self.cfg.lr = lr;
            }
        }
    };
}
dfdx_optimizer!(AdamConfig, Adam);
dfdx_optimizer!(SgdConfig, Sgd);
dfdx_optimizer!(RMSpropConfig, RMSprop);
