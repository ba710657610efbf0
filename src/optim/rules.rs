//! The update rules: dfdx's configurations and their per-tensor kernels.

use super::{HostSlices, LearningRate};
use dfdx::optim::{AdamConfig, RMSpropConfig, SgdConfig};
use dfdx::prelude::*;

/// A per-parameter buffer on device `D`.
pub(crate) type Buf<D> = <D as Storage<f32>>::Vec;

/// An optimizer's update rule: the state buffers it keeps per parameter and how one step
/// changes a parameter and its buffers.
///
/// Implemented for dfdx's [`AdamConfig`], [`SgdConfig`] and [`RMSpropConfig`], whose step is
/// dfdx's own kernel on whichever device the parameter lives, and for typenet's
/// [`RmsProp`](super::RmsProp) and [`AdamPrecise`](super::AdamPrecise), which follow PyTorch's
/// (or Keras's) update.
pub trait UpdateRule: LearningRate + Clone + std::fmt::Debug {
    /// A short name stored with the state (`adam`, `sgd`, `rmsprop`).
    const NAME: &'static str;
    /// Names of the buffers kept per parameter, e.g. `["moment1", "moment2"]`.
    const SLOTS: &'static [&'static str];
    /// Whether buffer `slot` starts at 1 rather than 0 (RMSprop's square average, as in dfdx).
    /// These are the two values a device fills a buffer with in place, without a host copy.
    fn starts_at_one(_slot: usize) -> bool {
        false
    }
    /// One step on parameter `p` with gradient `g`; `step` counts updates from 1. `g` is the
    /// optimizer's own copy, which the rule may overwrite.
    ///
    /// # Errors
    /// Device errors.
    #[doc(hidden)]
    fn apply<S: Shape, D: HostSlices>(
        &self,
        step: i32,
        p: &mut Tensor<S, f32, D>,
        slots: &mut [Buf<D>],
        g: &mut Buf<D>,
    ) -> Result<(), D::Err>;
}

impl UpdateRule for AdamConfig {
    const NAME: &'static str = "adam";
    const SLOTS: &'static [&'static str] = &["moment1", "moment2"];
    fn apply<S: Shape, D: HostSlices>(
        &self,
        step: i32,
        p: &mut Tensor<S, f32, D>,
        slots: &mut [Buf<D>],
        g: &mut Buf<D>,
    ) -> Result<(), D::Err> {
        match slots {
            [m, v] => self.try_update(step, p, m, v, g),
            _ => Ok(()),
        }
    }
}

impl UpdateRule for SgdConfig {
    const NAME: &'static str = "sgd";
    const SLOTS: &'static [&'static str] = &["velocity"];
    fn apply<S: Shape, D: HostSlices>(
        &self,
        _step: i32,
        p: &mut Tensor<S, f32, D>,
        slots: &mut [Buf<D>],
        g: &mut Buf<D>,
    ) -> Result<(), D::Err> {
        match slots {
            [velocity] => self.try_update(p, velocity, g),
            _ => Ok(()),
        }
    }
}

impl UpdateRule for RMSpropConfig {
    const NAME: &'static str = "rmsprop";
    const SLOTS: &'static [&'static str] = &["momentum", "square_avg", "grad_avg"];
    fn starts_at_one(slot: usize) -> bool {
        // dfdx fills the square average with ones before the first step
        slot == 1
    }
    fn apply<S: Shape, D: HostSlices>(
        &self,
        _step: i32,
        p: &mut Tensor<S, f32, D>,
        slots: &mut [Buf<D>],
        g: &mut Buf<D>,
    ) -> Result<(), D::Err> {
        match slots {
            [m, sa, ga] => self.try_update(p, m, sa, ga, g),
            _ => Ok(()),
        }
    }
}

macro_rules! learning_rate {
    ($($cfg:ty),*) => {$(
        impl LearningRate for $cfg {
            fn lr(&self) -> f64 {
                self.lr
            }
            fn set_lr(&mut self, lr: f64) {
                self.lr = lr;
            }
        }
    )*};
}
learning_rate!(AdamConfig, SgdConfig, RMSpropConfig);
