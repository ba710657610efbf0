//! Batch normalisation over `(batch, chan, plane)` data (NCHW with `H·W` flattened to `plane`;
//! `(batch, chan)` features are planes of one): the per-channel batch statistics, the
//! normalise-scale-shift pass, and the closed-form backward pass.
//!
//! Each pass walks the data once in memory order, one contiguous plane at a time, summing into
//! eight lanes (vectorised) and each plane's total into an `f64` per channel, so long reductions
//! (a channel of a `64×32×32` batch sums 65,536 values) lose no precision in `f32`.

use super::KernelFloat;
use num_traits::NumCast;

/// A batch norm's runtime sizes and settings: its input holds `batch` blocks of the layer's
/// channels, each `plane` contiguous values (`(batch, C, H, W)` has `plane = H·W`; `(batch, C)`
/// features have `plane = 1`), normalised with `epsilon` added to the variance; training updates
/// the running statistics with `momentum` (`running = running·(1 − momentum) + batch·momentum`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchNormGeom {
    /// Leading (batch) size.
    pub batch: usize,
    /// Values per channel and sample.
    pub plane: usize,
    /// Added to the variance before its square root.
    pub epsilon: f64,
    /// The weight of the new batch statistics in the running ones.
    pub momentum: f64,
}

impl BatchNormGeom {
    /// The sizes of an input of `chan` channels.
    pub(crate) fn dims(&self, chan: usize) -> BnDims {
        BnDims {
            batch: self.batch,
            chan,
            plane: self.plane,
        }
    }
}

/// The sizes of a batch-norm input: `batch` blocks of `chan` planes of `plane` contiguous values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BnDims {
    /// Leading (batch) size.
    pub batch: usize,
    /// Channels.
    pub chan: usize,
    /// Values per channel and sample (`H·W` for images, 1 for features).
    pub plane: usize,
}

impl BnDims {
    /// Values each channel's statistics are taken over.
    pub fn count(&self) -> usize {
        self.batch * self.plane
    }

    /// Every `(channel, plane)` of the data, in memory order.
    fn planes<'a, E>(&self, v: &'a [E]) -> impl Iterator<Item = (usize, &'a [E])> + 'a {
        let chan = self.chan.max(1);
        v.chunks_exact(self.plane.max(1))
            .enumerate()
            .map(move |(i, p)| (i % chan, p))
    }
}

const LANES: usize = 8;

/// `E` from `f64` (every finite `f64` converts to `f32` and `f64`, the infinities and NaN too).
pub(crate) fn from_f64<E: KernelFloat>(v: f64) -> E {
    <E as NumCast>::from(v).unwrap_or_else(E::nan)
}

/// `E` as `f64`.
fn to_f64<E: KernelFloat>(v: E) -> f64 {
    v.to_f64().unwrap_or(f64::NAN)
}

/// `Σ f(v[i])` in eight lanes of `E`, returned as `f64`.
#[inline(always)]
fn lane_sum<E: KernelFloat>(v: &[E], f: impl Fn(E) -> E) -> f64 {
    let mut acc = [E::zero(); LANES];
    let mut chunks = v.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += f(x);
        }
    }
    let tail = chunks.remainder().iter().fold(E::zero(), |s, &x| s + f(x));
    acc.iter().fold(to_f64(tail), |s, &a| s + to_f64(a))
}

/// `(Σ a[i], Σ a[i]·f(b[i]))` in eight lanes of `E`, returned as `f64`s.
#[inline(always)]
fn lane_sum2<E: KernelFloat>(a: &[E], b: &[E], f: impl Fn(E) -> E) -> (f64, f64) {
    let (mut s, mut t) = ([E::zero(); LANES], [E::zero(); LANES]);
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (xa, xb) in (&mut ca).zip(&mut cb) {
        for l in 0..LANES {
            s[l] += xa[l];
            t[l] += xa[l] * f(xb[l]);
        }
    }
    let (mut s0, mut t0) = (0.0, 0.0);
    for (&x, &y) in ca.remainder().iter().zip(cb.remainder()) {
        s0 += to_f64(x);
        t0 += to_f64(x * f(y));
    }
    let s = s.iter().fold(s0, |acc, &v| acc + to_f64(v));
    let t = t.iter().fold(t0, |acc, &v| acc + to_f64(v));
    (s, t)
}

/// The batch mean and biased (divide-by-`N`) variance of each channel, `N = batch·plane`, into
/// `mean` and `var` (`chan` each): two passes, the variance from centred values.
pub(crate) fn batch_norm_stats<E: KernelFloat>(d: BnDims, x: &[E], mean: &mut [E], var: &mut [E]) {
    let n = d.count() as f64;
    let mut sum = vec![0.0f64; d.chan];
    for (c, p) in d.planes(x) {
        sum[c] += lane_sum(p, |v| v);
    }
    for (m, s) in mean.iter_mut().zip(&sum) {
        *m = from_f64(s / n);
    }
    sum.fill(0.0);
    for (c, p) in d.planes(x) {
        let m = mean[c];
        sum[c] += lane_sum(p, |v| (v - m) * (v - m));
    }
    for (v, s) in var.iter_mut().zip(&sum) {
        *v = from_f64(s / n);
    }
}

/// `y = (x − mean[c])·a[c] + bias[c]` for every value of channel `c` (the normalisation and
/// the affine in one pass; centring first keeps a large mean from cancelling precision away).
pub(crate) fn batch_norm_apply<E: KernelFloat>(
    d: BnDims,
    x: &[E],
    mean: &[E],
    a: &[E],
    bias: &[E],
    y: &mut [E],
) {
    let plane = d.plane.max(1);
    for ((c, p), out) in d.planes(x).zip(y.chunks_exact_mut(plane)) {
        let (m, a, b) = (mean[c], a[c], bias[c]);
        for (o, &v) in out.iter_mut().zip(p) {
            *o = (v - m) * a + b;
        }
    }
}

/// `1/√(var + ε)` per channel and the normalisation's factors `scale/√(var + ε)`, computed in
/// `f64`.
pub(crate) fn batch_norm_factors<E: KernelFloat>(
    scale: &[E],
    var: &[E],
    epsilon: f64,
) -> (Vec<E>, Vec<E>) {
    let (mut inv_std, mut a) = (Vec::with_capacity(var.len()), Vec::with_capacity(var.len()));
    for (&s, &v) in scale.iter().zip(var) {
        let inv = 1.0 / (to_f64(v) + epsilon).sqrt();
        inv_std.push(from_f64(inv));
        a.push(from_f64(to_f64(s) * inv));
    }
    (inv_std, a)
}

/// The backward pass of training-mode batch norm, given the forward input `x`, its batch `mean`
/// and `inv_std = 1/√(var + ε)` per channel, the layer's `scale` and the output's gradient `dy`.
/// With `x̂ = (x − mean)·inv_std` and `N = batch·plane`, adds
/// - `dx = scale·inv_std/N · (N·dy − Σdy − x̂·Σ(dy·x̂))` into `dx`,
/// - `Σ(dy·x̂)` into `dscale[c]` and `Σdy` into `dbias[c]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn batch_norm_backward<E: KernelFloat>(
    d: BnDims,
    x: &[E],
    dy: &[E],
    mean: &[E],
    inv_std: &[E],
    scale: &[E],
    dx: &mut [E],
    dscale: &mut [E],
    dbias: &mut [E],
) {
    let plane = d.plane.max(1);
    let (mut sdy, mut sdyx) = (vec![0.0f64; d.chan], vec![0.0f64; d.chan]);
    for ((c, p), g) in d.planes(x).zip(dy.chunks_exact(plane)) {
        let m = mean[c];
        let (s, t) = lane_sum2(g, p, |v| v - m);
        sdy[c] += s;
        sdyx[c] += t;
    }
    // dx = p·dy + q·(x − mean) + r per channel.
    let n = d.count() as f64;
    let mut coef = Vec::with_capacity(d.chan);
    for c in 0..d.chan {
        let inv = to_f64(inv_std[c]);
        let dot = sdyx[c] * inv; // Σ(dy·x̂)
        dscale[c] += from_f64(dot);
        dbias[c] += from_f64(sdy[c]);
        let p = to_f64(scale[c]) * inv;
        let q = -p * dot * inv / n;
        let r = -p * sdy[c] / n;
        coef.push((from_f64::<E>(p), from_f64::<E>(q), from_f64::<E>(r)));
    }
    for (((c, p), g), out) in d
        .planes(x)
        .zip(dy.chunks_exact(plane))
        .zip(dx.chunks_exact_mut(plane))
    {
        let (pc, qc, rc) = coef[c];
        let m = mean[c];
        for ((o, &v), &gy) in out.iter_mut().zip(p).zip(g) {
            *o += pc * gy + (qc * (v - m) + rc);
        }
    }
}
