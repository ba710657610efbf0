//! typenet's own update rules, following PyTorch's `torch.optim` (or Keras's
//! `keras.optimizers`) step for step: [`RmsProp`] and [`AdamPrecise`].

use super::rules::Buf;
use super::{HostSlices, LearningRate, OptimizerConfig, Resumable, ResumableOptimizer, UpdateRule};
use crate::nn::TrainingDevice;
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::optim::{SgdConfig, WeightDecay};
use dfdx::prelude::*;

/// Whose update an optimizer follows where PyTorch and Keras differ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Convention {
    /// `torch.optim`'s update (the default).
    #[default]
    PyTorch,
    /// `keras.optimizers`' update (Keras 3).
    Keras,
}

/// RMSprop as PyTorch's `torch.optim.RMSprop` computes it by default, or as Keras's
/// `keras.optimizers.RMSprop` does with [`RmsProp::keras`]. Resumable: it builds a
/// [`ResumableOptimizer`] whose state saves and loads like the others.
///
/// Per element, with gradient `g` (plus `wd·p` for [`WeightDecay::L2`]) and the square
/// average `s` starting at 0:
/// - [`Convention::PyTorch`]: `s ← α s + (1 − α) g²`; centered: `ḡ ← ḡ + (1 − α)(g − ḡ)` and
///   `d = √(s − ḡ²) + ε`, else `d = √s + ε` (ε outside the root); with momentum `μ > 0`:
///   `b ← μ b + g / d`, `p ← p − lr·b`; else `p ← p − lr·g / d`.
/// - [`Convention::Keras`]: the same averages, `d = √(s − ḡ² + ε)` (ε inside the root) and the
///   learning rate inside the momentum: `b ← μ b + lr·g / d`, `p ← p − b`.
///
/// [`WeightDecay::Decoupled`]`(λ)` also subtracts `lr·λ·p` (Keras's `weight_decay`; PyTorch's
/// RMSprop has only the L2 form, its `weight_decay`). The square root, division and products
/// are `f32`; the coefficients are rounded from `f64` once per step.
///
/// dfdx's [`RMSpropConfig`](dfdx::optim::RMSpropConfig) differs from both: its square average
/// starts at 1, its default `alpha` is 0.9 and ε sits inside the root.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// // one step from w = 0 with gradient g: PyTorch's first step is lr·g / (√(0.01 g²) + ε) ≈ 10·lr
/// let dev = Cpu::default();
/// let mut w: Tensor<Rank1<1>, f32, _> = dev.zeros();
/// let mut opt = RmsProp::default().build(&w); // lr 0.01, alpha 0.99
/// let grads = (w.leaky_trace() * -0.5).sum().backward(); // g = −0.5
/// opt.update(&mut w, &grads)?;
/// assert!((w.array()[0] - 0.1).abs() < 1e-6);
/// # Ok(()) }
/// ```
///
/// **PyTorch equivalent**: `torch.optim.RMSprop(params, lr, alpha, eps, weight_decay, momentum,
/// centered)`. **Keras equivalent**: `keras.optimizers.RMSprop(learning_rate, rho, momentum,
/// epsilon, centered)` as [`RmsProp::keras`].
#[derive(Debug, Clone, Copy)]
pub struct RmsProp {
    /// Learning rate. PyTorch's default `1e-2`.
    pub lr: f64,
    /// Smoothing of the square average (Keras's `rho`). PyTorch's default `0.99`.
    pub alpha: f64,
    /// Added to the denominator (PyTorch) or under its root (Keras). PyTorch's default `1e-8`.
    pub eps: f64,
    /// Momentum `μ`; `0` for none (the default).
    pub momentum: f64,
    /// Divide by the variance estimate `s − ḡ²` instead of `s`. Default `false`.
    pub centered: bool,
    /// Optional weight decay. Default `None`.
    pub weight_decay: Option<WeightDecay>,
    /// Whose update: PyTorch's (the default) or Keras's.
    pub convention: Convention,
}

impl Default for RmsProp {
    /// PyTorch's defaults: `lr 1e-2, alpha 0.99, eps 1e-8`, no momentum, not centered.
    fn default() -> Self {
        RmsProp {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            momentum: 0.0,
            centered: false,
            weight_decay: None,
            convention: Convention::PyTorch,
        }
    }
}

impl RmsProp {
    /// Keras's RMSprop with Keras's defaults: `learning_rate 1e-3, rho 0.9, epsilon 1e-7`, no
    /// momentum, not centered.
    pub fn keras() -> Self {
        RmsProp {
            lr: 1e-3,
            alpha: 0.9,
            eps: 1e-7,
            convention: Convention::Keras,
            ..Default::default()
        }
    }
}

/// Adam as PyTorch's `torch.optim.Adam` / `AdamW` computes it by default, or as Keras's
/// `keras.optimizers.Adam` / `AdamW` does with [`AdamPrecise::keras`], with the bias
/// corrections `1 − β₁ᵗ`, `1 − β₂ᵗ` and the step size computed in `f64` as both frameworks do
/// (dfdx's [`AdamConfig`](dfdx::optim::AdamConfig) computes them in `f32`, which puts each
/// update off by up to about `1e-5` relative). Resumable, like [`RmsProp`].
///
/// Per element, with `m`, `v` starting at 0 and `t` counting steps from 1:
/// `m ← m + (1 − β₁)(g − m)`, `v ← β₂ v + (1 − β₂) g²`, then
/// - [`Convention::PyTorch`]: `p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`;
/// - [`Convention::Keras`]: `p ← p − (lr √(1 − β₂ᵗ) / (1 − β₁ᵗ)) · m / (√v + ε)` (ε not scaled by
///   the bias correction; the two agree unless `√v` is near ε).
///
/// [`WeightDecay::L2`]`(λ)` adds `λ p` to the gradient (PyTorch's `Adam(weight_decay=λ)`);
/// [`WeightDecay::Decoupled`]`(λ)` subtracts `lr·λ·p` (PyTorch's and Keras's `AdamW`).
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// // Adam's first step moves every weight by lr·g/(|g| + ε/…) ≈ lr, whatever the gradient's size
/// let dev = Cpu::default();
/// let mut w: Tensor<Rank1<2>, f32, _> = dev.zeros();
/// let mut opt = AdamPrecise { lr: 0.1, ..Default::default() }.build(&w);
/// let grads = (w.leaky_trace() * dev.tensor([3.0, -0.02])).sum().backward();
/// opt.update(&mut w, &grads)?;
/// let [a, b] = w.array();
/// assert!((a + 0.1).abs() < 1e-6 && (b - 0.1).abs() < 1e-5);
/// # Ok(()) }
/// ```
///
/// **PyTorch equivalent**: `torch.optim.Adam(params, lr, betas, eps, weight_decay)`, and
/// `AdamW` with `weight_decay: Some(WeightDecay::Decoupled(λ))`. **Keras equivalent**:
/// `keras.optimizers.Adam(learning_rate, beta_1, beta_2, epsilon)` as [`AdamPrecise::keras`].
#[derive(Debug, Clone, Copy)]
pub struct AdamPrecise {
    /// Learning rate. Default `1e-3`.
    pub lr: f64,
    /// `[β₁, β₂]`. Default `[0.9, 0.999]`.
    pub betas: [f64; 2],
    /// Added to the denominator. PyTorch's default `1e-8`.
    pub eps: f64,
    /// Optional weight decay: L2 (`Adam`) or decoupled (`AdamW`). Default `None`.
    pub weight_decay: Option<WeightDecay>,
    /// Whose update: PyTorch's (the default) or Keras's.
    pub convention: Convention,
}

impl Default for AdamPrecise {
    /// PyTorch's defaults: `lr 1e-3, betas (0.9, 0.999), eps 1e-8`.
    fn default() -> Self {
        AdamPrecise {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: None,
            convention: Convention::PyTorch,
        }
    }
}

impl AdamPrecise {
    /// Keras's Adam with Keras's defaults: `learning_rate 1e-3, beta_1 0.9, beta_2 0.999,
    /// epsilon 1e-7`.
    pub fn keras() -> Self {
        AdamPrecise {
            eps: 1e-7,
            convention: Convention::Keras,
            ..Default::default()
        }
    }
}

/// The L2 coefficient of `wd` as `f32`, if it is one.
fn l2(wd: Option<WeightDecay>) -> Option<f32> {
    match wd {
        Some(WeightDecay::L2(w)) => Some(w as f32),
        _ => None,
    }
}

/// Subtracts `delta` (the rule's step, held in `g`) from `p`, and `lr·λ·p` for a decoupled
/// decay `λ`: dfdx's plain SGD kernel with learning rate 1, which computes `p − (1·δ + lr·λ·p)`
/// on the parameter's device. `spare` is any buffer of `p`'s length (plain SGD never reads it).
fn subtract<S: Shape, D: HostSlices>(
    p: &mut Tensor<S, f32, D>,
    delta: &Buf<D>,
    spare: &mut Buf<D>,
    lr: f64,
    wd: Option<WeightDecay>,
) -> Result<(), D::Err> {
    let decoupled = match wd {
        Some(WeightDecay::Decoupled(w)) => Some(WeightDecay::Decoupled(w * lr)),
        _ => None,
    };
    SgdConfig {
        lr: 1.0,
        momentum: None,
        weight_decay: decoupled,
    }
    .try_update(p, spare, delta)
}

impl UpdateRule for RmsProp {
    const NAME: &'static str = "typenet.rmsprop";
    const SLOTS: &'static [&'static str] = &["square_avg", "grad_avg", "momentum_buffer"];

    fn apply<S: Shape, D: HostSlices>(
        &self,
        _step: i32,
        p: &mut Tensor<S, f32, D>,
        slots: &mut [Buf<D>],
        g: &mut Buf<D>,
    ) -> Result<(), D::Err> {
        let [sa, ga, mb] = slots else {
            return Ok(());
        };
        let decay = l2(self.weight_decay);
        let params = if decay.is_some() {
            p.as_vec()
        } else {
            Vec::new()
        };
        let (alpha, rest) = (self.alpha as f32, (1.0 - self.alpha) as f32);
        let (eps, lr, mu) = (self.eps as f32, self.lr as f32, self.momentum as f32);
        let (centered, keras) = (self.centered, self.convention == Convention::Keras);
        D::with_host_slices(&mut [&mut *g, &mut *sa, &mut *ga, &mut *mb], &mut |s| {
            let [g, sa, ga, mb] = s else {
                return;
            };
            for i in 0..g.len() {
                let mut gi = g[i];
                if let Some(w) = decay {
                    gi += w * params[i];
                }
                sa[i] = alpha * sa[i] + rest * (gi * gi);
                let mut var = sa[i];
                if centered {
                    ga[i] += rest * (gi - ga[i]);
                    var -= ga[i] * ga[i];
                }
                g[i] = if keras {
                    let inc = lr * gi / (var + eps).sqrt();
                    if mu > 0.0 {
                        mb[i] = mu * mb[i] + inc;
                        mb[i]
                    } else {
                        inc
                    }
                } else {
                    let step = gi / (var.sqrt() + eps);
                    if mu > 0.0 {
                        mb[i] = mu * mb[i] + step;
                        lr * mb[i]
                    } else {
                        lr * step
                    }
                };
            }
        })?;
        subtract(p, g, sa, self.lr, self.weight_decay)
    }
}

impl UpdateRule for AdamPrecise {
    const NAME: &'static str = "typenet.adam";
    const SLOTS: &'static [&'static str] = &["exp_avg", "exp_avg_sq"];

    fn apply<S: Shape, D: HostSlices>(
        &self,
        step: i32,
        p: &mut Tensor<S, f32, D>,
        slots: &mut [Buf<D>],
        g: &mut Buf<D>,
    ) -> Result<(), D::Err> {
        let [m, v] = slots else {
            return Ok(());
        };
        let decay = l2(self.weight_decay);
        let params = if decay.is_some() {
            p.as_vec()
        } else {
            Vec::new()
        };
        let [b1, b2] = self.betas;
        let (bc1, bc2) = (1.0 - b1.powi(step), 1.0 - b2.powi(step));
        let (rest1, b2f, rest2) = ((1.0 - b1) as f32, b2 as f32, (1.0 - b2) as f32);
        let eps = self.eps as f32;
        // the step size and root of the second correction, in f64 and rounded once
        let (size, root2) = match self.convention {
            Convention::PyTorch => ((self.lr / bc1) as f32, bc2.sqrt() as f32),
            Convention::Keras => ((self.lr * bc2.sqrt() / bc1) as f32, 1.0),
        };
        D::with_host_slices(&mut [&mut *g, &mut *m, &mut *v], &mut |s| {
            let [g, m, v] = s else {
                return;
            };
            for i in 0..g.len() {
                let mut gi = g[i];
                if let Some(w) = decay {
                    gi += w * params[i];
                }
                m[i] += rest1 * (gi - m[i]);
                v[i] = b2f * v[i] + rest2 * (gi * gi);
                g[i] = size * (m[i] / (v[i].sqrt() / root2 + eps));
            }
        })?;
        subtract(p, g, m, self.lr, self.weight_decay)
    }
}

macro_rules! typenet_rule {
    ($($rule:ty),*) => {$(
        impl LearningRate for $rule {
            fn lr(&self) -> f64 {
                self.lr
            }
            fn set_lr(&mut self, lr: f64) {
                self.lr = lr;
            }
        }

        impl<M, D> OptimizerConfig<M, D> for $rule
        where
            M: TensorCollection<f32, D>,
            D: TrainingDevice + HostSlices,
        {
            type Optimizer = ResumableOptimizer<M, $rule, D>;
            fn build(self, model: &M) -> Self::Optimizer {
                Resumable(self).build(model)
            }
        }
    )*};
}
typenet_rule!(RmsProp, AdamPrecise);
