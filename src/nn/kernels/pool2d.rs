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
/// (both buffers come from the kernels' scratch pool).
pub(crate) fn max_pool_forward<E: KernelFloat>(g: &Pool2dGeom, x: &[E]) -> (Vec<E>, Vec<u32>) {
    let (hw_in, hw_out) = (g.h_in * g.w_in, g.h_out * g.w_out);
    let mut out = take(g.planes * hw_out, E::zero());
    let mut arg = take(g.planes * hw_out, NONE);
    if out.is_empty() || hw_in == 0 {
        // no input (only padding, if any output): no window has a maximum
        out.fill(E::zero());
        arg.fill(NONE);
        return (out, arg);
    }
    let (rows, cols) = g.spans();
    let tiled = g.kernel == 2 && g.stride == 2 && g.padding == 0;
    out.par_chunks_mut(hw_out * PLANES_PER_TASK)
        .zip(arg.par_chunks_mut(hw_out * PLANES_PER_TASK))
        .zip(x.par_chunks(hw_in * PLANES_PER_TASK))
        .for_each(|((out, arg), x)| {
            let planes = out
                .chunks_exact_mut(hw_out)
                .zip(arg.chunks_exact_mut(hw_out))
                .zip(x.chunks_exact(hw_in));
            for ((out, arg), img) in planes {
                if tiled {
                    max_pool_2x2(g, img, out, arg);
                } else {
                    max_pool_plane(g, &rows, &cols, img, out, arg);
                }
            }
        });
    (out, arg)
}

/// Planes per parallel task (a LeNet's planes are a few hundred floats: one per task would be
/// mostly scheduling).
const PLANES_PER_TASK: usize = 8;

/// Whether `v` beats `best` in a max: a select, not a branch (on real data which element wins is
/// random, and a mispredicted branch per element made pooling ~30% of a LeNet step).
/// `!(v <= best)` also lets a NaN win, like PyTorch.
#[inline(always)]
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn wins<E: KernelFloat>(v: E, best: E) -> bool {
    !(v <= best)
}

/// One plane, any window.
fn max_pool_plane<E: KernelFloat>(
    g: &Pool2dGeom,
    rows: &[Span],
    cols: &[Span],
    img: &[E],
    out: &mut [E],
    arg: &mut [u32],
) {
    for (oh, &(h0, h1)) in rows.iter().enumerate() {
        let (out, arg) = (
            &mut out[oh * g.w_out..][..g.w_out],
            &mut arg[oh * g.w_out..][..g.w_out],
        );
        for ((o, a), &(w0, w1)) in out.iter_mut().zip(arg.iter_mut()).zip(cols) {
            if h0 == h1 || w0 == w1 {
                // the window holds only padding
                (*o, *a) = (E::zero(), NONE);
                continue;
            }
            let (mut best, mut at) = (img[h0 * g.w_in + w0], h0 * g.w_in + w0);
            for ih in h0..h1 {
                let row = ih * g.w_in;
                for (iw, &v) in img[row + w0..row + w1].iter().enumerate() {
                    let w = wins(v, best);
                    at = if w { row + w0 + iw } else { at };
                    best = if w { v } else { best };
                }
            }
            (*o, *a) = (best, at as u32);
        }
    }
}

/// One plane, 2×2 windows with stride 2 and no padding (every window is whole): the same
/// comparisons in the same order as [`max_pool_plane`], without its per-window bookkeeping.
fn max_pool_2x2<E: KernelFloat>(g: &Pool2dGeom, img: &[E], out: &mut [E], arg: &mut [u32]) {
    let w_in = g.w_in;
    for (oh, (out, arg)) in out
        .chunks_exact_mut(g.w_out)
        .zip(arg.chunks_exact_mut(g.w_out))
        .enumerate()
    {
        let top = 2 * oh * w_in;
        let (r0, r1) = (
            &img[top..][..2 * g.w_out],
            &img[top + w_in..][..2 * g.w_out],
        );
        for (ow, (o, a)) in out.iter_mut().zip(arg.iter_mut()).enumerate() {
            let j = 2 * ow;
            let (mut best, mut at) = (r0[j], top + j);
            let w = wins(r0[j + 1], best);
            (best, at) = if w {
                (r0[j + 1], top + j + 1)
            } else {
                (best, at)
            };
            let w = wins(r1[j], best);
            (best, at) = if w {
                (r1[j], top + w_in + j)
            } else {
                (best, at)
            };
            let w = wins(r1[j + 1], best);
            (best, at) = if w {
                (r1[j + 1], top + w_in + j + 1)
            } else {
                (best, at)
            };
            (*o, *a) = (best, at as u32);
        }
    }
}

/// Max-pool backward: scatters each output gradient onto its argmax in `gx`.
pub(crate) fn max_pool_backward<E: KernelFloat>(
    g: &Pool2dGeom,
    arg: &[u32],
    gout: &[E],
    gx: &mut [E],
) {
    let (hw_in, hw_out) = (g.h_in * g.w_in, g.h_out * g.w_out);
    if hw_in == 0 || hw_out == 0 {
        return;
    }
    gx.par_chunks_mut(hw_in * PLANES_PER_TASK)
        .zip(arg.par_chunks(hw_out * PLANES_PER_TASK))
        .zip(gout.par_chunks(hw_out * PLANES_PER_TASK))
        .for_each(|((gx, arg), gout)| {
            let planes = gx
                .chunks_exact_mut(hw_in)
                .zip(arg.chunks_exact(hw_out))
                .zip(gout.chunks_exact(hw_out));
            for ((gx, arg), gout) in planes {
                for (&a, &v) in arg.iter().zip(gout) {
                    if a != NONE {
                        gx[a as usize] += v;
                    }
                }
            }
        });
}

/// Average-pool forward (padding counts as zeros: the divisor is always `kernel²`).
pub(crate) fn avg_pool_forward<E: KernelFloat>(g: &Pool2dGeom, x: &[E]) -> Vec<E> {
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
pub(crate) fn avg_pool_backward<E: KernelFloat>(g: &Pool2dGeom, gout: &[E], gx: &mut [E]) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::kernels::scratch::give;

    #[test]
    fn empty_planes_pool_to_zero_without_an_argmax() {
        // leave garbage in the pools, so a reused buffer would show
        give(vec![7.0f32; 16]);
        give(vec![3u32; 16]);
        // a 0x0 plane padded by 1, window 2: one output that holds only padding
        let g = Pool2dGeom::new(3, 0, 0, 2, 1, 1).expect("fits");
        let (out, arg) = max_pool_forward::<f32>(&g, &[]);
        assert_eq!((g.h_out, g.w_out), (1, 1));
        assert_eq!(out, [0.0; 3]);
        assert_eq!(arg, [NONE; 3]);
    }
}
