//! 2-D max and average pooling, forward and backward, one plane (image × channel) per task.

use super::scratch::take;
use super::KernelFloat;
use crate::nn::shape::window_size;
use rayon::prelude::*;

/// The runtime geometry of a 2-D pool over a batch of `(C, H, W)` images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dGeom {
    /// Planes (images × channels) in the batch.
    pub planes: usize,
    /// Input height.
    pub h_in: usize,
    /// Input width.
    pub w_in: usize,
    /// Square window size.
    pub kernel: usize,
    /// Stride (both directions).
    pub stride: usize,
    /// Padding (all four sides); padded positions never win a max and count as 0 in an average.
    pub padding: usize,
    /// Output height.
    pub h_out: usize,
    /// Output width.
    pub w_out: usize,
}

impl Pool2dGeom {
    /// The geometry, or `None` when the window does not fit the padded input or the stride is 0.
    pub fn new(
        planes: usize,
        h_in: usize,
        w_in: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Option<Self> {
        Some(Pool2dGeom {
            planes,
            h_in,
            w_in,
            kernel,
            stride,
            padding,
            h_out: window_size(h_in, kernel, stride, padding)?,
            w_out: window_size(w_in, kernel, stride, padding)?,
        })
    }
    /// The input range `lo..hi` covered by window `o` along a dimension of size `len`.
    fn span(&self, o: usize, len: usize) -> (usize, usize) {
        let start = o * self.stride;
        let lo = start.saturating_sub(self.padding).min(len);
        let hi = (start + self.kernel).saturating_sub(self.padding).min(len);
        (lo, hi.max(lo))
    }
    /// The spans of every output row and column (computed once, shared by all planes).
    fn spans(&self) -> (Vec<Span>, Vec<Span>) {
        let rows = (0..self.h_out).map(|o| self.span(o, self.h_in)).collect();
        let cols = (0..self.w_out).map(|o| self.span(o, self.w_in)).collect();
        (rows, cols)
    }
}

/// An input range `lo..hi`.
type Span = (usize, usize);

/// Marks an output whose window holds only padding (it has no argmax).
const NONE: u32 = u32::MAX;

/// Max-pool forward: the output (planes, Ho, Wo) and, per output, the argmax's index in its plane
/// (the index buffer comes from the kernels' scratch pool: see [`recycle`](super::recycle)).
pub fn max_pool_forward<E: KernelFloat>(g: &Pool2dGeom, x: &[E]) -> (Vec<E>, Vec<u32>) {
    let (hw_in, hw_out) = (g.h_in * g.w_in, g.h_out * g.w_out);
    let (rows, cols) = g.spans();
    let mut out = take(g.planes * hw_out, E::zero());
    let mut arg = take(g.planes * hw_out, NONE);
    out.par_chunks_mut(hw_out.max(1))
        .zip(arg.par_chunks_mut(hw_out.max(1)))
        .enumerate()
        .for_each(|(p, (out, arg))| {
            let img = &x[p * hw_in..][..hw_in];
            for (oh, &(h0, h1)) in rows.iter().enumerate() {
                let (out, arg) = (
                    &mut out[oh * g.w_out..][..g.w_out],
                    &mut arg[oh * g.w_out..][..g.w_out],
                );
                for ((o, a), &(w0, w1)) in out.iter_mut().zip(arg.iter_mut()).zip(&cols) {
                    if h0 == h1 || w0 == w1 {
                        // the window holds only padding
                        (*o, *a) = (E::zero(), NONE);
                        continue;
                    }
                    let (mut best, mut at) = (img[h0 * g.w_in + w0], h0 * g.w_in + w0);
                    for ih in h0..h1 {
                        let row = ih * g.w_in;
                        for (iw, &v) in img[row + w0..row + w1].iter().enumerate() {
                            // Selects, not a branch: on real data which element wins is random,
                            // and a mispredicted branch per element made this loop ~30% of a
                            // LeNet step. `!(v <= best)` also lets a NaN win, like PyTorch.
                            #[allow(clippy::neg_cmp_op_on_partial_ord)]
                            let wins = !(v <= best);
                            at = if wins { row + w0 + iw } else { at };
                            best = if wins { v } else { best };
                        }
                    }
                    (*o, *a) = (best, at as u32);
                }
            }
        });
    (out, arg)
}

/// Max-pool backward: scatters each output gradient onto its argmax in `gx`.
pub fn max_pool_backward<E: KernelFloat>(g: &Pool2dGeom, arg: &[u32], gout: &[E], gx: &mut [E]) {
    let (hw_in, hw_out) = (g.h_in * g.w_in, g.h_out * g.w_out);
    gx.par_chunks_mut(hw_in.max(1))
        .enumerate()
        .for_each(|(p, gx)| {
            let (arg, gout) = (&arg[p * hw_out..][..hw_out], &gout[p * hw_out..][..hw_out]);
            for (&a, &v) in arg.iter().zip(gout) {
                if a != NONE {
                    gx[a as usize] += v;
                }
            }
        });
}

/// Average-pool forward (padding counts as zeros: the divisor is always `kernel²`).
pub fn avg_pool_forward<E: KernelFloat>(g: &Pool2dGeom, x: &[E]) -> Vec<E> {
    let (hw_in, hw_out) = (g.h_in * g.w_in, g.h_out * g.w_out);
    let inv = E::one() / E::from_usize(g.kernel * g.kernel).unwrap_or_else(E::one);
    let (rows, cols) = g.spans();
    let mut out = take(g.planes * hw_out, E::zero());
    out.par_chunks_mut(hw_out.max(1))
        .enumerate()
        .for_each(|(p, out)| {
            let img = &x[p * hw_in..][..hw_in];
            for (oh, &(h0, h1)) in rows.iter().enumerate() {
                for (o, &(w0, w1)) in out[oh * g.w_out..][..g.w_out].iter_mut().zip(&cols) {
                    let mut s = E::zero();
                    for ih in h0..h1 {
                        for v in &img[ih * g.w_in + w0..ih * g.w_in + w1] {
                            s += *v;
                        }
                    }
                    *o = s * inv;
                }
            }
        });
    out
}

/// Average-pool backward: spreads each output gradient evenly over its window in `gx`.
pub fn avg_pool_backward<E: KernelFloat>(g: &Pool2dGeom, gout: &[E], gx: &mut [E]) {
    let (hw_in, hw_out) = (g.h_in * g.w_in, g.h_out * g.w_out);
    let inv = E::one() / E::from_usize(g.kernel * g.kernel).unwrap_or_else(E::one);
    let (rows, cols) = g.spans();
    gx.par_chunks_mut(hw_in.max(1))
        .enumerate()
        .for_each(|(p, gx)| {
            let gout = &gout[p * hw_out..][..hw_out];
            for (oh, &(h0, h1)) in rows.iter().enumerate() {
                for (&v, &(w0, w1)) in gout[oh * g.w_out..][..g.w_out].iter().zip(&cols) {
                    let v = v * inv;
                    for ih in h0..h1 {
                        for d in &mut gx[ih * g.w_in + w0..ih * g.w_in + w1] {
                            *d += v;
                        }
                    }
                }
            }
        });
}
