//! The CPU kernel of layer normalisation over the last axis on slices (its tape wiring is in
//! `nn::device`'s CPU implementation): one pass per row forward, keeping the normalised row and
//! `1/√(var + ε)` for the closed-form backward pass.

use super::KernelFloat;

/// Normalises each of the rows of `width` elements of `x` (mean 0, biased variance 1, with
/// `eps` added to the variance), then scales by `gamma` and shifts by `beta` into `y`. Writes the
/// normalised values to `xhat` and each row's `1/√(var + ε)` to `inv_std`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn layer_norm_forward<E: KernelFloat>(
    width: usize,
    eps: E,
    x: &[E],
    gamma: &[E],
    beta: &[E],
    y: &mut [E],
    xhat: &mut [E],
    inv_std: &mut [E],
) {
    if width == 0 {
        return;
    }
    let n = E::from(width).unwrap_or(E::one());
    let rows = x
        .chunks_exact(width)
        .zip(y.chunks_exact_mut(width))
        .zip(xhat.chunks_exact_mut(width))
        .zip(inv_std.iter_mut());
    for (((xr, yr), hr), is) in rows {
        let mean = xr.iter().fold(E::zero(), |a, &v| a + v) / n;
        let var = xr
            .iter()
            .fold(E::zero(), |a, &v| a + (v - mean) * (v - mean))
            / n;
        let inv = E::one() / (var + eps).sqrt();
        *is = inv;
        for j in 0..width {
            let h = (xr[j] - mean) * inv;
            hr[j] = h;
            yr[j] = h * gamma[j] + beta[j];
        }
    }
}

/// The backward pass of [`layer_norm_forward`] given the output's gradient `gy`: adds the
/// input's gradient to `gx`, `gamma`'s to `dgamma` and `beta`'s to `dbeta`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn layer_norm_backward<E: KernelFloat>(
    width: usize,
    gy: &[E],
    xhat: &[E],
    inv_std: &[E],
    gamma: &[E],
    gx: &mut [E],
    dgamma: &mut [E],
    dbeta: &mut [E],
) {
    if width == 0 {
        return;
    }
    let n = E::from(width).unwrap_or(E::one());
    let rows = gy
        .chunks_exact(width)
        .zip(xhat.chunks_exact(width))
        .zip(gx.chunks_exact_mut(width))
        .zip(inv_std);
    for (((gr, hr), dr), &inv) in rows {
        // with g = gy·gamma: dx = inv·(g − mean(g) − x̂·mean(g·x̂))
        let (mut sum_g, mut sum_gh) = (E::zero(), E::zero());
        for j in 0..width {
            let g = gr[j] * gamma[j];
            sum_g += g;
            sum_gh += g * hr[j];
            dgamma[j] += gr[j] * hr[j];
            dbeta[j] += gr[j];
        }
        let (mg, mgh) = (sum_g / n, sum_gh / n);
        for j in 0..width {
            dr[j] += inv * (gr[j] * gamma[j] - mg - hr[j] * mgh);
        }
    }
}
