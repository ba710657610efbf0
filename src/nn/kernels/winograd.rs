//! 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast
//! Algorithms for Convolutional Neural Networks", 2015): the forward pass and both gradients.
//!
//! The output is cut into 2×2 tiles; tile `t` reads the 4×4 input patch `d` at its top-left
//! corner (zeros in the padding and past the edges, so odd sizes get partial edge tiles) and is
//! `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A` summed over input channels. Indexing the 16 elements of the
//! transformed 4×4 tiles by `ξ`, the channel sum is 16 independent matrix products
//! `M_ξ (O × T) = U_ξ (O × C) · V_ξ (C × T)`, `U = G g Gᵀ` the transformed kernels and
//! `V = Bᵀ d B` the transformed patches of `T` tiles. Per output value that is 16·C/4 = 4·C
//! multiply-adds in place of im2col's 9·C (2.25× fewer), for three linear transforms whose cost
//! grows with the channels, not their product.
//!
//! Blocks of whole images, at least [`BLOCK_TILES`] tiles each, run as parallel tasks, each
//! writing its own images' output.
//!
//! The input gradient of a stride-1 3×3 convolution with padding `p` is the stride-1 3×3
//! convolution of the output gradient with each kernel flipped and input and output channels
//! swapped, padding `2 − p`: the same routine, accumulating. The weights' gradient is the
//! transpose of the forward pass's transforms (see [`conv2d_weight_grad`]).

use super::conv2d::{copy_line, sum, Conv2dGeom, IMAGES_PER_TASK};
use super::gemm::{matmul, Mat};
use super::scratch::{give, take};
use super::simd::avx2_fn;
use super::KernelFloat;
use rayon::prelude::*;

/// Tiles a block holds at least (whole images; fewer when the batch has fewer): one image from
/// 6×6 planes up, eight of 4×4, and so on.
///
/// Small blocks keep the transformed tiles and the products in the cache between the transforms
/// and the products. Measured (2-core AMD EPYC, AVX2, `perf_rows` alternating builds, median of
/// 3 pairs, time relative to 128 tiles, 1 thread | 2 threads): 64 tiles `vgg_infer_b32`
/// 0.87 | 0.96, `vgg_step_b32` 0.97 | 1.01, `resnet20_step_b64` 0.99 | 1.02; 32 tiles 0.83 | 0.84,
/// 1.01 | 0.96, 0.98 | 0.93; 1024 tiles was 1.1–1.2× slower than 256. Sizing blocks to the L2
/// cache instead (2¹⁷ values of transformed tiles and products) measured the same as 32 tiles.
const BLOCK_TILES: usize = 32;

/// Extra elements between consecutive matrices of the transformed tiles. The transforms read or
/// write the same tile in all 16 matrices at once; were the matrices a power-of-two bytes apart
/// (a block of 256 tiles and 64 channels is 64 KiB), those 16 streams would all fall into the
/// same L1 cache set (8 ways) and evict each other. 16 elements puts them a cache line apart.
const SKEW: usize = 16;

/// Whether a 3×3 stride-1 convolution (forward, and its input gradient) runs here rather than
/// by im2col: 16 or more channels in and out, any plane size.
///
/// Measured on a 2-core AMD EPYC with AVX2 + FMA, quiet, `perf_rows` alternating two builds
/// (medians of 3 rounds, two pairs; ms). With the `f32` transforms vectorised
/// (`winograd_avx2`), every 64+-channel convolution against the earlier rule (64+ channels on
/// 32×32 outputs only, scalar transforms): `vgg_infer_b32` 187/186 → 139/140 at one thread,
/// `vgg_step_b32` 562/594 → 488/479. Lowering the bound to 16 channels (ResNet-20's and the
/// CIFAR model's convolutions) against 64: `resnet20_step_b64` 755/735 → 686/596 at one thread,
/// `cifar_step_b64` 113/119 → 101/96, `cifar_infer_b256` 146/145 → 129/130. The first layers
/// (3 input channels) stay with im2col: their 16 products would have 3-long sums. With the
/// transforms' scalar loops, 16×16 and 8×8 planes had gained nothing: the transforms cost what
/// the saved multiplies did.
fn chosen(g: &Conv2dGeom) -> bool {
    g.chan_in >= 16 && g.chan_out >= 16
}

/// The forward pass by Winograd where [`chosen`] picks it, else `None` (im2col's turn).
pub(crate) fn forward_if_chosen<E: KernelFloat>(
    g: &Conv2dGeom,
    x: &[E],
    w: &[E],
    bias: &[E],
) -> Option<Vec<E>> {
    if !chosen(g) {
        return None;
    }
    conv2d_forward(g, x, w, bias)
}

/// The backward pass by Winograd where [`chosen`] picks it and the padding is at most 2: adds
/// the weights' gradient to `gw`, the bias's to `gb` and, if given, the input's to `gx`, and
/// returns `true`; otherwise does nothing and returns `false` (im2col's turn).
pub(crate) fn backward_if_chosen<E: KernelFloat>(
    g: &Conv2dGeom,
    x: &[E],
    w: &[E],
    gout: &[E],
    gw: &mut [E],
    gb: &mut [E],
    gx: Option<&mut [E]>,
) -> bool {
    if !chosen(g) || g.padding > 2 || Plan::of(g).is_none() {
        return false;
    }
    if let Some(gx) = gx {
        let done = conv2d_input_grad(g, w, gout, gx);
        debug_assert!(done, "a 3×3 stride-1 geometry with padding ≤ 2");
    }
    conv2d_weight_grad(g, x, gout, gw, gb)
}

/// The sizes of one Winograd convolution: `batch` images of `chan_in × h × w`, padded by `pad`,
/// into `chan_out × h_out × w_out`, in `th × tw` tiles.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub(crate) batch: usize,
    pub(crate) chan_in: usize,
    pub(crate) chan_out: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) pad: usize,
    pub(crate) h_out: usize,
    pub(crate) w_out: usize,
    pub(crate) th: usize,
    pub(crate) tw: usize,
}

impl Plan {
    /// A 3×3 stride-1 convolution of non-empty images into a non-empty output, else `None`.
    fn new(
        batch: usize,
        (chan_in, h, w): (usize, usize, usize),
        chan_out: usize,
        pad: usize,
    ) -> Option<Self> {
        let h_out = (h + 2 * pad).checked_sub(2)?;
        let w_out = (w + 2 * pad).checked_sub(2)?;
        if [batch, chan_in, h, w, chan_out, h_out, w_out].contains(&0) {
            return None;
        }
        Some(Plan {
            batch,
            chan_in,
            chan_out,
            h,
            w,
            pad,
            h_out,
            w_out,
            th: h_out.div_ceil(2),
            tw: w_out.div_ceil(2),
        })
    }

    /// The plan of `g`, if it is a 3×3 stride-1 undilated convolution with something to compute.
    fn of(g: &Conv2dGeom) -> Option<Self> {
        if g.kernel != 3 || g.stride != 1 || g.dilation != 1 {
            return None;
        }
        Self::new(g.batch, (g.chan_in, g.h_in, g.w_in), g.chan_out, g.padding)
    }
}

/// The forward pass (`None` unless `g` is a 3×3 stride-1 undilated convolution of non-empty
/// images): the output (B, O, Ho, Wo) for input `x` (B, C, H, W), weights `w` (O, C, 3, 3) and
/// `bias` (O,), from the scratch pool like `conv2d::conv2d_forward`'s.
pub(crate) fn conv2d_forward<E: KernelFloat>(
    g: &Conv2dGeom,
    x: &[E],
    w: &[E],
    bias: &[E],
) -> Option<Vec<E>> {
    let pl = Plan::of(g)?;
    let (o, c) = (pl.chan_out, pl.chan_in);
    let mut u = take(16 * o * c, E::zero());
    transform_weights(o, c, |oc, ic| taps(w, (oc * c + ic) * 9, false), &mut u);
    let mut out = take(pl.batch * o * pl.h_out * pl.w_out, E::zero());
    run(&pl, x, &u, Some(bias), &mut out, false);
    give(u);
    Some(out)
}

/// Adds the input gradient (B, C, H, W) of the convolution `g` to `gx`, from the weights `w`
/// (O, C, 3, 3) and the output gradient `gout` (B, O, Ho, Wo). `false` (and nothing done) unless
/// `g` is a 3×3 stride-1 undilated convolution with padding at most 2 of non-empty images.
pub(crate) fn conv2d_input_grad<E: KernelFloat>(
    g: &Conv2dGeom,
    w: &[E],
    gout: &[E],
    gx: &mut [E],
) -> bool {
    let Some(fwd) = Plan::of(g) else {
        return false;
    };
    // the output gradient, padded by 2 − p, convolved back to H × W
    let Some(pl) = 2usize
        .checked_sub(fwd.pad)
        .and_then(|pad| Plan::new(g.batch, (g.chan_out, g.h_out, g.w_out), g.chan_in, pad))
    else {
        return false;
    };
    debug_assert_eq!((pl.h_out, pl.w_out), (g.h_in, g.w_in));
    let (o, c) = (g.chan_out, g.chan_in);
    let mut u = take(16 * c * o, E::zero());
    // kernel (c ← o) is w[o][c] turned by 180°
    transform_weights(c, o, |ic, oc| taps(w, (oc * c + ic) * 9, true), &mut u);
    run(&pl, gout, &u, None, gx, true);
    give(u);
    true
}

/// Adds the weights' gradient (O, C, 3, 3) to `gw` and the bias's (O,) to `gb`, from the input
/// `x` (B, C, H, W) and the output gradient `gout` (B, O, Ho, Wo); `false` (and nothing done)
/// unless `g` is a 3×3 stride-1 undilated convolution of non-empty images.
///
/// The forward pass is `Y = Aᵀ [U ⊙ V] A` per tile with `U = G g Gᵀ`, linear in `g`, so the
/// kernel's gradient is `Gᵀ (Σ_tiles (A dY Aᵀ) ⊙ V) G`: per matrix `ξ` one product
/// `dU_ξ (O × C) = Σ_tiles dY'_ξ (O × T) · V_ξᵀ (T × C)` over the transformed output gradients
/// `dY' = A dY Aᵀ` and input tiles `V`, 16·T multiply-adds per weight pair in place of im2col's
/// 9·4·T. Tasks of whole blocks, at least `conv2d::IMAGES_PER_TASK` images, sum their own
/// `dU` and bias gradient; the partial sums are added in task order (the same bits on any
/// number of threads).
pub(crate) fn conv2d_weight_grad<E: KernelFloat>(
    g: &Conv2dGeom,
    x: &[E],
    gout: &[E],
    gw: &mut [E],
    gb: &mut [E],
) -> bool {
    let Some(pl) = Plan::of(g) else {
        return false;
    };
    let (c, o) = (pl.chan_in, pl.chan_out);
    let (in_len, plane_len) = (c * pl.h * pl.w, pl.h_out * pl.w_out);
    let out_len = o * plane_len;
    let tiles = pl.th * pl.tw;
    let per_block = BLOCK_TILES.div_ceil(tiles).clamp(1, pl.batch);
    let per_task = IMAGES_PER_TASK.div_ceil(per_block) * per_block;
    let part_len = 16 * o * c + o;
    let mut partials = take(pl.batch.div_ceil(per_task) * part_len, E::zero());
    partials
        .par_chunks_mut(part_len)
        .zip(x[..pl.batch * in_len].par_chunks(in_len * per_task))
        .zip(gout[..pl.batch * out_len].par_chunks(out_len * per_task))
        .for_each(|((part, x), gout)| {
            let (du, db) = part.split_at_mut(16 * o * c);
            db.fill(E::zero());
            let mut rows = take(scratch_len(&pl), E::zero());
            for (bi, (x, gout)) in x
                .chunks(in_len * per_block)
                .zip(gout.chunks(out_len * per_block))
                .enumerate()
            {
                let t = x.len() / in_len * tiles;
                let (vs, ms) = (c * t + SKEW, o * t + SKEW);
                let mut v = take(16 * vs, E::zero());
                let mut m = take(16 * ms, E::zero());
                E::input_block(&pl, x, &mut rows, &mut v, t, vs);
                E::grad_block(&pl, gout, &mut m, t, ms);
                for img in gout.chunks_exact(out_len) {
                    for (acc, plane) in db.iter_mut().zip(img.chunks_exact(plane_len)) {
                        *acc += sum(plane);
                    }
                }
                for xi in 0..16 {
                    // dU_ξ (O × C) += dY'_ξ (O × t) · V_ξᵀ (t × C)
                    let (lhs, rhs) = (
                        Mat {
                            data: &m[xi * ms..][..o * t],
                            rs: t,
                            cs: 1,
                        },
                        Mat {
                            data: &v[xi * vs..][..c * t],
                            rs: 1,
                            cs: t,
                        },
                    );
                    matmul(o, c, t, &mut du[xi * o * c..][..o * c], lhs, rhs, bi > 0);
                }
                give(v);
                give(m);
            }
            give(rows);
        });
    let (first, rest) = partials.split_at_mut(part_len);
    for part in rest.chunks_exact(part_len) {
        for (acc, v) in first.iter_mut().zip(part) {
            *acc += *v;
        }
    }
    let (du, db) = first.split_at(16 * o * c);
    for (acc, v) in gb.iter_mut().zip(db) {
        *acc += *v;
    }
    kernel_grads(o, c, du, gw);
    give(partials);
    true
}

/// Adds `Gᵀ D G` to each 3×3 kernel gradient `gw[(o·C + c)·9..][..9]`, `D` the 4×4 values of
/// `du` (16 × O × C) at `(o, c)`. `Gᵀ` on four values: `[d0 + (d1 + d2)/2, (d1 − d2)/2,
/// (d1 + d2)/2 + d3]`.
fn kernel_grads<E: KernelFloat>(o: usize, c: usize, du: &[E], gw: &mut [E]) {
    let half = E::one() / (E::one() + E::one());
    let gt = |d: [E; 4]| {
        let mid = (d[1] + d[2]) * half;
        [d[0] + mid, (d[1] - d[2]) * half, mid + d[3]]
    };
    for (oc_ic, kernel) in gw[..o * c * 9].chunks_exact_mut(9).enumerate() {
        let d = |xi: usize| du[xi * o * c + oc_ic];
        // Gᵀ on each column s of D, then on each row of the 3 × 4 result
        let cols: [[E; 3]; 4] = std::array::from_fn(|s| gt([d(s), d(4 + s), d(8 + s), d(12 + s)]));
        for (p, line) in kernel.chunks_exact_mut(3).enumerate() {
            let row = gt([cols[0][p], cols[1][p], cols[2][p], cols[3][p]]);
            for (k, v) in line.iter_mut().zip(row) {
                *k += v;
            }
        }
    }
}

/// The 9 taps of the 3×3 kernel at `w[at..at + 9]`, turned by 180° when `flip`.
fn taps<E: Copy>(w: &[E], at: usize, flip: bool) -> [E; 9] {
    let k = &w[at..][..9];
    std::array::from_fn(|i| if flip { k[8 - i] } else { k[i] })
}

/// `u` (16 × O × C): element `ξ = 4·r + s` of `G g Gᵀ` for every kernel `g = kernel(o, c)`
/// (3×3, row-major), `G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]`.
fn transform_weights<E: KernelFloat>(
    o: usize,
    c: usize,
    kernel: impl Fn(usize, usize) -> [E; 9],
    u: &mut [E],
) {
    let half = E::one() / (E::one() + E::one());
    // G applied to three values: [a, (a + b + c)/2, (a − b + c)/2, c]
    let g3 = |a: E, b: E, c: E| [a, (a + b + c) * half, (a - b + c) * half, c];
    for oc in 0..o {
        for ic in 0..c {
            let k = kernel(oc, ic);
            // columns of G g: G applied to each kernel column
            let cols: [[E; 4]; 3] = std::array::from_fn(|j| g3(k[j], k[3 + j], k[6 + j]));
            for r in 0..4 {
                // row r of (G g) Gᵀ: G applied to row r of G g
                let row = g3(cols[0][r], cols[1][r], cols[2][r]);
                for (s, v) in row.into_iter().enumerate() {
                    u[((4 * r + s) * o + oc) * c + ic] = v;
                }
            }
        }
    }
}

/// The convolution of `pl` with transformed kernels `u` (16 × O × C): `out` (B, O, Ho, Wo) is
/// set to (or, when `accumulate`, added) the result plus `bias`.
fn run<E: KernelFloat>(
    pl: &Plan,
    x: &[E],
    u: &[E],
    bias: Option<&[E]>,
    out: &mut [E],
    accumulate: bool,
) {
    let (c, o) = (pl.chan_in, pl.chan_out);
    let (in_len, out_len) = (c * pl.h * pl.w, o * pl.h_out * pl.w_out);
    let tiles = pl.th * pl.tw;
    let per_block = BLOCK_TILES.div_ceil(tiles).clamp(1, pl.batch);
    out[..pl.batch * out_len]
        .par_chunks_mut(out_len * per_block)
        .zip(x[..pl.batch * in_len].par_chunks(in_len * per_block))
        .for_each(|(out, x)| {
            let t = out.len() / out_len * tiles;
            // the 16 matrices of V and of M a little more than a matrix apart (see `SKEW`)
            let (vs, ms) = (c * t + SKEW, o * t + SKEW);
            let mut v = take(16 * vs, E::zero());
            let mut m = take(16 * ms, E::zero());
            let mut rows = take(scratch_len(pl), E::zero());
            E::input_block(pl, x, &mut rows, &mut v, t, vs);
            for xi in 0..16 {
                let (lhs, rhs) = (
                    Mat {
                        data: &u[xi * o * c..][..o * c],
                        rs: c,
                        cs: 1,
                    },
                    Mat {
                        data: &v[xi * vs..][..c * t],
                        rs: t,
                        cs: 1,
                    },
                );
                matmul(o, t, c, &mut m[xi * ms..][..o * t], lhs, rhs, false);
            }
            E::output_block(pl, &m, ms, bias, &mut rows, out, accumulate);
            give(v);
            give(m);
            give(rows);
        });
}

/// The tile transforms of a block for an element type: the portable loops below for `f64`;
/// for `f32`, eight tiles per vector with AVX2 (`winograd_avx2`) when the CPU has it.
pub trait WinogradTiles: Sized {
    /// `Bᵀ d B` of every tile of the block's images `x` into `v` ([`input_tiles`] per plane).
    fn input_block(pl: &Plan, x: &[Self], rows: &mut [Self], v: &mut [Self], t: usize, vs: usize);
    /// `A dY Aᵀ` of every tile of the block's output gradients `gout` into `m`
    /// ([`grad_block`]).
    fn grad_block(pl: &Plan, gout: &[Self], m: &mut [Self], t: usize, ms: usize);
    /// `Aᵀ m A + bias` of every tile into the block's images `out` ([`output_tiles`] per plane).
    fn output_block(
        pl: &Plan,
        m: &[Self],
        ms: usize,
        bias: Option<&[Self]>,
        rows: &mut [Self],
        out: &mut [Self],
        accumulate: bool,
    );
}

impl WinogradTiles for f64 {
    fn input_block(pl: &Plan, x: &[f64], rows: &mut [f64], v: &mut [f64], t: usize, vs: usize) {
        input_block(pl, x, rows, v, t, vs);
    }

    fn grad_block(pl: &Plan, gout: &[f64], m: &mut [f64], t: usize, ms: usize) {
        grad_block(pl, gout, m, t, ms);
    }

    fn output_block(
        pl: &Plan,
        m: &[f64],
        ms: usize,
        bias: Option<&[f64]>,
        rows: &mut [f64],
        out: &mut [f64],
        accumulate: bool,
    ) {
        output_block(pl, m, ms, bias, rows, out, accumulate);
    }
}

impl WinogradTiles for f32 {
    fn input_block(pl: &Plan, x: &[f32], rows: &mut [f32], v: &mut [f32], t: usize, vs: usize) {
        #[cfg(target_arch = "x86_64")]
        if super::simd::has_avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA; `rows` (`scratch_len`) holds the padded plane.
            return unsafe { super::winograd_avx2::input_block(pl, x, rows, v, t, vs) };
        }
        input_block(pl, x, rows, v, t, vs);
    }

    fn grad_block(pl: &Plan, gout: &[f32], m: &mut [f32], t: usize, ms: usize) {
        #[cfg(target_arch = "x86_64")]
        if super::simd::has_avx2_fma()
            // SAFETY: the CPU has AVX2 and FMA.
            && unsafe { super::winograd_avx2::grad_block(pl, gout, m, t, ms) }
        {
            return;
        }
        grad_block(pl, gout, m, t, ms);
    }

    fn output_block(
        pl: &Plan,
        m: &[f32],
        ms: usize,
        bias: Option<&[f32]>,
        rows: &mut [f32],
        out: &mut [f32],
        accumulate: bool,
    ) {
        #[cfg(target_arch = "x86_64")]
        if super::simd::has_avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA; `ms` leaves `SKEW` ≥ 8 values after each matrix.
            return unsafe { super::winograd_avx2::output_block(pl, m, ms, bias, out, accumulate) };
        }
        output_block(pl, m, ms, bias, rows, out, accumulate);
    }
}

avx2_fn! {
    /// [`input_tiles`] of every plane of the block's images `x` (`t` tiles in all) into `v`,
    /// whose 16 matrices are `vs` apart.
    fn input_block<E: KernelFloat>(
        pl: &Plan,
        x: &[E],
        rows: &mut [E],
        v: &mut [E],
        t: usize,
        vs: usize,
    ) {
        let tiles = pl.th * pl.tw;
        for (img, x) in x.chunks_exact(pl.chan_in * pl.h * pl.w).enumerate() {
            for (ch, plane) in x.chunks_exact(pl.h * pl.w).enumerate() {
                input_tiles(pl, plane, rows, v, ch * t + img * tiles, vs);
            }
        }
    }
}

avx2_fn! {
    /// [`output_tiles`] of every plane of the block's images `out` from `m`, whose 16 matrices
    /// are `ms` apart.
    fn output_block<E: KernelFloat>(
        pl: &Plan,
        m: &[E],
        ms: usize,
        bias: Option<&[E]>,
        rows: &mut [E],
        out: &mut [E],
        accumulate: bool,
    ) {
        let (tiles, plane_len) = (pl.th * pl.tw, pl.h_out * pl.w_out);
        let t = out.len() / plane_len / pl.chan_out * tiles;
        for (img, out) in out.chunks_exact_mut(pl.chan_out * plane_len).enumerate() {
            for (oc, plane) in out.chunks_exact_mut(plane_len).enumerate() {
                let b = bias.map_or(E::zero(), |b| b[oc]);
                output_tiles(pl, m, oc * t + img * tiles, ms, b, rows, plane, accumulate);
            }
        }
    }
}

avx2_fn! {
    /// `A dY Aᵀ` of every tile of every plane of the block's output gradients `gout` into `m`
    /// (matrix `ξ` at `ξ·ms`, channel `o` of image `i` from `o·t + i·th·tw`): zeros stand for
    /// the outputs past the edges of partial tiles. `A` on two values `[y0, y1]` gives
    /// `[y0, y0 + y1, y0 − y1, −y1]`.
    fn grad_block<E: KernelFloat>(pl: &Plan, gout: &[E], m: &mut [E], t: usize, ms: usize) {
        let (tw, ho, wo) = (pl.tw, pl.h_out, pl.w_out);
        let tiles = pl.th * tw;
        // per tile row: the even and odd columns of its two output rows, then A on each row
        let mut split = take(4 * tw, E::zero());
        let mut cols = take(8 * tw, E::zero());
        for (img, gout) in gout.chunks_exact(pl.chan_out * ho * wo).enumerate() {
            for (oc, plane) in gout.chunks_exact(ho * wo).enumerate() {
                let at = oc * t + img * tiles;
                for i in 0..pl.th {
                    for (a, eo) in split.chunks_exact_mut(2 * tw).enumerate() {
                        eo.fill(E::zero());
                        if 2 * i + a < ho {
                            let (e, od) = eo.split_at_mut(tw);
                            split_columns(&plane[(2 * i + a) * wo..][..wo], 0, e, od);
                        }
                    }
                    // cols[4a + s] = (y_a A)[s] over the row's tiles
                    for (eo, c4) in split.chunks_exact(2 * tw).zip(cols.chunks_exact_mut(4 * tw)) {
                        let (e, od) = eo.split_at(tw);
                        let (c0, rest) = c4.split_at_mut(tw);
                        let (c1, rest) = rest.split_at_mut(tw);
                        let (c2, c3) = rest.split_at_mut(tw);
                        for (j, (&y0, &y1)) in e.iter().zip(od).enumerate() {
                            c0[j] = y0;
                            c1[j] = y0 + y1;
                            c2[j] = y0 - y1;
                            c3[j] = -y1;
                        }
                    }
                    // element 4r + s: A on the two rows' column s
                    let (top, bottom) = cols.split_at(4 * tw);
                    let first = at + i * tw;
                    for s in 0..4 {
                        let (y0, y1) = (&top[s * tw..][..tw], &bottom[s * tw..][..tw]);
                        let line = |r: usize| (4 * r + s) * ms + first;
                        copy_line(&mut m[line(0)..][..tw], y0);
                        for (d, (a, b)) in m[line(1)..][..tw].iter_mut().zip(y0.iter().zip(y1)) {
                            *d = *a + *b;
                        }
                        for (d, (a, b)) in m[line(2)..][..tw].iter_mut().zip(y0.iter().zip(y1)) {
                            *d = *a - *b;
                        }
                        for (d, b) in m[line(3)..][..tw].iter_mut().zip(y1) {
                            *d = -*b;
                        }
                    }
                }
            }
        }
        give(split);
        give(cols);
    }
}

/// Scratch values [`input_tiles`] and [`output_tiles`] need.
fn scratch_len(pl: &Plan) -> usize {
    (2 * (2 * pl.th + 2) + 8) * (pl.tw + 1)
}

/// Writes `Bᵀ d B` of every tile of one input plane (H × W) to `v`: element `ξ` of tile
/// `(i, j)` at `v[ξ·stride + at + i·tw + j]`. `rows` is scratch of [`scratch_len`] values.
///
/// `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]`. The padded plane is first
/// split into its even and odd columns, so both the row combinations and the column combinations
/// (tile `j` reads columns `2j..2j + 4`) are unit-stride loops that vectorise.
#[inline(always)]
fn input_tiles<E: KernelFloat>(
    pl: &Plan,
    plane: &[E],
    rows: &mut [E],
    v: &mut [E],
    at: usize,
    stride: usize,
) {
    let (w, pad, tw) = (pl.w, pl.pad, pl.tw);
    let (half, padded_rows) = (tw + 1, 2 * pl.th + 2);
    let (ev, rest) = rows[..scratch_len(pl)].split_at_mut(padded_rows * half);
    let (od, comb) = rest.split_at_mut(padded_rows * half);
    // padded row r, column q is input (r − pad, q − pad), zero outside
    for (r, (er, or)) in ev
        .chunks_exact_mut(half)
        .zip(od.chunks_exact_mut(half))
        .enumerate()
    {
        er.fill(E::zero());
        or.fill(E::zero());
        if r >= pad && r - pad < pl.h {
            split_columns(&plane[(r - pad) * w..][..w], pad, er, or);
        }
    }
    for i in 0..pl.th {
        // Bᵀ d on padded rows 2i..2i + 4, even and odd columns alike
        for (src, dst) in [&*ev, &*od]
            .into_iter()
            .zip(comb.chunks_exact_mut(4 * half))
        {
            let d = |a: usize| &src[(2 * i + a) * half..][..half];
            let (d0, d1, d2, d3) = (d(0), d(1), d(2), d(3));
            let (u0, rest) = dst.split_at_mut(half);
            let (u1, rest) = rest.split_at_mut(half);
            let (u2, u3) = rest.split_at_mut(half);
            for q in 0..half {
                u0[q] = d0[q] - d2[q];
                u1[q] = d1[q] + d2[q];
                u2[q] = d2[q] - d1[q];
                u3[q] = d1[q] - d3[q];
            }
        }
        // (Bᵀ d) B: tile j's columns 2j, 2j + 1, 2j + 2, 2j + 3 are e[j], o[j], e[j + 1], o[j + 1]
        let first = at + i * tw;
        let (ue, uo) = comb.split_at(4 * half);
        for k in 0..4 {
            let (e, o) = (&ue[k * half..][..half], &uo[k * half..][..half]);
            let line = |s: usize| (4 * k + s) * stride + first;
            let (e0, e1, o0, o1) = (&e[..tw], &e[1..], &o[..tw], &o[1..]);
            for (d, (a, b)) in v[line(0)..][..tw].iter_mut().zip(e0.iter().zip(e1)) {
                *d = *a - *b;
            }
            for (d, (a, b)) in v[line(1)..][..tw].iter_mut().zip(o0.iter().zip(e1)) {
                *d = *a + *b;
            }
            for (d, (a, b)) in v[line(2)..][..tw].iter_mut().zip(e1.iter().zip(o0)) {
                *d = *a - *b;
            }
            for (d, (a, b)) in v[line(3)..][..tw].iter_mut().zip(o0.iter().zip(o1)) {
                *d = *a - *b;
            }
        }
    }
}

/// Splits the padded row of `src` (`pad` zeros, then `src`) into its even columns `e` and odd
/// columns `o`, which hold zeros where the padded row has none of `src`'s values.
#[inline(always)]
fn split_columns<E: Copy>(src: &[E], pad: usize, e: &mut [E], o: &mut [E]) {
    // src[0] sits at padded column `pad`; from `s[0]` on, pairs start at an even column
    let (s, at) = match (pad % 2, src.split_first()) {
        (1, Some((&first, rest))) => {
            o[pad / 2] = first;
            (rest, pad / 2 + 1)
        }
        _ => (src, pad / 2),
    };
    let pairs = s.chunks_exact(2);
    if let [last] = pairs.remainder() {
        e[at + s.len() / 2] = *last;
    }
    for (p, (e, o)) in pairs.zip(e[at..].iter_mut().zip(&mut o[at..])) {
        *e = p[0];
        *o = p[1];
    }
}

/// Adds `Aᵀ m A + bias` of every tile of one output plane (Ho × Wo) to `plane` (or sets it,
/// unless `accumulate`), element `ξ` of tile `(i, j)` read at `m[ξ·stride + at + i·tw + j]`;
/// `rows` is scratch of [`scratch_len`] values. `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]`; the
/// bottom row and right column of edge tiles past the output are dropped.
///
/// Unit-stride passes over a tile row: `Aᵀ m` as eight vectors (two rows of four), then the four
/// outputs of each tile as four vectors, interleaved into the two output rows.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn output_tiles<E: KernelFloat>(
    pl: &Plan,
    m: &[E],
    at: usize,
    stride: usize,
    bias: E,
    rows: &mut [E],
    plane: &mut [E],
    accumulate: bool,
) {
    let (tw, wo) = (pl.tw, pl.w_out);
    let (s, y) = rows[..12 * tw].split_at_mut(8 * tw);
    for i in 0..pl.th {
        let first = at + i * tw;
        let mx = |xi: usize| &m[xi * stride + first..][..tw];
        // Aᵀ m: s[c] = m[c] + m[4 + c] + m[8 + c], s[4 + c] = m[4 + c] − m[8 + c] − m[12 + c]
        for c in 0..4 {
            let (m0, m1, m2, m3) = (mx(c), mx(4 + c), mx(8 + c), mx(12 + c));
            let (lo, hi) = s.split_at_mut(4 * tw);
            let (s0, s1) = (&mut lo[c * tw..][..tw], &mut hi[c * tw..][..tw]);
            for j in 0..tw {
                s0[j] = m0[j] + m1[j] + m2[j];
                s1[j] = m1[j] - m2[j] - m3[j];
            }
        }
        // (Aᵀ m) A, per row a: y[2a] = s[0] + s[1] + s[2], y[2a + 1] = s[1] − s[2] − s[3]
        for (sa, ya) in s.chunks_exact(4 * tw).zip(y.chunks_exact_mut(2 * tw)) {
            let (c0, rest) = sa.split_at(tw);
            let (c1, rest) = rest.split_at(tw);
            let (c2, c3) = rest.split_at(tw);
            let (y0, y1) = ya.split_at_mut(tw);
            for j in 0..tw {
                y0[j] = c0[j] + c1[j] + c2[j] + bias;
                y1[j] = c1[j] - c2[j] - c3[j] + bias;
            }
        }
        for (a, ya) in y.chunks_exact(2 * tw).enumerate() {
            let oh = 2 * i + a;
            if oh >= pl.h_out {
                break;
            }
            let (y0, y1) = ya.split_at(tw);
            let dst = &mut plane[oh * wo..][..wo];
            let pairs = dst.chunks_exact_mut(2);
            if accumulate {
                for ((d, a), b) in pairs.zip(y0).zip(y1) {
                    d[0] += *a;
                    d[1] += *b;
                }
                if wo % 2 == 1 {
                    dst[wo - 1] += y0[tw - 1];
                }
            } else {
                for ((d, a), b) in pairs.zip(y0).zip(y1) {
                    d[0] = *a;
                    d[1] = *b;
                }
                if wo % 2 == 1 {
                    dst[wo - 1] = y0[tw - 1];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::oracle::{
        assert_close, conv_input_grad_ref, conv_ref, conv_weight_grad_ref, randn,
    };
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    /// (batch, in, h, w, out, padding): odd and even sizes (partial edge tiles both ways),
    /// padding 0, 1 and 2, 1×1 and 2×2 inputs, one to seventeen channels either side, and enough
    /// small images (31 of 9 tiles) for several blocks of [`BLOCK_TILES`] tiles.
    const GEOMS: [(usize, usize, usize, usize, usize, usize); 10] = [
        (1, 1, 3, 3, 1, 0),
        (2, 3, 7, 5, 4, 1),
        (3, 2, 6, 9, 5, 0),
        (2, 5, 5, 5, 3, 2),
        (1, 2, 1, 1, 3, 1),
        (2, 1, 2, 2, 2, 2),
        (1, 17, 8, 7, 16, 1),
        (4, 16, 4, 4, 17, 1),
        (31, 1, 5, 5, 2, 1),
        (2, 3, 32, 31, 2, 1),
    ];

    #[test]
    fn values_and_input_gradients_match_direct_loops_in_f64() {
        let mut rng = StdRng::seed_from_u64(11);
        for &(b, c, h, w, o, p) in &GEOMS {
            let g = Conv2dGeom::new(b, c, h, w, o, 3, 1, p).expect("fits");
            let (x, wt, bias) = (
                randn(&mut rng, b * c * h * w),
                randn(&mut rng, o * c * 9),
                randn(&mut rng, o),
            );
            // Transforms and products in f64 round like the direct loop's sum, to a few ulps of
            // the largest partial sums (|values| ≤ 9·C ≤ 153): 1e-12 relative leaves 100× room.
            let y = conv2d_forward(&g, &x, &wt, &bias).expect("a Winograd geometry");
            assert_close(
                &format!("y {g:?}"),
                &y,
                &conv_ref(&g, &x, &wt, &bias),
                1e-12,
            );
            give(y);

            // gx starts non-zero: the gradient is added to what is there
            let gout = randn(&mut rng, b * o * g.h_out * g.w_out);
            let start = randn(&mut rng, x.len());
            let mut gx = start.clone();
            assert!(conv2d_input_grad(&g, &wt, &gout, &mut gx), "{g:?}");
            let want: Vec<f64> = conv_input_grad_ref(&g, &wt, &gout)
                .iter()
                .zip(&start)
                .map(|(d, s)| d + s)
                .collect();
            assert_close(&format!("dx {g:?}"), &gx, &want, 1e-12);
        }
    }

    /// The weights' and bias's gradients against the direct loops in `f64`, added to what the
    /// buffers held, on every geometry (several blocks and tasks: 31 images of 9 tiles) and at
    /// padding 0, 1 and 2.
    #[test]
    fn weight_gradients_match_direct_loops_in_f64() {
        let mut rng = StdRng::seed_from_u64(14);
        for &(b, c, h, w, o, p) in &GEOMS {
            let g = Conv2dGeom::new(b, c, h, w, o, 3, 1, p).expect("fits");
            let x = randn(&mut rng, b * c * h * w);
            let gout = randn(&mut rng, b * o * g.h_out * g.w_out);
            let (start_w, start_b) = (randn(&mut rng, o * c * 9), randn(&mut rng, o));
            let (mut gw, mut gb) = (start_w.clone(), start_b.clone());
            assert!(conv2d_weight_grad(&g, &x, &gout, &mut gw, &mut gb), "{g:?}");
            let (want_w, want_b) = conv_weight_grad_ref(&g, &x, &gout);
            let plus =
                |d: &[f64], s: &[f64]| d.iter().zip(s).map(|(d, s)| d + s).collect::<Vec<_>>();
            // sums of B·Ho·Wo products of values in [−1, 1) (up to 775 here): 1e-12 relative
            // is a few hundred ulps of the largest partial sums' size
            assert_close(&format!("dw {g:?}"), &gw, &plus(&want_w, &start_w), 1e-12);
            assert_close(&format!("db {g:?}"), &gb, &plus(&want_b, &start_b), 1e-12);
        }
    }

    /// `f32` weight gradients of VGG- and ResNet-sized layers stay near the `f64` definition.
    #[test]
    fn f32_weight_gradients_stay_near_the_f64_definition() {
        let mut rng = StdRng::seed_from_u64(15);
        for &(b, c, h, o) in &[(3, 64, 16, 64), (2, 16, 32, 16), (5, 32, 8, 48)] {
            let g = Conv2dGeom::new(b, c, h, h, o, 3, 1, 1).expect("fits");
            let x = randn(&mut rng, b * c * h * h);
            let gout = randn(&mut rng, b * o * h * h);
            let f32s = |v: &[f64]| v.iter().map(|&v| v as f32).collect::<Vec<_>>();
            let f64s = |v: &[f32]| v.iter().map(|&v| v as f64).collect::<Vec<_>>();
            let (mut gw, mut gb) = (vec![0.0f32; o * c * 9], vec![0.0f32; o]);
            assert!(conv2d_weight_grad(
                &g,
                &f32s(&x),
                &f32s(&gout),
                &mut gw,
                &mut gb
            ));
            let (want_w, want_b) = conv_weight_grad_ref(&g, &x, &gout);
            // each weight sums B·H·W ≤ 1024 products of values in [−1, 1): typical size ~10,
            // f32 rounding of such sums ~1e-5; 1e-4·(1 + |want|) leaves room, and a lost tile
            // or a wrong tap moves a value by ~1
            assert_close("f32 dw", &f64s(&gw), &want_w, 1e-4);
            assert_close("f32 db", &f64s(&gb), &want_b, 1e-4);
        }
    }

    #[test]
    fn f32_values_and_input_gradients_stay_near_the_f64_definition() {
        let mut rng = StdRng::seed_from_u64(12);
        // 64 channels in and out on 16×16 (batch 2), and 32 → 48 channels on 8×8
        for &(b, c, h, o) in &[(2, 64, 16, 64), (1, 32, 8, 48)] {
            let g = Conv2dGeom::new(b, c, h, h, o, 3, 1, 1).expect("fits");
            let (x, wt, bias) = (
                randn(&mut rng, b * c * h * h),
                randn(&mut rng, o * c * 9),
                randn(&mut rng, o),
            );
            let gout = randn(&mut rng, b * o * h * h);
            let f32s = |v: &[f64]| v.iter().map(|&v| v as f32).collect::<Vec<_>>();
            let f64s = |v: &[f32]| v.iter().map(|&v| v as f64).collect::<Vec<_>>();
            let y = conv2d_forward(&g, &f32s(&x), &f32s(&wt), &f32s(&bias)).expect("Winograd");
            let mut gx = vec![0.0f32; x.len()];
            assert!(conv2d_input_grad(&g, &f32s(&wt), &f32s(&gout), &mut gx));
            // Each value sums 9·C (9·O for dx) products of values in [−1, 1): their typical size
            // is √(9·C)/3 ≈ 8, and a sum of 576 f32 terms (im2col's too) strays by about
            // √576·6e-8·8 ≈ 1e-5; the transforms add a few roundings of partial sums as large.
            // 1e-4·(1 + |want|) is a few times that, and 100× below a wrong tap or a lost tile.
            let tol = 1e-4;
            assert_close("f32 y", &f64s(&y), &conv_ref(&g, &x, &wt, &bias), tol);
            assert_close(
                "f32 dx",
                &f64s(&gx),
                &conv_input_grad_ref(&g, &wt, &gout),
                tol,
            );
            give(y);
        }
    }

    /// The `f32` tile transforms (eight tiles per vector where the CPU has AVX2, with the
    /// shuffling paths for planes 4k tiles wide and the gathering or portable ones otherwise)
    /// give the same bits as the portable loops: input tiles, output-gradient tiles and
    /// outputs, on every geometry above (partial edge tiles, short last groups) and four more
    /// (three of whole tiles 4k wide, one with a half-full last group of eight).
    #[test]
    fn f32_tile_transforms_match_the_portable_loops_bit_for_bit() {
        let mut rng = StdRng::seed_from_u64(13);
        let more = [
            (2, 3, 16, 16, 5, 1),
            (3, 2, 8, 8, 3, 1),
            (1, 2, 6, 8, 2, 1),
            (1, 2, 9, 16, 2, 0),
        ];
        for &(b, c, h, w, o, p) in GEOMS.iter().chain(&more) {
            let pl = Plan::new(b, (c, h, w), o, p).expect("a Winograd geometry");
            let t = b * pl.th * pl.tw;
            let (vs, ms) = (c * t + SKEW, o * t + SKEW);
            let f32s = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect::<Vec<_>>();
            let x = f32s(randn(&mut rng, b * c * h * w));
            let mut rows = vec![0.0f32; scratch_len(&pl)];
            let (mut fast, mut portable) = (vec![0.0f32; 16 * vs], vec![0.0f32; 16 * vs]);
            <f32 as WinogradTiles>::input_block(&pl, &x, &mut rows, &mut fast, t, vs);
            input_block(&pl, &x, &mut rows, &mut portable, t, vs);
            let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&fast),
                bits(&portable),
                "V of {:?}",
                (b, c, h, w, o, p)
            );

            let gout = f32s(randn(&mut rng, b * o * pl.h_out * pl.w_out));
            let (mut fast, mut portable) = (vec![0.0f32; 16 * ms], vec![0.0f32; 16 * ms]);
            <f32 as WinogradTiles>::grad_block(&pl, &gout, &mut fast, t, ms);
            grad_block(&pl, &gout, &mut portable, t, ms);
            assert_eq!(
                bits(&fast),
                bits(&portable),
                "dY' of {:?}",
                (b, c, h, w, o, p)
            );

            let m = f32s(randn(&mut rng, 16 * ms));
            let bias = f32s(randn(&mut rng, o));
            let start = f32s(randn(&mut rng, b * o * pl.h_out * pl.w_out));
            for (bias, accumulate) in [(Some(&bias[..]), false), (None, true)] {
                let (mut fast, mut portable) = (start.clone(), start.clone());
                <f32 as WinogradTiles>::output_block(
                    &pl, &m, ms, bias, &mut rows, &mut fast, accumulate,
                );
                output_block(&pl, &m, ms, bias, &mut rows, &mut portable, accumulate);
                assert_eq!(
                    bits(&fast),
                    bits(&portable),
                    "Y of {:?}",
                    (b, c, h, w, o, p)
                );
            }
        }
    }

    #[test]
    fn other_geometries_are_left_to_im2col() {
        let (x, w, b) = ([0.0f32; 200], [0.0f32; 200], [0.0f32; 2]);
        for g in [
            Conv2dGeom::new(1, 1, 6, 6, 2, 5, 1, 2),
            Conv2dGeom::new(1, 1, 6, 6, 2, 3, 2, 1),
            Conv2dGeom::new(1, 1, 6, 6, 2, 3, 1, 1).and_then(|g| g.dilated(2)),
            Conv2dGeom::new(0, 1, 6, 6, 2, 3, 1, 1),
            Conv2dGeom::new(1, 1, 0, 0, 2, 3, 1, 2),
        ] {
            let g = g.expect("fits");
            assert_eq!(conv2d_forward(&g, &x, &w, &b), None, "{g:?}");
            assert!(!conv2d_input_grad(&g, &w, &x, &mut [0.0; 200]), "{g:?}");
        }
        // padding 3: the forward pass runs here, the input gradient (padding −1) does not
        let g = Conv2dGeom::new(1, 1, 2, 2, 2, 3, 1, 3).expect("fits");
        let y = conv2d_forward(&g, &x, &w, &b).expect("a Winograd forward pass");
        give(y);
        assert!(!conv2d_input_grad(&g, &w, &x, &mut [0.0; 4]));
    }

    /// A record of the PyTorch fixtures: its `key` as numbers.
    fn fixture(rec: &serde_json::Value, key: &str) -> Vec<f32> {
        let v = rec.pointer(key).and_then(|v| v.as_array()).expect(key);
        v.iter()
            .map(|v| v.as_f64().expect("a number") as f32)
            .collect()
    }

    #[test]
    fn pytorch_conv2d_fixture_values_and_input_gradient() {
        let all: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/pytorch/layers.json"))
                .expect("the fixture parses");
        let rec = all["records"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["name"] == "conv2d"))
            .expect("the conv2d record");
        // torch.nn.Conv2d(2, 3, 3) on a (2, 2, 6, 6) batch
        let g = Conv2dGeom::new(2, 2, 6, 6, 3, 3, 1, 0).expect("fits");
        let (w, b) = (fixture(rec, "/params/weight"), fixture(rec, "/params/bias"));
        let y = conv2d_forward(&g, &fixture(rec, "/x"), &w, &b).expect("Winograd");
        let mut gx = vec![0.0f32; g.batch * 2 * 36];
        assert!(conv2d_input_grad(&g, &w, &fixture(rec, "/gy"), &mut gx));
        // f32 on both sides, sums of 18 (y) and 27 (dx) products: 1e-5 as the layer tests allow
        let f64s = |v: &[f32]| v.iter().map(|&v| v as f64).collect::<Vec<_>>();
        assert_close("y", &f64s(&y), &f64s(&fixture(rec, "/y")), 1e-5);
        assert_close("dx", &f64s(&gx), &f64s(&fixture(rec, "/grad_x")), 1e-5);
        give(y);
    }
}
