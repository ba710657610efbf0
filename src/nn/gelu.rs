//! [`ExactGeLU`]: GELU in its erf form with the correct gradient.

use super::summary::Summarize;
use super::Params;
use dfdx::prelude::*;

/// GELU in its exact (erf) form, `x Φ(x)`, with gradient `Φ(x) + x φ(x)`: PyTorch's
/// `nn.GELU()` and Keras's `"gelu"`, forward and backward.
///
/// dfdx's [`AccurateGeLU`] computes the same values, but its backward pass drops the `1/√2` of
/// `d erf(x/√2)/dx`, so its gradient is `Φ(x) + √2 x φ(x)`: off by `(√2 − 1) x φ(x)`, up to 0.10
/// at `|x| = 1` (at `x = −1.8`, −0.165 instead of −0.106). This layer takes dfdx's values
/// and puts PyTorch's gradient on the tape (computed on the host in `f64`: one copy of the input
/// per forward pass). [`FastGeLU`] is the tanh approximation (`approximate="tanh"`).
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// let dev = Cpu::default();
/// let x = dev.tensor([0.0f32, 1.0]);
/// let y = ExactGeLU.forward(x.leaky_trace());
/// let phi1 = (-0.5f32).exp() / (2.0 * std::f32::consts::PI).sqrt(); // φ(1)
/// let cdf1 = 0.841_344_7; // Φ(1)
/// assert!((y.array()[1] - cdf1).abs() < 1e-6);
/// let g = y.sum().backward().get(&x).array();
/// assert!((g[0] - 0.5).abs() < 1e-6 && (g[1] - (cdf1 + phi1)).abs() < 1e-6);
/// ```
///
/// **PyTorch equivalent**: `nn.GELU()`. **Keras equivalent**: `activation="gelu"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExactGeLU;

impl ZeroSizedModule for ExactGeLU {}
impl NonMutableModule for ExactGeLU {}

impl Params for ExactGeLU {
    const PARAMS: usize = 0;
}

impl<In: ConstShape> Summarize<In> for ExactGeLU {
    type Output = In;
}

impl<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>> Module<Tensor<S, E, D, T>> for ExactGeLU {
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        let slope: Vec<E> = x
            .as_vec()
            .into_iter()
            .map(|v| {
                let v = v.to_f64().unwrap_or(f64::NAN);
                E::from_f64(gelu_slope(v)).unwrap_or_default()
            })
            .collect();
        let mut w = x.device().try_zeros_like(x.shape())?;
        w.copy_from(&slope);
        // y + (x·w − x·w): the value is dfdx's y exactly (the same product twice), the gradient
        // through the taped x·w is w
        let y = x.retaped::<NoneTape>().try_accurate_gelu()?;
        let constant = x.retaped::<NoneTape>().try_mul(w.clone())?;
        x.try_mul(w)?.try_sub(constant)?.try_add(y)
    }
}

/// `Φ(x) + x φ(x)`, the derivative of `x Φ(x)`.
fn gelu_slope(x: f64) -> f64 {
    let cdf = 0.5 * (1.0 + erf(x * std::f64::consts::FRAC_1_SQRT_2));
    let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    cdf + x * pdf
}

/// The error function to about `1e-15`: its Taylor series below 2.5, the continued fraction
/// of `erfc` above.
fn erf(x: f64) -> f64 {
    let a = x.abs();
    if a.is_nan() {
        return f64::NAN;
    }
    let r = if a < 2.5 {
        let x2 = a * a;
        let (mut term, mut sum) = (a, a);
        for n in 1..100 {
            term *= -x2 / n as f64;
            let add = term / (2 * n + 1) as f64;
            sum += add;
            if add.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else {
        // erfc(a) = e^{−a²}/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …))))
        let mut k = 0.0;
        for n in (1..=80).rev() {
            k = (n as f64 / 2.0) / (a + k);
        }
        1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / (a + k)
    };
    r.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        // erf(0.5), erf(1), erf(2), erf(3) from tables (15 digits)
        for (x, want) in [
            (0.5, 0.520_499_877_813_047),
            (1.0, 0.842_700_792_949_715),
            (2.0, 0.995_322_265_018_953),
            (3.0, 0.999_977_909_503_001),
        ] {
            assert!((erf(x) - want).abs() < 1e-14, "erf({x}) = {}", erf(x));
            assert!((erf(-x) + want).abs() < 1e-14);
        }
    }

    #[test]
    fn slope_matches_central_differences() {
        let f = |x: f64| 0.5 * x * (1.0 + erf(x * std::f64::consts::FRAC_1_SQRT_2));
        for x in [-3.0, -1.8, -0.3, 0.0, 0.7, 2.6] {
            let h = 1e-5;
            let numeric = (f(x + h) - f(x - h)) / (2.0 * h);
            assert!((gelu_slope(x) - numeric).abs() < 1e-8, "x = {x}");
        }
    }
}
