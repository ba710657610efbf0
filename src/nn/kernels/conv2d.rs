//! 2-D convolution by im2col + GEMM, forward and backward: one product per group of images
//! (one image where its output has [`GROUP_COLS`] pixels or more), one rayon task per group.
//! The 3×3 stride-1 convolutions of 16+ channels go to `winograd` instead.

use super::gemm::{matmul, matmul_serial, Mat};
use super::scratch::{give, take};
use super::KernelFloat;
use crate::nn::shape::{dilated_kernel, window_size};
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
    /// Spacing of the kernel's taps (1: adjacent); the kernel spans `dilation·(kernel − 1) + 1`.
    pub dilation: usize,
    /// Output height, `(h_in + 2·padding − dilation·(kernel − 1) − 1) / stride + 1`.
    pub h_out: usize,
    /// Output width.
    pub w_out: usize,
}

impl Conv2dGeom {
    /// The geometry (taps adjacent: see [`Conv2dGeom::dilated`]), or `None` when the kernel does
    /// not fit the padded input or the stride is 0.
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
            dilation: 1,
            h_out: window_size(h_in, kernel, stride, padding)?,
            w_out: window_size(w_in, kernel, stride, padding)?,
        })
    }
    /// The same convolution with its kernel's taps `dilation` apart, or `None` when the dilated
    /// kernel does not fit the padded input or `dilation` is 0.
    pub fn dilated(self, dilation: usize) -> Option<Self> {
        let span = dilated_kernel(self.kernel, dilation)?;
        Some(Conv2dGeom {
            dilation,
            h_out: window_size(self.h_in, span, self.stride, self.padding)?,
            w_out: window_size(self.w_in, span, self.stride, self.padding)?,
            ..self
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

/// Images per parallel task of the backward pass, at least (a task takes whole groups, see
/// [`group_images`]). Fixed, not derived from the thread count, so the per-task partial weight
/// gradients are summed in the same order on every run and every machine (bit-identical training
/// for a given seed).
pub(super) const IMAGES_PER_TASK: usize = 4;

/// Output pixels (images × `h_out·w_out`) one product aims for. A product per image is too
/// narrow where the images are small (8×8 outputs: 64 columns against weights of 256×1152 in a
/// VGG's last stage), so small images are unfolded side by side into one im2col matrix and the
/// weights are read once per group.
const GROUP_COLS: usize = 512;

/// Images per product for geometry `g`: enough for about [`GROUP_COLS`] output pixels, one for
/// images that have that many alone. Depends on the geometry only (never on the thread count),
/// so results stay bit-identical for a given thread count.
fn group_images(g: &Conv2dGeom) -> usize {
    let hw = g.h_out * g.w_out;
    GROUP_COLS.div_ceil(hw.max(1)).clamp(1, g.batch.max(1))
}

/// A product as the convolution's tasks run it ([`matmul`]'s signature).
type MatmulFn<E> = fn(usize, usize, usize, &mut [E], Mat<'_, E>, Mat<'_, E>, bool);

/// The product for a pass of `tasks` rayon tasks: [`matmul_serial`] when the tasks alone fill
/// rayon's pool (`gemm`'s own threading nested inside them would only add synchronisation),
/// else [`matmul`], whose threads use the cores the few tasks leave idle (inference on a batch
/// of one). Either gives the same bits: `gemm` never splits the `k` sum.
fn task_matmul<E: KernelFloat>(tasks: usize) -> MatmulFn<E> {
    if tasks >= rayon::current_num_threads() {
        matmul_serial
    } else {
        matmul
    }
}

/// `dst = src` for the short lines of an image: whole blocks of 8 are fixed-size copies, which
/// compile to vector moves where a `copy_from_slice` of a runtime length calls `memcpy` (whose
/// call cost dominated lines of 8 to 32 elements).
#[inline(always)]
pub(super) fn copy_line<E: Copy>(dst: &mut [E], src: &[E]) {
    let src = &src[..dst.len()];
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in (&mut d).zip(&mut s) {
        let s: &[E; 8] = s.try_into().expect("a chunk of 8");
        let d: &mut [E; 8] = d.try_into().expect("a chunk of 8");
        *d = *s;
    }
    for (d, s) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d = *s;
    }
}

/// Elements of one image zero-padded on all four sides (0 without padding: the image is read
/// in place).
fn padded_len(g: &Conv2dGeom) -> usize {
    if g.padding == 0 {
        0
    } else {
        g.chan_in * (g.h_in + 2 * g.padding) * (g.w_in + 2 * g.padding)
    }
}

/// Unfolds one image `x` (C, H, W) into `cols` (C·K·K rows × Ho·Wo columns, row `r` starting at
/// `r·ld`), zeros where padded. `padded` ([`padded_len`] elements) receives the zero-padded
/// image first, so that every line of `cols` is one plain copy (stride 1) or gather.
fn im2col<E: KernelFloat>(g: &Conv2dGeom, x: &[E], padded: &mut [E], cols: &mut [E], ld: usize) {
    let (k, p, hw_out) = (g.kernel, g.padding, g.h_out * g.w_out);
    let (hp, wp) = (g.h_in + 2 * p, g.w_in + 2 * p);
    let img: &[E] = if p == 0 {
        x
    } else {
        for (plane, x) in padded
            .chunks_exact_mut(hp * wp)
            .zip(x.chunks_exact(g.h_in * g.w_in))
        {
            plane[..p * wp].fill(E::zero());
            plane[(p + g.h_in) * wp..].fill(E::zero());
            for (line, x) in plane[p * wp..(p + g.h_in) * wp]
                .chunks_exact_mut(wp)
                .zip(x.chunks_exact(g.w_in))
            {
                line[..p].fill(E::zero());
                line[p + g.w_in..].fill(E::zero());
                copy_line(&mut line[p..p + g.w_in], x);
            }
        }
        padded
    };
    for r in 0..g.rows() {
        let row = &mut cols[r * ld..][..hw_out];
        let (c, ki, kj) = (r / (k * k), (r / k) % k, r % k);
        let (ki, kj) = (ki * g.dilation, kj * g.dilation);
        let plane = &img[c * hp * wp..][..hp * wp];
        for (oh, line) in row.chunks_exact_mut(g.w_out).enumerate() {
            // every read is inside the padded plane: (h_out − 1)·s + (k − 1)·d < h_in + 2p
            let src = &plane[(oh * g.stride + ki) * wp + kj..];
            if g.stride == 1 {
                copy_line(line, src);
            } else {
                for (o, v) in line.iter_mut().enumerate() {
                    *v = src[o * g.stride];
                }
            }
        }
    }
}

/// Folds one image's `cols` (C·K·K × Ho·Wo, row `r` starting at `r·ld`) back into `dx`
/// (C, H, W), adding overlapping contributions.
fn col2im<E: KernelFloat>(g: &Conv2dGeom, cols: &[E], ld: usize, dx: &mut [E]) {
    let (k, hw_in, hw_out) = (g.kernel, g.h_in * g.w_in, g.h_out * g.w_out);
    for (c, img) in dx.chunks_exact_mut(hw_in).enumerate() {
        for ti in 0..k {
            let ki = ti * g.dilation;
            let (oh_lo, oh_hi) = g.valid(ki, g.h_in, g.h_out);
            for tj in 0..k {
                let kj = tj * g.dilation;
                let (ow_lo, ow_hi) = g.valid(kj, g.w_in, g.w_out);
                if ow_lo >= ow_hi {
                    continue; // this tap only ever reads padding
                }
                let r = (c * k + ti) * k + tj;
                let src = &cols[r * ld..][..hw_out];
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
    }
}

/// Forward: the output (B, O, Ho, Wo) for input `x` (B, C, H, W), weights `w` (O, C, K, K) and
/// `bias` (O,). The output comes from the scratch pool (`scratch::give` returns it).
///
/// One product per group of [`group_images`] images (one rayon task each): the group's im2col
/// matrices side by side (C·K·K × group·Ho·Wo) times the weights. A group of one image writes
/// straight into its output, which starts as the bias; a larger group's product (O × group·Ho·Wo)
/// is scattered into its images' outputs with the bias added.
pub(crate) fn conv2d_forward<E: KernelFloat>(
    g: &Conv2dGeom,
    x: &[E],
    w: &[E],
    bias: &[E],
) -> Vec<E> {
    // 3×3 stride-1: Winograd where it measured faster (`winograd::chosen`)
    if let Some(out) = super::winograd::forward_if_chosen(g, x, w, bias) {
        return out;
    }
    forward_in_groups(g, x, w, bias, group_images(g))
}

/// [`conv2d_forward`] with `group` images per product.
fn forward_in_groups<E: KernelFloat>(
    g: &Conv2dGeom,
    x: &[E],
    w: &[E],
    bias: &[E],
    group: usize,
) -> Vec<E> {
    let (rows, hw, o) = (g.rows(), g.h_out * g.w_out, g.chan_out);
    let (in_len, out_len) = (g.chan_in * g.h_in * g.w_in, o * hw);
    let mut out = take(g.batch * out_len, E::zero());
    if out.is_empty() {
        return out;
    }
    if in_len == 0 {
        // an empty image (only padding): every output is its channel's bias
        for (line, &b) in out.chunks_exact_mut(hw).zip(bias.iter().cycle()) {
            line.fill(b);
        }
        return out;
    }
    let weights = || Mat {
        data: w,
        rs: rows,
        cs: 1,
    };
    let matmul = task_matmul::<E>(g.batch.div_ceil(group));
    out.par_chunks_mut(out_len * group)
        .zip(x.par_chunks(in_len * group))
        .for_each(|(out, x)| {
            let cn = x.len() / in_len * hw; // this group's columns
            let mut cols = take(rows * cn, E::zero());
            let mut padded = take(padded_len(g), E::zero());
            for (i, x) in x.chunks_exact(in_len).enumerate() {
                im2col(g, x, &mut padded, &mut cols[i * hw..], cn);
            }
            give(padded);
            let cols_mat = Mat {
                data: &cols,
                rs: cn,
                cs: 1,
            };
            if cn == hw {
                for (line, &b) in out.chunks_exact_mut(hw).zip(bias) {
                    line.fill(b);
                }
                matmul(o, hw, rows, out, weights(), cols_mat, true);
            } else {
                let mut prod = take(o * cn, E::zero());
                matmul(o, cn, rows, &mut prod, weights(), cols_mat, false);
                for (i, out) in out.chunks_exact_mut(out_len).enumerate() {
                    for (c, (line, &b)) in out.chunks_exact_mut(hw).zip(bias).enumerate() {
                        for (d, s) in line.iter_mut().zip(&prod[c * cn + i * hw..][..hw]) {
                            *d = *s + b;
                        }
                    }
                }
                give(prod);
            }
            give(cols);
        });
    out
}

/// Backward: adds dL/dw to `gw`, dL/dbias to `gb` and, if given, dL/dx to `gx`, from the
/// forward pass's input `x` (B, C, H, W) and the output gradient `gout` (B, O, Ho, Wo).
///
/// Group by group like [`conv2d_forward`] (the im2col matrix is rebuilt from `x`, which costs
/// less than keeping the whole batch's matrix around). Each rayon task takes whole groups, at
/// least `IMAGES_PER_TASK` (4) images, and sums its weight gradient transposed (C·K·K × O: the
/// product then packs the narrow `gout` rather than the im2col matrix); the tasks' partial
/// gradients are added in order.
pub(crate) fn conv2d_backward<E: KernelFloat>(
    g: &Conv2dGeom,
    x: &[E],
    w: &[E],
    gout: &[E],
    gw: &mut [E],
    gb: &mut [E],
    mut gx: Option<&mut [E]>,
) {
    // 3×3 stride-1: by Winograd where it measured faster
    if super::winograd::backward_if_chosen(g, x, w, gout, gw, gb, gx.as_deref_mut()) {
        return;
    }
    backward_in_groups(g, x, w, gout, gw, gb, gx, group_images(g));
}

/// [`conv2d_backward`] with `group` images per product.
#[allow(clippy::too_many_arguments)]
fn backward_in_groups<E: KernelFloat>(
    g: &Conv2dGeom,
    x: &[E],
    w: &[E],
    gout: &[E],
    gw: &mut [E],
    gb: &mut [E],
    gx: Option<&mut [E]>,
    group: usize,
) {
    let (rows, hw, o) = (g.rows(), g.h_out * g.w_out, g.chan_out);
    let (in_len, out_len) = (g.chan_in * g.h_in * g.w_in, o * hw);
    if g.batch == 0 || out_len == 0 {
        return;
    }
    if in_len == 0 {
        // an empty image (only padding): the output is the bias, nothing else has a gradient
        for img in gout.chunks_exact(out_len) {
            for (acc, line) in gb.iter_mut().zip(img.chunks_exact(hw)) {
                *acc += sum(line);
            }
        }
        return;
    }
    let per_task = IMAGES_PER_TASK.div_ceil(group) * group;
    let part_len = rows * o + o;
    let tasks = g.batch.div_ceil(per_task);
    let mut partials = take(tasks * part_len, E::zero());
    let matmul = task_matmul::<E>(tasks);
    // One task: images `t·per_task..`, its partial gradients `part` (dwᵀ then db), its `gx`.
    let task = |t: usize, part: &mut [E], mut gx: Option<&mut [E]>| {
        let (pwt, pb) = part.split_at_mut(rows * o);
        pb.fill(E::zero());
        let first = t * per_task;
        let last = (first + per_task).min(g.batch);
        let mut cols = take(rows * group * hw, E::zero());
        let mut padded = take(padded_len(g), E::zero());
        let mut gathered = take(if group > 1 { out_len * group } else { 0 }, E::zero());
        let mut gcols = take(if gx.is_some() { rows * group * hw } else { 0 }, E::zero());
        for (gi, start) in (first..last).step_by(group).enumerate() {
            let n = group.min(last - start);
            let cn = n * hw;
            let gout = &gout[start * out_len..][..n * out_len];
            for (i, x) in x[start * in_len..][..n * in_len]
                .chunks_exact(in_len)
                .enumerate()
            {
                im2col(g, x, &mut padded, &mut cols[i * hw..], cn);
            }
            for img in gout.chunks_exact(out_len) {
                for (acc, line) in pb.iter_mut().zip(img.chunks_exact(hw)) {
                    *acc += sum(line);
                }
            }
            // the group's gout as one O × cn matrix (an image's own gout already is one)
            let gmat: &[E] = if n == 1 {
                gout
            } else {
                for (i, img) in gout.chunks_exact(out_len).enumerate() {
                    for (c, line) in img.chunks_exact(hw).enumerate() {
                        copy_line(&mut gathered[c * cn + i * hw..][..hw], line);
                    }
                }
                &gathered[..o * cn]
            };
            // pwt (C·K·K × O) += cols (C·K·K × cn) · gmatᵀ (cn × O)
            let (lhs, rhs) = (
                Mat {
                    data: &cols,
                    rs: cn,
                    cs: 1,
                },
                Mat {
                    data: gmat,
                    rs: 1,
                    cs: cn,
                },
            );
            matmul(rows, o, cn, pwt, lhs, rhs, gi > 0);
            if let Some(gx) = gx.as_deref_mut() {
                // gcols (C·K·K × cn) = wᵀ (C·K·K × O) · gmat (O × cn), folded into gx
                let (lhs, rhs) = (
                    Mat {
                        data: w,
                        rs: 1,
                        cs: rows,
                    },
                    Mat {
                        data: gmat,
                        rs: cn,
                        cs: 1,
                    },
                );
                matmul(rows, cn, o, &mut gcols, lhs, rhs, false);
                for i in 0..n {
                    let dx = &mut gx[(start - first + i) * in_len..][..in_len];
                    col2im(g, &gcols[i * hw..], cn, dx);
                }
            }
        }
        give(cols);
        give(padded);
        give(gathered);
        give(gcols);
    };
    match gx {
        Some(gx) => partials
            .par_chunks_mut(part_len)
            .zip(gx.par_chunks_mut(in_len * per_task))
            .enumerate()
            .for_each(|(t, (part, gx))| task(t, part, Some(gx))),
        None => partials
            .par_chunks_mut(part_len)
            .enumerate()
            .for_each(|(t, part)| task(t, part, None)),
    }
    for part in partials.chunks_exact(part_len) {
        let (pwt, pb) = part.split_at(rows * o);
        for (r, line) in pwt.chunks_exact(o).enumerate() {
            for (c, v) in line.iter().enumerate() {
                gw[c * rows + r] += *v;
            }
        }
        for (acc, v) in gb.iter_mut().zip(pb) {
            *acc += *v;
        }
    }
    give(partials);
}

/// A sum with eight independent accumulators: a plain fold is one serial chain of float adds
/// (the compiler may not reorder them), which made it a slow part of conv1's backward pass.
pub(super) fn sum<E: KernelFloat>(v: &[E]) -> E {
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

#[cfg(test)]
mod tests {
    use super::super::oracle::{assert_close, conv_ref, dot, fd, randn};
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn every_group_size_matches_the_reference_and_finite_differences() {
        // (batch, in, h, w, out, kernel, stride, padding, dilation): stride 2, padding,
        // dilation, 1×1 kernels, a batch of one and batches no group size divides
        let geoms = [
            (7, 2, 5, 4, 3, 3, 1, 1, 1),
            (5, 3, 6, 7, 4, 3, 2, 1, 1),
            (6, 2, 7, 7, 3, 3, 1, 2, 2),
            (5, 4, 4, 4, 5, 1, 2, 0, 1),
            (1, 3, 5, 5, 2, 3, 1, 1, 1),
        ];
        let mut rng = StdRng::seed_from_u64(7);
        for &(b, c, h, w, o, k, s, p, d) in &geoms {
            let g = Conv2dGeom::new(b, c, h, w, o, k, s, p)
                .and_then(|g| g.dilated(d))
                .expect("geometry fits");
            let x = randn(&mut rng, b * c * h * w);
            let wt = randn(&mut rng, o * g.rows());
            let bias = randn(&mut rng, o);
            let r = randn(&mut rng, g.chan_out * g.cols());
            let want_y = conv_ref(&g, &x, &wt, &bias);
            let want_dx = fd(&x, |x| dot(&r, &conv_ref(&g, x, &wt, &bias)));
            let want_dw = fd(&wt, |w| dot(&r, &conv_ref(&g, &x, w, &bias)));
            let want_db = fd(&bias, |bi| dot(&r, &conv_ref(&g, &x, &wt, bi)));
            for group in 1..=b {
                let what = |t: &str| format!("{t} {g:?}, {group} images per product");
                let y = forward_in_groups(&g, &x, &wt, &bias, group);
                assert_close(&what("y"), &y, &want_y, 1e-12);
                give(y);
                // gradients added to what the buffers held
                let (mut gw, mut gb, mut gx) =
                    (vec![1.0; wt.len()], vec![1.0; o], vec![1.0; x.len()]);
                backward_in_groups(&g, &x, &wt, &r, &mut gw, &mut gb, Some(&mut gx), group);
                let plus_one = |v: &[f64]| v.iter().map(|v| v + 1.0).collect::<Vec<_>>();
                assert_close(&what("dx"), &gx, &plus_one(&want_dx), 1e-6);
                assert_close(&what("dw"), &gw, &plus_one(&want_dw), 1e-6);
                assert_close(&what("db"), &gb, &plus_one(&want_db), 1e-6);
                let (mut gw2, mut gb2) = (vec![0.0; wt.len()], vec![0.0; o]);
                backward_in_groups(&g, &x, &wt, &r, &mut gw2, &mut gb2, None, group);
                assert_close(&what("dw without dx"), &gw2, &want_dw, 1e-6);
                assert_close(&what("db without dx"), &gb2, &want_db, 1e-6);
            }
        }
    }

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
    fn empty_images_give_the_bias_and_its_gradient() {
        // leave a buffer of garbage in the pool, so a reused buffer would show
        give(vec![7.0f32; 64]);
        // a 0x0 image padded by 1: 2x2 outputs that read only padding
        let g = Conv2dGeom::new(2, 1, 0, 0, 2, 1, 1, 1).expect("fits");
        let y = conv2d_forward(&g, &[], &[0.5, -0.5], &[1.0, -2.0]);
        assert_eq!(y, [1.0, 1.0, 1.0, 1.0, -2.0, -2.0, -2.0, -2.0].repeat(2));
        let (mut gw, mut gb) = ([0.0f32; 2], [0.0f32; 2]);
        conv2d_backward(&g, &[], &[0.5, -0.5], &[1.0; 16], &mut gw, &mut gb, None);
        assert_eq!((gw, gb), ([0.0, 0.0], [8.0, 8.0]));
        give(y);
    }

    #[test]
    fn identity_kernel_copies_the_input() {
        let g = Conv2dGeom::new(2, 1, 3, 3, 1, 1, 1, 0).expect("fits");
        let x: Vec<f32> = (0..18).map(|v| v as f32).collect();
        let y = conv2d_forward(&g, &x, &[1.0], &[0.5]);
        assert_eq!(y, x.iter().map(|v| v + 0.5).collect::<Vec<_>>());
        give(y);
    }
}
