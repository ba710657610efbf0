//! Losses with Keras's names, each tied at compile time to the model output and targets it fits.
//!
//! A loss implements [`Loss<Out, T>`] only for the output shapes `Out` and target kinds `T` it is
//! defined for: [`SparseCategoricalCrossentropy`] takes `N` logits and [`Classes<N>`] with the same
//! `N`, so a 10-class data set with a 9-wide model is a compile error.
//!
//! Every loss is implemented for each float type `E` of the model (`Loss<Out, T, E>`, `f32`
//! unless named): an `f64` model trains on the same losses with `f64` targets.

use crate::data::{Classes, Target, ValueImages, ValueSequences, Values};
use dfdx::prelude::*;

mod pairing;
mod per_output;
mod tokens;
pub use pairing::{
    ClassCount, ClassScores, DistributionScores, ImageSize, SequenceSize, ValueCount, ValueTargets,
};
pub use per_output::Losses;
pub use tokens::TokenCrossentropy;

/// A batch's output shape: a runtime batch size and `N` outputs per sample.
pub type BatchOutput<const N: usize> = (usize, Const<N>);

/// A training objective: the mean loss of a batch of model outputs against their targets.
#[diagnostic::on_unimplemented(
    message = "the loss `{Self}` does not fit a model output of shape `{Out}` with targets `{T}`",
    label = "this loss cannot compare these outputs with these targets",
    note = "class-index losses need `Classes<N>` targets and N outputs; value losses need targets shaped like the output (`Values<N>` for N outputs, `ValueImages<C, H, W>` for images)"
)]
pub trait Loss<Out: Shape, T: Target, E: Dtype = f32> {
    /// Where a one-wide output this loss trains is split into class 0 and class 1: `0.5` for
    /// probabilities (the default), `0` for logits ([`BinaryCrossentropyWithLogits`]). The
    /// trainer hands it to the metrics, so `accuracy` thresholds logits at 0.
    fn binary_threshold(&self) -> f32 {
        0.5
    }
    /// The threshold of output `output` of a model with several outputs
    /// ([`Losses`] answers per output); [`Loss::binary_threshold`] otherwise.
    fn output_threshold(&self, output: usize) -> f32 {
        let _ = output;
        self.binary_threshold()
    }
    /// The mean loss over the batch, recorded on the output's tape.
    fn try_loss<D: Device<E>, Tp: Tape<E, D>>(
        &self,
        output: Tensor<Out, E, D, Tp>,
        targets: &T::Batch<E, D>,
    ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err>;
}

/// A loss on real-valued targets, defined element by element whatever the output's shape: it is
/// a [`Loss`] for every target kind shaped like the output — [`Values<N>`] for `(batch, N)`,
/// [`ValueSequences<S, N>`] for `(batch, S, N)`, [`ValueImages<C, H, W>`] for
/// `(batch, C, H, W)`. Implement it for a loss of your own to get all three.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// use typenet::losses::ValueLoss;
/// # fn main() -> std::result::Result<(), CpuError> {
/// let dev = Cpu::default();
/// let y = dev.tensor_from_vec(vec![1.0f32, 2.0, 3.0, 5.0], (1, Const::<1>, Const::<2>, Const::<2>));
/// let t = dev.tensor_from_vec(vec![1.0f32, 2.0, 3.0, 3.0], (1, Const::<1>, Const::<2>, Const::<2>));
/// // one error of 2 among four values
/// assert_eq!(MeanSquaredError.try_value_loss(y, &t)?.array(), 1.0);
/// # Ok(()) }
/// ```
pub trait ValueLoss {
    /// As [`Loss::binary_threshold`].
    fn binary_threshold(&self) -> f32 {
        0.5
    }
    /// The mean loss over every element of the batch, recorded on the output's tape.
    fn try_value_loss<S: Shape, E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        &self,
        output: Tensor<S, E, D, Tp>,
        targets: &Tensor<S, E, D>,
    ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err>;
}

/// Implements [`Loss`] for a [`ValueLoss`] and one target kind of real values, for any output
/// shape that [`ValueTargets`] pairs with it (so a mismatch names both shapes).
macro_rules! value_loss_for {
    ([$($g:tt)*] $target:ty) => {
        impl<E: Dtype, L: ValueLoss, Out: ValueTargets<$target>, $($g)*> Loss<Out, $target, E> for L {
            fn binary_threshold(&self) -> f32 {
                ValueLoss::binary_threshold(self)
            }
            fn try_loss<D: Device<E>, Tp: Tape<E, D>>(
                &self,
                output: Tensor<Out, E, D, Tp>,
                targets: &<$target as Target>::Batch<E, D>,
            ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err> {
                self.try_value_loss(output, Out::targets(targets))
            }
        }
    };
}
value_loss_for!([const N: usize] Values<N>);
value_loss_for!([const S: usize, const N: usize] ValueSequences<S, N>);
value_loss_for!([const C: usize, const H: usize, const W: usize] ValueImages<C, H, W>);

/// Cross-entropy from logits and class indices: `-mean_i log softmax(z_i)[y_i]`.
///
/// The model's last layer outputs raw scores (no softmax): the softmax is fused into the loss,
/// which is exact where `softmax` followed by `log` underflows.
///
/// **Keras equivalent**: `SparseCategoricalCrossentropy(from_logits=True)`.
/// **PyTorch equivalent**: `nn.CrossEntropyLoss()`.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> std::result::Result<(), CpuError> {
/// let dev = Cpu::default();
/// let logits = dev.tensor_from_vec(vec![0.0f32, 0.0, 0.0, 0.0], (2, Const::<2>));
/// let labels = dev.tensor_from_vec(vec![0usize, 1], (2,));
/// let loss = SparseCategoricalCrossentropy.try_loss(logits, &labels)?;
/// assert!((loss.array() - std::f32::consts::LN_2).abs() < 1e-6); // uniform over 2 classes
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SparseCategoricalCrossentropy;

impl<E: Dtype, Out: ClassScores<N>, const N: usize> Loss<Out, Classes<N>, E>
    for SparseCategoricalCrossentropy
{
    fn try_loss<D: Device<E>, Tp: Tape<E, D>>(
        &self,
        output: Tensor<Out, E, D, Tp>,
        targets: &Tensor<(usize,), usize, D>,
    ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err> {
        Out::scores(output)
            .try_log_softmax::<Axis<1>>()?
            .try_select(targets.clone())?
            .try_mean()?
            .try_negate()
    }
}

/// Cross-entropy from logits and target distributions (one-hot or soft labels):
/// `-mean_i Σ_c t_ic log softmax(z_i)_c`.
///
/// **Keras equivalent**: `CategoricalCrossentropy(from_logits=True)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CategoricalCrossentropy;

impl<E: Dtype, Out: DistributionScores<N>, const N: usize> Loss<Out, Values<N>, E>
    for CategoricalCrossentropy
{
    fn try_loss<D: Device<E>, Tp: Tape<E, D>>(
        &self,
        output: Tensor<Out, E, D, Tp>,
        targets: &Tensor<BatchOutput<N>, E, D>,
    ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err> {
        Out::scores(output)
            .try_log_softmax::<Axis<1>>()?
            .try_mul(targets.clone())?
            .try_sum::<(usize,), _>()?
            .try_mean()?
            .try_negate()
    }
}

/// Mean squared error: `mean (y - t)²`, the usual regression loss.
///
/// **Keras equivalent**: `MeanSquaredError()`. **PyTorch equivalent**: `nn.MSELoss()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MeanSquaredError;

impl ValueLoss for MeanSquaredError {
    fn try_value_loss<S: Shape, E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        &self,
        output: Tensor<S, E, D, Tp>,
        targets: &Tensor<S, E, D>,
    ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err> {
        output
            .try_sub(targets.clone())?
            .try_square()?
            .try_mean::<Rank0, S::AllAxes>()
    }
}

/// Mean absolute error: `mean |y - t|`.
///
/// **Keras equivalent**: `MeanAbsoluteError()`. **PyTorch equivalent**: `nn.L1Loss()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MeanAbsoluteError;

impl ValueLoss for MeanAbsoluteError {
    fn try_value_loss<S: Shape, E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        &self,
        output: Tensor<S, E, D, Tp>,
        targets: &Tensor<S, E, D>,
    ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err> {
        output
            .try_sub(targets.clone())?
            .try_abs()?
            .try_mean::<Rank0, S::AllAxes>()
    }
}

/// Huber loss: `½ e²` where `|e| < δ`, else `δ (|e| - ½ δ)`, averaged.
///
/// **Keras equivalent**: `Huber(delta)`. **PyTorch equivalent**: `nn.HuberLoss(delta=…)`.
#[derive(Debug, Clone, Copy)]
pub struct Huber {
    /// Where the loss turns from quadratic to linear. Default `1.0`.
    pub delta: f32,
}

impl Default for Huber {
    fn default() -> Self {
        Huber { delta: 1.0 }
    }
}

impl ValueLoss for Huber {
    fn try_value_loss<S: Shape, E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        &self,
        output: Tensor<S, E, D, Tp>,
        targets: &Tensor<S, E, D>,
    ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err> {
        output
            .try_huber_error(targets.clone(), self.delta)?
            .try_mean::<Rank0, S::AllAxes>()
    }
}

/// Binary cross-entropy from probabilities (a `Sigmoid` output):
/// `-mean [t ln p + (1 - t) ln(1 - p)]`, the binary classification loss.
///
/// `p` is clamped to `[ε, 1 - ε]` with `ε = 1e-7` (Keras's epsilon) so a saturated sigmoid gives
/// a large finite loss instead of infinity. Prefer [`BinaryCrossentropyWithLogits`] for training.
///
/// **Saturation**: an output at or beyond the clamp (`p ≤ 1e-7` or `p ≥ 1 − 1e-7`, which in
/// `f32` is `1 − 1.19e-7`) contributes at most `−ln 1e-7 ≈ 16.12` (about `15.94` at the upper
/// end in `f32`) however wrong it is, and **no gradient at all**: the clamp's derivative is 0
/// there, so a sigmoid saturated on the wrong side stops learning. This is Keras's behaviour
/// (`keras.losses.binary_crossentropy` clips the same way). PyTorch's `nn.BCELoss` instead clamps
/// each log at −100 and keeps a huge gradient (`1 / max(p(1 − p), 1e-12)`, up to `1e12` per
/// element); [`BceLoss`] computes that.
///
/// **Keras equivalent**: `BinaryCrossentropy()`. **PyTorch equivalent**: `nn.BCELoss()` away
/// from saturation (within `[1e-7, 1 − 1e-7]` the two agree to rounding), else [`BceLoss`].
#[derive(Debug, Clone, Copy, Default)]
pub struct BinaryCrossentropy;

/// Keras's `backend.epsilon()`.
const BCE_EPSILON: f64 = 1e-7;

impl ValueLoss for BinaryCrossentropy {
    fn try_value_loss<S: Shape, E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        &self,
        output: Tensor<S, E, D, Tp>,
        targets: &Tensor<S, E, D>,
    ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err> {
        let p = output.try_clamp(BCE_EPSILON, 1.0 - BCE_EPSILON)?;
        let t = targets.clone();
        let one_minus_t = t.clone().try_negate()?.try_add(E::ONE)?;
        let pos = p.with_empty_tape().try_ln()?.try_mul(t)?;
        let neg = p
            .try_negate()?
            .try_add(E::ONE)?
            .try_ln()?
            .try_mul(one_minus_t)?;
        pos.try_add(neg)?
            .try_mean::<Rank0, S::AllAxes>()?
            .try_negate()
    }
}

/// Binary cross-entropy from logits, computed stably as
/// `mean [max(z, 0) - z t + ln(1 + e^{-|z|})]`.
///
/// **Keras equivalent**: `BinaryCrossentropy(from_logits=True)`.
/// **PyTorch equivalent**: `nn.BCEWithLogitsLoss()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BinaryCrossentropyWithLogits;

impl ValueLoss for BinaryCrossentropyWithLogits {
    fn binary_threshold(&self) -> f32 {
        0.0 // sigmoid(z) >= 0.5 exactly when z >= 0
    }
    fn try_value_loss<S: Shape, E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        &self,
        output: Tensor<S, E, D, Tp>,
        targets: &Tensor<S, E, D>,
    ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err> {
        output
            .try_bce_with_logits(targets.clone())?
            .try_mean::<Rank0, S::AllAxes>()
    }
}

/// Binary cross-entropy from probabilities exactly as PyTorch's `nn.BCELoss()` computes it:
/// `-mean [t max(ln p, −100) + (1 − t) max(ln(1 − p), −100)]`, with PyTorch's gradient
/// `(p − t) / max(p (1 − p), 1e-12)` per element (divided by the element count).
///
/// Unlike [`BinaryCrossentropy`] (Keras's clip), a saturated output is not silenced: `p = 1`
/// with target 0 costs 100 and pushes back with a gradient of `1e12`. The gradient is PyTorch's
/// formula, not the derivative of the clamped logs (which would be 0 where a log is clamped).
/// A NaN output gives a NaN loss, which `fit`'s guard reports.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> std::result::Result<(), CpuError> {
/// let dev = Cpu::default();
/// let p = dev.tensor_from_vec(vec![1.0f32, 0.5], (2, Const::<1>));
/// let t = dev.tensor_from_vec(vec![0.0f32, 1.0], (2, Const::<1>));
/// // mean of 100 (the clamped log) and ln 2
/// let loss = BceLoss.try_loss(p.leaky_trace(), &t)?;
/// assert!((loss.array() - (100.0 + std::f32::consts::LN_2) / 2.0).abs() < 1e-4);
/// # Ok(()) }
/// ```
///
/// **PyTorch equivalent**: `nn.BCELoss()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BceLoss;

/// PyTorch's floor on `p (1 − p)` in `BCELoss`'s gradient.
const BCE_TORCH_EPSILON: f64 = 1e-12;

impl ValueLoss for BceLoss {
    fn try_value_loss<S: Shape, E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        &self,
        output: Tensor<S, E, D, Tp>,
        targets: &Tensor<S, E, D>,
    ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err> {
        // ln clamped at −100; a NaN stays NaN (`f64::max` would drop it)
        let floor = |v: f64| if v < -100.0 { -100.0 } else { v };
        let float = |v: f64| E::from_f64(v).unwrap_or_default();
        let (ps, ts) = (output.as_vec(), targets.as_vec());
        let mut loss = Vec::with_capacity(ps.len());
        let mut slope = Vec::with_capacity(ps.len());
        for (p, t) in ps.into_iter().zip(ts) {
            let p = p.to_f64().unwrap_or(f64::NAN);
            let t = t.to_f64().unwrap_or(f64::NAN);
            loss.push(float(
                -(t * floor(p.ln()) + (1.0 - t) * floor((-p).ln_1p())),
            ));
            slope.push(float((p - t) / (p * (1.0 - p)).max(BCE_TORCH_EPSILON)));
        }
        // Each element is ℓ + (p·w − p·w) with ℓ and w constants: the value is ℓ exactly (both
        // products are the same op on the same numbers) and the gradient through the taped
        // p·w is w, PyTorch's. Buffers come from the device (its allocation cache), not from
        // vectors handed over each step.
        let dev = output.device().clone();
        let shape = *output.shape();
        let mut ell = dev.try_zeros_like(&shape)?;
        ell.copy_from(&loss);
        let mut w = dev.try_zeros_like(&shape)?;
        w.copy_from(&slope);
        let constant = output.retaped::<NoneTape>().try_mul(w.clone())?;
        output
            .try_mul(w)?
            .try_sub(constant)?
            .try_add(ell)?
            .try_mean::<Rank0, S::AllAxes>()
    }
}
