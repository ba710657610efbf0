//! Integrated gradients (Sundararajan, Taly and Yan 2017).

use super::explainable::{class_gradients, Explainable};
use crate::data::BatchShape;
use crate::{Error, Result};
use dfdx::prelude::*;

/// The attributions of [`integrated_gradients`], with the two scores they explain.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegratedGradients {
    /// One attribution per input value, in the sample's row-major order.
    pub attributions: Vec<f32>,
    /// The class score at the input, `f(x)`.
    pub score: f32,
    /// The class score at the baseline, `f(x′)`.
    pub baseline_score: f32,
}

impl IntegratedGradients {
    /// `Σᵢ IGᵢ`, the total attribution.
    pub fn total(&self) -> f64 {
        self.attributions.iter().map(|&a| a as f64).sum()
    }

    /// `Σᵢ IGᵢ − (f(x) − f(x′))`: zero for the exact integral (the completeness axiom); for the
    /// trapezoid sum it shrinks as `1 / steps²` on smooth models. A large gap means too few steps.
    pub fn completeness_gap(&self) -> f64 {
        self.total() - (self.score as f64 - self.baseline_score as f64)
    }
}

/// Integrated gradients of output `class` for sample `x` against `baseline`:
///
/// `IGᵢ(x) = (xᵢ − x′ᵢ) · ∫₀¹ ∂f(x′ + α(x − x′)) / ∂xᵢ dα`,
///
/// the integral taken by the trapezoid rule over `steps` equal intervals (`steps + 1` points
/// `α = k / steps`, the two ends weighted ½). All points run as one batch of `steps + 1` samples,
/// in inference mode: one forward and one backward pass. The attributions add up to
/// `f(x) − f(x′)` up to the quadrature error (see [`IntegratedGradients::completeness_gap`]);
/// Sundararajan et al. suggest 20 to 300 steps.
///
/// The baseline is an input that carries no signal: a black image (`dev.zeros()`) for images,
/// the feature means (zeros after standardisation) for tabular data.
///
/// # Errors
/// [`Error::InvalidArgument`] if `steps` is zero; [`Error::ClassOutOfRange`] if `class` is not
/// below the model's output width; device errors.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::seed_from_u64(0);
/// let model = dev.build_module::<(Linear<2, 4>, Tanh, Linear<4, 1>), f32>();
/// let x: Tensor<Rank1<2>, f32, _> = dev.tensor([1.0, -2.0]);
/// let ig = integrated_gradients(&model, &x, &dev.zeros(), 0, 100)?;
/// assert_eq!(ig.attributions.len(), 2);
/// assert!(ig.completeness_gap().abs() < 1e-3);
/// # Ok(()) }
/// ```
///
/// **PyTorch equivalent**: Captum's
/// `IntegratedGradients(model).attribute(x, baselines=b, target=c, n_steps=…, method="riemann_trapezoid")`.
pub fn integrated_gradients<S, M, D>(
    model: &M,
    x: &Tensor<S, f32, D>,
    baseline: &Tensor<S, f32, D>,
    class: usize,
    steps: usize,
) -> Result<IntegratedGradients>
where
    S: BatchShape,
    D: Device<f32>,
    M: Explainable<S::Batched, D>,
{
    if steps == 0 {
        return Err(Error::InvalidArgument {
            what: "integrated gradients step count",
            value: "0".into(),
            expected: "at least 1".into(),
        });
    }
    let (xs, bs) = (x.as_vec(), baseline.as_vec());
    let mut path = Vec::with_capacity(xs.len() * (steps + 1));
    for k in 0..=steps {
        let alpha = k as f32 / steps as f32;
        path.extend(xs.iter().zip(&bs).map(|(&x, &b)| b + alpha * (x - b)));
    }
    let g = class_gradients::<S, M, D>(model, x.device(), path, steps + 1, class)?;
    let n = xs.len();
    let mut integral = vec![0.0f64; n];
    for (k, row) in g.gradients.chunks_exact(n.max(1)).enumerate() {
        let weight = if k == 0 || k == steps { 0.5 } else { 1.0 } / steps as f64;
        for (acc, &d) in integral.iter_mut().zip(row) {
            *acc += weight * d as f64;
        }
    }
    let attributions = integral
        .iter()
        .zip(xs.iter().zip(&bs))
        .map(|(&i, (&x, &b))| (i * (x as f64 - b as f64)) as f32)
        .collect();
    Ok(IntegratedGradients {
        attributions,
        score: g.scores.last().copied().unwrap_or(f32::NAN),
        baseline_score: g.scores.first().copied().unwrap_or(f32::NAN),
    })
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    /// Completeness (Sundararajan et al. 2017, proposition 1): Σᵢ IGᵢ = f(x) − f(x′).
    #[test]
    fn attributions_add_up_to_the_score_change() -> crate::Result<()> {
        let dev = Cpu::seed_from_u64(7);
        let model =
            dev.build_module::<(Linear<6, 16>, Tanh, Linear<16, 16>, Tanh, Linear<16, 3>), f32>();
        let x: Tensor<Rank1<6>, f32, _> = dev.tensor([0.9, -1.3, 0.4, 2.0, -0.2, 1.1]);
        let baseline: Tensor<Rank1<6>, f32, _> = dev.tensor([0.1, 0.2, -0.3, 0.0, 0.5, -0.5]);
        for class in 0..3 {
            let ig = integrated_gradients(&model, &x, &baseline, class, 200)?;
            let delta = ig.score as f64 - ig.baseline_score as f64;
            // trapezoid error ~ 1/steps² on a smooth (tanh) model, plus f32 rounding
            assert!(
                ig.completeness_gap().abs() < 1e-4 + 1e-3 * delta.abs(),
                "class {class}: Σ IG = {} but f(x) − f(x′) = {delta}",
                ig.total()
            );
        }
        Ok(())
    }

    /// With ReLU the integrand jumps where a unit switches, so the sum converges more slowly.
    #[test]
    fn completeness_holds_for_relu_models_with_enough_steps() -> crate::Result<()> {
        let dev = Cpu::seed_from_u64(3);
        let model = dev.build_module::<(Linear<8, 32>, ReLU, Linear<32, 4>), f32>();
        let x: Tensor<Rank1<8>, f32, _> = dev.tensor([1.0, 0.5, -0.5, 2.0, 0.0, -1.0, 0.3, 0.8]);
        let ig = integrated_gradients(&model, &x, &dev.zeros(), 1, 300)?;
        let delta = (ig.score - ig.baseline_score) as f64;
        assert!(
            ig.completeness_gap().abs() < 0.01 * delta.abs().max(0.1),
            "{ig:?}"
        );
        Ok(())
    }

    /// On a linear model the gradient is constant, so IG is exactly w ⊙ (x − x′) for any steps.
    #[test]
    fn linear_model_attributions_are_weight_times_distance() -> crate::Result<()> {
        let dev = Cpu::seed_from_u64(2);
        let model = dev.build_module::<Linear<3, 2>, f32>();
        let x: Tensor<Rank1<3>, f32, _> = dev.tensor([1.0, -2.0, 0.5]);
        let b: Tensor<Rank1<3>, f32, _> = dev.tensor([0.5, 0.5, 0.5]);
        let ig = integrated_gradients(&model, &x, &b, 1, 1)?;
        let w = model.weight.as_vec();
        let expected = [w[3] * 0.5, w[4] * -2.5, w[5] * 0.0];
        for (a, e) in ig.attributions.iter().zip(expected) {
            assert!((a - e).abs() < 1e-6, "{a} vs {e}");
        }
        Ok(())
    }

    #[test]
    fn zero_steps_is_an_error() {
        let dev = Cpu::default();
        let model = dev.build_module::<Linear<2, 2>, f32>();
        let x: Tensor<Rank1<2>, f32, _> = dev.zeros();
        assert!(integrated_gradients(&model, &x, &x, 0, 0).is_err());
    }
}
