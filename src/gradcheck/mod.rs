//! Gradient checking: the tape's gradients against central finite differences, in f64.
//!
//! [`gradcheck`] runs a model (any dfdx module, tuple of modules or user layer that is a
//! [`TensorCollection`](dfdx::nn::tensor_collection::TensorCollection)) forward on the tape,
//! backpropagates the scalar `L = Σ y ⊙ W` (the output `y` weighted elementwise by a fixed random
//! tensor `W` with `|W| ∈ [0.5, 1.5]`, so every output element matters) and compares the
//! gradient of `L` with respect to
//! every trainable parameter tensor and to the input against the central difference
//!
//! ```text
//! ∂L/∂θ_i ≈ (L(θ + ε e_i) − L(θ − ε e_i)) / 2ε
//! ```
//!
//! An element passes when `|analytic − numeric| ≤ atol + rtol · |numeric|`, PyTorch's rule.
//! [`gradcheck_fn`] does the same for any function of one tensor (a loss, a custom op).
//! [`strategy`] holds proptest strategies for inputs and seeded models.
//!
//! Both run on the input's device: the CPU as a rule, or CUDA to check a layer's GPU path
//! (`tests/it/cuda.rs` checks the conv layers there). The strategies build CPU tensors and models
//! by default, and any device's with [`strategy::tensor_on`] and [`strategy::model_on`].
//!
//! Layers that draw random numbers in training mode (dropout) must be checked with a fixed mask:
//! every evaluation of `L` has to see the same function. Kinks (ReLU and `abs` at 0, ties in
//! `max`) make the central difference meaningless within `ε` of them; the strategies keep inputs
//! away from them.
//!
//! **PyTorch equivalent**: `torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5,
//! rtol=1e-3, fast_mode=True)`.

mod check;
mod report;
pub mod strategy;
mod visit;

pub use check::{gradcheck, gradcheck_fn, GradCheckModel};
pub use report::{GradCheckReport, TensorCheck};

/// Settings of [`gradcheck`] and [`gradcheck_fn`]; the defaults are PyTorch's.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// let config = GradCheckConfig { max_elements: Some(32), ..Default::default() };
/// assert_eq!(config.eps, 1e-6);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheckConfig {
    /// Step of the central difference. Default `1e-6`.
    pub eps: f64,
    /// Absolute tolerance. Default `1e-5`.
    pub atol: f64,
    /// Relative tolerance, times `|numeric|`. Default `1e-3`.
    pub rtol: f64,
    /// Check at most this many elements of each tensor, sampled without replacement using
    /// `seed`; `None` checks every element. Default `None`.
    pub max_elements: Option<usize>,
    /// Also check the gradient with respect to the input. Default `true`.
    pub check_input: bool,
    /// Seed of the output weighting `W` and of the sampled elements. Default `0`.
    pub seed: u64,
}

impl Default for GradCheckConfig {
    fn default() -> Self {
        GradCheckConfig {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            max_elements: None,
            check_input: true,
            seed: 0,
        }
    }
}
