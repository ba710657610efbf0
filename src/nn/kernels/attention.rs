//! The CPU kernel of multi-head scaled dot-product attention on slices (its tape wiring is in
//! `nn::device`'s CPU implementation): per sequence and head, `softmax(Q·Kᵀ·scale)·V` as two
//! products and a row softmax, keeping the attention weights for the backward pass. The heads
//! are read from and written to `(batch, seq, heads·head_dim)` rows in place (no permuted
//! copies); the sequences run as rayon tasks.

use super::gemm::{matmul, Mat};
use super::scratch::{give, take};
use super::KernelFloat;
use rayon::prelude::*;

/// Sizes of an attention: `batch` sequences of `seq` positions, `heads` heads of `head_dim`
/// features (rows of `heads·head_dim`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttentionGeom {
    pub batch: usize,
    pub seq: usize,
    pub heads: usize,
    pub head_dim: usize,
}

impl AttentionGeom {
    /// Elements of a row, `heads·head_dim`.
    fn width(&self) -> usize {
        self.heads * self.head_dim
    }

    /// Elements of `q`, `k`, `v` and the output: `batch·seq·width`.
    pub fn elements(&self) -> usize {
        self.batch * self.seq * self.width()
    }

    /// Elements of the saved attention weights: `batch·heads·seq²`.
    pub fn weights(&self) -> usize {
        self.batch * self.heads * self.seq * self.seq
    }

    /// Sequences per rayon task: an even share for each thread.
    fn per_task(&self) -> usize {
        self.batch
            .div_ceil(rayon::current_num_threads().max(1))
            .max(1)
    }
}

/// A head's `seq×head_dim` block in rows of `width` starting at `base`.
fn head<E>(data: &[E], base: usize, width: usize) -> Mat<'_, E> {
    Mat {
        data: &data[base..],
        rs: width,
        cs: 1,
    }
}

/// The same block transposed (`head_dim×seq`).
fn head_t<E>(data: &[E], base: usize, width: usize) -> Mat<'_, E> {
    Mat {
        data: &data[base..],
        rs: 1,
        cs: width,
    }
}

/// Adds the contiguous `seq×head_dim` block `src` to the head block at `base` of `dst`.
fn add_head<E: KernelFloat>(dst: &mut [E], base: usize, width: usize, src: &[E], d: usize) {
    for (i, row) in src.chunks_exact(d).enumerate() {
        for (o, &v) in dst[base + i * width..base + i * width + d]
            .iter_mut()
            .zip(row)
        {
            *o += v;
        }
    }
}

/// `out = softmax(q·kᵀ·scale)·v` per sequence and head, for `q`, `k`, `v` and `out` of
/// [`AttentionGeom::elements`]; writes the attention weights to `weights`
/// ([`AttentionGeom::weights`], `(batch, heads, seq, seq)`).
pub(crate) fn attention_forward<E: KernelFloat>(
    g: AttentionGeom,
    scale: E,
    (q, k, v): (&[E], &[E], &[E]),
    out: &mut [E],
    weights: &mut [E],
) {
    let (s, d, w) = (g.seq, g.head_dim, g.width());
    if g.elements() == 0 {
        return;
    }
    let per = g.per_task();
    out.par_chunks_mut(per * s * w)
        .zip(weights.par_chunks_mut(per * g.heads * s * s))
        .enumerate()
        .for_each(|(task, (out, weights))| {
            let mut o = take(s * d, E::zero());
            let b0 = task * per;
            for (bi, out) in out.chunks_exact_mut(s * w).enumerate() {
                let seq_base = (b0 + bi) * s * w;
                for h in 0..g.heads {
                    let base = seq_base + h * d;
                    let p = &mut weights[(bi * g.heads + h) * s * s..][..s * s];
                    matmul(s, s, d, p, head(q, base, w), head_t(k, base, w), false);
                    for row in p.chunks_exact_mut(s) {
                        let mut max = E::neg_infinity();
                        for x in row.iter_mut() {
                            *x *= scale;
                            max = max.max(*x);
                        }
                        let mut sum = E::zero();
                        for x in row.iter_mut() {
                            *x = (*x - max).exp();
                            sum += *x;
                        }
                        let inv = E::one() / sum;
                        for x in row.iter_mut() {
                            *x *= inv;
                        }
                    }
                    let pm = Mat {
                        data: &*p,
                        rs: s,
                        cs: 1,
                    };
                    matmul(s, d, s, &mut o, pm, head(v, base, w), false);
                    for (i, row) in o.chunks_exact(d).enumerate() {
                        out[i * w + h * d..i * w + h * d + d].copy_from_slice(row);
                    }
                }
            }
            give(o);
        });
}

/// The backward pass of [`attention_forward`] given the output's gradient `gy`: adds the
/// gradients of `q`, `k` and `v` to `dq`, `dk` and `dv`.
pub(crate) fn attention_backward<E: KernelFloat>(
    g: AttentionGeom,
    scale: E,
    (q, k, v): (&[E], &[E], &[E]),
    weights: &[E],
    gy: &[E],
    (dq, dk, dv): (&mut [E], &mut [E], &mut [E]),
) {
    let (s, d, w) = (g.seq, g.head_dim, g.width());
    if g.elements() == 0 {
        return;
    }
    let per = g.per_task();
    let chunk = per * s * w;
    dq.par_chunks_mut(chunk)
        .zip(dk.par_chunks_mut(chunk))
        .zip(dv.par_chunks_mut(chunk))
        .enumerate()
        .for_each(|(task, ((dq, dk), dv))| {
            let (mut dp, mut blk) = (take(s * s, E::zero()), take(s * d, E::zero()));
            let b0 = task * per;
            for bi in 0..dq.len() / (s * w) {
                let seq_base = (b0 + bi) * s * w;
                for h in 0..g.heads {
                    let base = seq_base + h * d;
                    let local = bi * s * w + h * d;
                    let p = &weights[((b0 + bi) * g.heads + h) * s * s..][..s * s];
                    let pm = Mat {
                        data: p,
                        rs: s,
                        cs: 1,
                    };
                    let pt = Mat {
                        data: p,
                        rs: 1,
                        cs: s,
                    };
                    // dV = Pᵀ·dO
                    matmul(s, d, s, &mut blk, pt, head(gy, base, w), false);
                    add_head(dv, local, w, &blk, d);
                    // dP = dO·Vᵀ, then the softmax's and the scale's backward in place
                    matmul(
                        s,
                        s,
                        d,
                        &mut dp,
                        head(gy, base, w),
                        head_t(v, base, w),
                        false,
                    );
                    for (drow, prow) in dp.chunks_exact_mut(s).zip(pm.data.chunks_exact(s)) {
                        let dot = drow
                            .iter()
                            .zip(prow)
                            .fold(E::zero(), |a, (&x, &y)| a + x * y);
                        for (x, &y) in drow.iter_mut().zip(prow) {
                            *x = y * (*x - dot) * scale;
                        }
                    }
                    let dsm = Mat {
                        data: &dp[..],
                        rs: s,
                        cs: 1,
                    };
                    let dst = Mat {
                        data: &dp[..],
                        rs: 1,
                        cs: s,
                    };
                    // dQ = dS·K, dK = dSᵀ·Q
                    matmul(s, d, s, &mut blk, dsm, head(k, base, w), false);
                    add_head(dq, local, w, &blk, d);
                    matmul(s, d, s, &mut blk, dst, head(q, base, w), false);
                    add_head(dk, local, w, &blk, d);
                }
            }
            give(dp);
            give(blk);
        });
}
