//! The update rules: dfdx's configurations and their per-tensor kernels.

use dfdx::optim::{AdamConfig, RMSpropConfig, SgdConfig};
use dfdx::prelude::*;

/// The per-parameter buffer type of the CPU device.
pub(crate) type Buf = <Cpu as Storage<f32>>::Vec;

/// An optimizer's update rule: the state buffers it keeps per parameter and how one step
/// changes a parameter and its buffers.
///
/// Implemented for dfdx's [`AdamConfig`], [`SgdConfig`] and [`RMSpropConfig`]; the step is
/// dfdx's own kernel.
pub trait UpdateRule: Clone + std::fmt::Debug {
    /// A short name stored with the state (`adam`, `sgd`, `rmsprop`).
    const NAME: &'static str;
    /// Names of the buffers kept per parameter, e.g. `["moment1", "moment2"]`.
    const SLOTS: &'static [&'static str];
    /// The value a buffer starts at (RMSprop's square average starts at 1, as in dfdx).
    fn initial(_slot: usize) -> f32 {
        0.0
    }
    /// The learning rate.
    fn lr(&self) -> f64;
    /// Sets the learning rate.
    fn set_lr(&mut self, lr: f64);
    /// One step on parameter `p` with gradient `g`; `step` counts updates from 1.
    ///
    /// # Errors
    /// Device errors.
    #[doc(hidden)]
    fn apply<S: Shape>(
        &self,
        step: i32,
        p: &mut Tensor<S, f32, Cpu>,
        slots: &mut [Buf],
        g: &Buf,
    ) -> Result<(), CpuError>;
}

impl UpdateRule for AdamConfig {
    const NAME: &'static str = "adam";
    const SLOTS: &'static [&'static str] = &["moment1", "moment2"];
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn apply<S: Shape>(
        &self,
        step: i32,
        p: &mut Tensor<S, f32, Cpu>,
        slots: &mut [Buf],
        g: &Buf,
    ) -> Result<(), CpuError> {
        match slots {
            [m, v] => self.try_update(step, p, m, v, g),
            _ => Ok(()),
        }
    }
}

impl UpdateRule for SgdConfig {
    const NAME: &'static str = "sgd";
    const SLOTS: &'static [&'static str] = &["velocity"];
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn apply<S: Shape>(
        &self,
        _step: i32,
        p: &mut Tensor<S, f32, Cpu>,
        slots: &mut [Buf],
        g: &Buf,
    ) -> Result<(), CpuError> {
        match slots {
            [velocity] => self.try_update(p, velocity, g),
            _ => Ok(()),
        }
    }
}

impl UpdateRule for RMSpropConfig {
    const NAME: &'static str = "rmsprop";
    const SLOTS: &'static [&'static str] = &["momentum", "square_avg", "grad_avg"];
    fn initial(slot: usize) -> f32 {
        // dfdx fills the square average with ones before the first step
        if slot == 1 {
            1.0
        } else {
            0.0
        }
    }
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn apply<S: Shape>(
        &self,
        _step: i32,
        p: &mut Tensor<S, f32, Cpu>,
        slots: &mut [Buf],
        g: &Buf,
    ) -> Result<(), CpuError> {
        match slots {
            [m, sa, ga] => self.try_update(p, m, sa, ga, g),
            _ => Ok(()),
        }
    }
}
