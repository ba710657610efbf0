//! 2-D convolution by im2col + one GEMM for the whole batch, forward and backward.

use super::gemm::{matmul, Mat};
use super::scratch::{give, take, Pooled};
use super::KernelFloat;
use crate::nn::shape::window_size;
use rayon::prelude::*;

/// The runtime geometry of a 2-D convolution over a batch of `(C, H, W)` images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dGeom {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub chan_in: usize,
    /// Input height.
    pub h_in: usize,
    /// Input width.
    pub w_in: usize,
    /// Output channels.
    pub chan_out: usize,
    /// Square kernel size.
    pub kernel: usize,
    /// Stride (both directions).
    pub stride: usize,
    /// Zero padding (all four sides).
    pub padding: usize,
    /// Output height, `(h_in + 2·padding − kernel) / stride + 1`.
    pub h_out: usize,
    /// Output width.
    pub w_out: usize,
}

impl Conv2dGeom {
    /// The geometry, or `None` when the kernel does not fit the padded input or the stride is 0.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        batch: usize,
        chan_in: usize,
        h_in: usize,
        w_in: usize,
        chan_out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Option<Self> {
        Some(Conv2dGeom {
            batch,
            chan_in,
            h_in,
            w_in,
            chan_out,
            kernel,
            stride,
            padding,
            h_out: window_size(h_in, kernel, stride, padding)?,
            w_out: window_size(w_in, kernel, stride, padding)?,
        })
    }
    /// Rows of the im2col matrix: `chan_in·kernel²`.
    pub fn rows(&self) -> usize {
        self.chan_in * self.kernel * self.kernel
    }
    /// Columns of the im2col matrix: one per output pixel of the batch.
    pub fn cols(&self) -> usize {
        self.batch * self.h_out * self.w_out
    }
    /// Range of output positions `o` along a dimension of size `len` whose input `o·s + k − p`
    /// is inside `0..len`.
    fn valid(&self, k: usize, len: usize, out: usize) -> (usize, usize) {
        let (s, p) = (self.stride, self.padding);
        let lo = if p > k { (p - k).div_ceil(s) } else { 0 };
        let hi = if len + p > k {
            ((len + p - k - 1) / s + 1).min(out)
        } else {
            0
        };
        (lo.min(hi), hi)
    }
}

/// Unfolds `x` (B, C, H, W) into `cols` (C·K·K rows × B·Ho·Wo columns), zeros where padded.
fn im2col<E: KernelFloat>(g: &Conv2dGeom, x: &[E], cols: &mut [E]) {
    let (k, hw_in, hw_out) = (g.kernel, g.h_in * g.w_in, g.h_out * g.w_out);
    let n = g.cols();
    cols.par_chunks_mut(n.max(1))
        .enumerate()
        .for_each(|(r, row)| {
            let (c, ki, kj) = (r / (k * k), (r / k) % k, r % k);
            let (oh_lo, oh_hi) = g.valid(ki, g.h_in, g.h_out);
            let (ow_lo, ow_hi) = g.valid(kj, g.w_in, g.w_out);
            for b in 0..g.batch {
                let img = &x[(b * g.chan_in + c) * hw_in..][..hw_in];
                let dst = &mut row[b * hw_out..][..hw_out];
                for oh in 0..g.h_out {
                    let line = &mut dst[oh * g.w_out..][..g.w_out];
                    // no valid input row, or (kernel tap in the padding for every output column)
                    // no valid input column: the whole line reads padding
                    if oh < oh_lo || oh >= oh_hi || ow_lo >= ow_hi {
                        line.fill(E::zero());
                        continue;
                    }
                    let src = &img[(oh * g.stride + ki - g.padding) * g.w_in..][..g.w_in];
                    line[..ow_lo].fill(E::zero());
                    line[ow_hi..].fill(E::zero());
                    let first = ow_lo * g.stride + kj - g.padding;
                    if g.stride == 1 {
                        line[ow_lo..ow_hi].copy_from_slice(&src[first..first + (ow_hi - ow_lo)]);
                    } else {
                        for (o, v) in line[ow_lo..ow_hi].iter_mut().enumerate() {
                            *v = src[first + o * g.stride];
                        }
                    }
                }
            }
        });
}

/// Folds `cols` back into `dx` (B, C, H, W), adding overlapping contributions.
fn col2im<E: KernelFloat>(g: &Conv2dGeom, cols: &[E], dx: &mut [E]) {
    let (k, hw_in, hw_out) = (g.kernel, g.h_in * g.w_in, g.h_out * g.w_out);
    let n = g.cols();
    dx.par_chunks_mut(hw_in.max(1))
        .enumerate()
        .for_each(|(plane, img)| {
            let (b, c) = (plane / g.chan_in, plane % g.chan_in);
            for ki in 0..k {
                let (oh_lo, oh_hi) = g.valid(ki, g.h_in, g.h_out);
                for kj in 0..k {
                    let (ow_lo, ow_hi) = g.valid(kj, g.w_in, g.w_out);
                    if ow_lo >= ow_hi {
                        continue; // this tap only ever reads padding
                    }
                    let r = (c * k + ki) * k + kj;
                    let src = &cols[r * n + b * hw_out..][..hw_out];
                    for oh in oh_lo..oh_hi {
                        let line = &src[oh * g.w_out..][..g.w_out];
                        let dst = &mut img[(oh * g.stride + ki - g.padding) * g.w_in..][..g.w_in];
                        let first = ow_lo * g.stride + kj - g.padding;
                        if g.stride == 1 {
                            // contiguous: vectorises
                            let dst = &mut dst[first..first + (ow_hi - ow_lo)];
                            for (d, v) in dst.iter_mut().zip(&line[ow_lo..ow_hi]) {
                                *d += *v;
                            }
                        } else {
                            for (o, v) in line[ow_lo..ow_hi].iter().enumerate() {
                                dst[first + o * g.stride] += *v;
                            }
                        }
                    }
                }
            }
        });
}

/// Forward: returns the output (B, O, Ho, Wo) and the im2col matrix (kept for the backward pass).
/// Both come from a scratch pool: hand them back with [`recycle`] when done.
/// `w` is (O, C, K, K), `bias` is (O,).
pub fn conv2d_forward<E: KernelFloat>(
    g: &Conv2dGeom,
    x: &[E],
    w: &[E],
    bias: &[E],
) -> (Vec<E>, Vec<E>) {
    let (rows, n, hw) = (g.rows(), g.cols(), g.h_out * g.w_out);
    let mut cols = take(rows * n, E::zero());
    im2col(g, x, &mut cols);
    let mut yt = take(g.chan_out * n, E::zero());
    let lhs = Mat {
        data: w,
        rs: rows,
        cs: 1,
    };
    matmul(
        g.chan_out,
        n,
        rows,
        &mut yt,
        lhs,
        Mat {
            data: &cols,
            rs: n,
            cs: 1,
        },
        false,
    );
    let mut out = take(g.batch * g.chan_out * hw, E::zero());
    // (O, B·HW) → (B, O, HW), adding the bias on the way.
    out.par_chunks_mut(hw.max(1))
        .enumerate()
        .for_each(|(i, dst)| {
            let (b, o) = (i / g.chan_out, i % g.chan_out);
            for (d, s) in dst.iter_mut().zip(&yt[o * n + b * hw..][..hw]) {
                *d = *s + bias[o];
            }
        });
    give(yt);
    (out, cols)
}

/// The output gradient (B, O, Ho, Wo) rearranged as the (O, B·Ho·Wo) matrix the GEMMs use.
pub(crate) fn grad_rows<E: KernelFloat>(g: &Conv2dGeom, gout: &[E]) -> Vec<E> {
    let (n, hw) = (g.cols(), g.h_out * g.w_out);
    let mut gyt = take(g.chan_out * n, E::zero());
    gyt.par_chunks_mut(n.max(1))
        .enumerate()
        .for_each(|(o, dst)| {
            for b in 0..g.batch {
                dst[b * hw..][..hw].copy_from_slice(&gout[(b * g.chan_out + o) * hw..][..hw]);
            }
        });
    gyt
}

/// Backward: adds dL/dw to `gw`, dL/dbias to `gb` and, if given, dL/dx to `gx`, from the output
/// gradient `gout` (B, O, Ho, Wo) and the forward pass's im2col matrix `cols`.
pub fn conv2d_backward<E: KernelFloat>(
    g: &Conv2dGeom,
    w: &[E],
    cols: &[E],
    gout: &[E],
    gw: &mut [E],
    gb: &mut [E],
    gx: Option<&mut [E]>,
) {
    let gyt = grad_rows(g, gout);
    bias_grad(g, &gyt, gb);
    weight_grad(g, cols, &gyt, gw);
    if let Some(gx) = gx {
        input_grad(g, w, &gyt, gx);
    }
    give(gyt);
}

/// `gb[o] += Σ gyt[o, ·]`.
pub(crate) fn bias_grad<E: KernelFloat>(g: &Conv2dGeom, gyt: &[E], gb: &mut [E]) {
    let n = g.cols();
    for (o, acc) in gb.iter_mut().enumerate() {
        *acc += sum(&gyt[o * n..][..n]);
    }
}

/// A sum with eight independent accumulators: a plain fold is one serial chain of float adds
/// (the compiler may not reorder them), which made it a slow part of conv1's backward pass.
fn sum<E: KernelFloat>(v: &[E]) -> E {
    let mut acc = [E::zero(); 8];
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a += *x;
        }
    }
    acc.iter().chain(rest).fold(E::zero(), |a, x| a + *x)
}

/// `gw (O × C·K·K) += gyt (O × N) · colsᵀ`.
pub(crate) fn weight_grad<E: KernelFloat>(g: &Conv2dGeom, cols: &[E], gyt: &[E], gw: &mut [E]) {
    let (rows, n) = (g.rows(), g.cols());
    let lhs = Mat {
        data: gyt,
        rs: n,
        cs: 1,
    };
    matmul(
        g.chan_out,
        rows,
        n,
        gw,
        lhs,
        Mat {
            data: cols,
            rs: 1,
            cs: n,
        },
        true,
    );
}

/// `gx += col2im(wᵀ · gyt)`.
pub(crate) fn input_grad<E: KernelFloat>(g: &Conv2dGeom, w: &[E], gyt: &[E], gx: &mut [E]) {
    let (rows, n) = (g.rows(), g.cols());
    let mut gcols = take(rows * n, E::zero());
    let rhs = Mat {
        data: gyt,
        rs: n,
        cs: 1,
    };
    matmul(
        rows,
        n,
        g.chan_out,
        &mut gcols,
        Mat {
            data: w,
            rs: 1,
            cs: rows,
        },
        rhs,
        false,
    );
    col2im(g, &gcols, gx);
    give(gcols);
}

/// Returns a buffer from [`conv2d_forward`] (or [`max_pool_forward`](super::max_pool_forward)'s
/// outputs) to the kernels' scratch pool, so the next step reuses its memory.
pub fn recycle<T: Pooled>(buf: Vec<T>) {
    give(buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_follows_the_output_size_formula() {
        // LeNet conv1 with "same" padding: (28 + 4 - 5)/1 + 1 = 28; stride 2 on 7: (7 + 2 - 3)/2 + 1 = 4.
        let g = Conv2dGeom::new(2, 1, 28, 28, 6, 5, 1, 2).expect("fits");
        assert_eq!(
            (g.h_out, g.w_out, g.rows(), g.cols()),
            (28, 28, 25, 2 * 28 * 28)
        );
        let g = Conv2dGeom::new(1, 3, 7, 7, 4, 3, 2, 1).expect("fits");
        assert_eq!((g.h_out, g.w_out), (4, 4));
        assert_eq!(Conv2dGeom::new(1, 1, 2, 2, 1, 5, 1, 1), None);
    }

    #[test]
    fn valid_ranges_skip_padding() {
        // k=3, p=1, s=1 on 5: kernel row 0 reads input o-1, valid for o in 1..5.
        let g = Conv2dGeom::new(1, 1, 5, 5, 1, 3, 1, 1).expect("fits");
        assert_eq!(g.valid(0, 5, 5), (1, 5));
        assert_eq!(g.valid(2, 5, 5), (0, 4));
    }

    #[test]
    fn identity_kernel_copies_the_input() {
        let g = Conv2dGeom::new(2, 1, 3, 3, 1, 1, 1, 0).expect("fits");
        let x: Vec<f32> = (0..18).map(|v| v as f32).collect();
        let (y, cols) = conv2d_forward(&g, &x, &[1.0], &[0.5]);
        assert_eq!(y, x.iter().map(|v| v + 0.5).collect::<Vec<_>>());
        recycle(cols);
    }
}
