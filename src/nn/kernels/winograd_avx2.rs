//! The tile transforms of Winograd's F(2×2, 3×3) for `f32` with AVX2, eight tiles at a time:
//! the layout of `winograd`'s transformed tiles keeps a plane's tiles consecutive in each of the
//! 16 matrices, so eight consecutive tiles are one 8-lane vector there, whatever the plane's
//! width (a 4-tile-wide plane puts two tile rows in one vector).
//!
//! The input side reads each tile's 4×4 patch from a zero-padded copy of the plane: for planes
//! 4k tiles wide, two halves of four tiles of one tile row, whose even and odd columns are
//! shuffled out of unaligned loads; otherwise one gather per patch element. The output side
//! loads the 16 products' vectors and interleaves each output row's two pixels per tile into
//! whole output lines; the output gradient's side (weights' gradient) shuffles like the input's. Each value
//! takes the same operations in the same order as the portable loops in `winograd`, so both
//! paths give the same bits.

use super::conv2d::copy_line;
use super::winograd::Plan;
use std::arch::x86_64::*;

/// `Bᵀ d B` of every tile of every plane of the block's images `x` into `v` (matrix `ξ` at
/// `ξ·vs`, channel `c` of image `i` from `c·t + i·th·tw`); `padded` is scratch of at least
/// `(2·th + 2)·(2·tw + 2)` values.
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn input_block(
    pl: &Plan,
    x: &[f32],
    padded: &mut [f32],
    v: &mut [f32],
    t: usize,
    vs: usize,
) {
    let (hp, wp, tw) = (2 * pl.th + 2, 2 * pl.tw + 2, pl.tw);
    let tiles = pl.th * tw;
    let padded = &mut padded[..hp * wp];
    // the border stays zero for every plane; the interior is overwritten plane by plane
    padded.fill(0.0);
    // each tile's top-left corner in `padded`, in groups of eight (a short last group repeats
    // its last tile)
    let corners: Vec<i32> = (0..tiles.next_multiple_of(8))
        .map(|f| {
            let f = f.min(tiles - 1);
            (2 * (f / tw) * wp + 2 * (f % tw)) as i32
        })
        .collect();
    // every gather reads below (2·th + 1)·wp + 2·tw + 2 ≤ hp·wp
    assert!((2 * pl.th + 1) * wp + 2 * tw + 2 <= padded.len() && wp < i32::MAX as usize);
    for (img, x) in x.chunks_exact(pl.chan_in * pl.h * pl.w).enumerate() {
        for (ch, plane) in x.chunks_exact(pl.h * pl.w).enumerate() {
            for (r, src) in plane.chunks_exact(pl.w).enumerate() {
                copy_line(&mut padded[(r + pl.pad) * wp + pl.pad..][..pl.w], src);
            }
            let at = ch * t + img * tiles;
            let (padded, p) = (&*padded, padded.as_ptr());
            for (group, corner) in corners.chunks_exact(8).enumerate() {
                let f0 = 8 * group;
                // the patches' rows: rows[a][b] = element (a, b) of the eight tiles' patches
                let rows: [[__m256; 4]; 4] = if tw % 4 == 0 {
                    // each half of the group is four tiles of one tile row (or, past the last
                    // tile, a copy of the first half)
                    let half = |h: usize| corner[4 * h.min((tiles - f0 - 1) / 4)] as usize;
                    let (lo, hi) = (half(0), half(1));
                    std::array::from_fn(|a| patch_row(padded, lo + a * wp, hi + a * wp))
                } else {
                    let idx = load_i32x8(corner);
                    std::array::from_fn(|a| {
                        std::array::from_fn(|b| {
                            // SAFETY: corner + a·wp + b ≤ (2·th − 2 + 3)·wp + 2·tw − 2 + 3
                            // < hp·wp (the assert above) for a, b < 4.
                            unsafe { _mm256_i32gather_ps::<4>(p.add(a * wp + b), idx) }
                        })
                    })
                };
                let mut out = [_mm256_setzero_ps(); 16];
                // Bᵀ d (rows), then (Bᵀ d) B (columns) of each of its rows k
                let col = |b: usize| {
                    let [d0, d1, d2, d3] = [rows[0][b], rows[1][b], rows[2][b], rows[3][b]];
                    [
                        _mm256_sub_ps(d0, d2),
                        _mm256_add_ps(d1, d2),
                        _mm256_sub_ps(d2, d1),
                        _mm256_sub_ps(d1, d3),
                    ]
                };
                let (c0, c1, c2, c3) = (col(0), col(1), col(2), col(3));
                for k in 0..4 {
                    out[4 * k] = _mm256_sub_ps(c0[k], c2[k]);
                    out[4 * k + 1] = _mm256_add_ps(c1[k], c2[k]);
                    out[4 * k + 2] = _mm256_sub_ps(c2[k], c1[k]);
                    out[4 * k + 3] = _mm256_sub_ps(c1[k], c3[k]);
                }
                let n = (tiles - f0).min(8);
                for (xi, val) in out.iter().enumerate() {
                    let dst = &mut v[xi * vs + at + f0..][..n];
                    if n == 8 {
                        store8(dst, *val);
                    } else {
                        let mut lanes = [0.0f32; 8];
                        store8(&mut lanes, *val);
                        dst.copy_from_slice(&lanes[..n]);
                    }
                }
            }
        }
    }
}

/// `Aᵀ m A + bias` of every tile of every plane of the block's images `out` (set, or added to
/// what is there when `accumulate`), channel `o` of image `i` read from `m` at `o·t + i·th·tw`
/// in matrix `ξ` (at `ξ·ms`; `ms` leaves at least 8 values after each matrix's last tile).
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn output_block(
    pl: &Plan,
    m: &[f32],
    ms: usize,
    bias: Option<&[f32]>,
    out: &mut [f32],
    accumulate: bool,
) {
    let (tw, ho, wo) = (pl.tw, pl.h_out, pl.w_out);
    let (tiles, plane_len) = (pl.th * tw, ho * wo);
    let t = out.len() / plane_len / pl.chan_out * tiles;
    for (img, out) in out.chunks_exact_mut(pl.chan_out * plane_len).enumerate() {
        for (oc, plane) in out.chunks_exact_mut(plane_len).enumerate() {
            let b = _mm256_set1_ps(bias.map_or(0.0, |b| b[oc]));
            let at = oc * t + img * tiles;
            for f0 in (0..tiles).step_by(8) {
                let mx = |xi: usize| load8(&m[xi * ms + at + f0..]);
                // Aᵀ m: s[c] = m[c] + m[4 + c] + m[8 + c], s[4 + c] = m[4 + c] − m[8 + c] − m[12 + c]
                let mut s = [_mm256_setzero_ps(); 8];
                for c in 0..4 {
                    let (m0, m1, m2, m3) = (mx(c), mx(4 + c), mx(8 + c), mx(12 + c));
                    s[c] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
                    s[4 + c] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
                }
                for a in 0..2 {
                    let r = &s[4 * a..][..4];
                    let y0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r[0], r[1]), r[2]), b);
                    let y1 = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(r[1], r[2]), r[3]), b);
                    // output row 2i + a of four tiles per half: y0 and y1 lanes interleaved
                    let (lo, hi) = (_mm256_unpacklo_ps(y0, y1), _mm256_unpackhi_ps(y0, y1));
                    let halves = [
                        _mm256_permute2f128_ps::<0x20>(lo, hi),
                        _mm256_permute2f128_ps::<0x31>(lo, hi),
                    ];
                    for (q, half) in halves.into_iter().enumerate() {
                        let f = f0 + 4 * q;
                        if f >= tiles {
                            break;
                        }
                        let (i, j) = (f / tw, f % tw);
                        if f + 4 <= tiles && j + 4 <= tw && 2 * j + 8 <= wo && 2 * i + a < ho {
                            let dst = &mut plane[(2 * i + a) * wo + 2 * j..][..8];
                            let val = if accumulate {
                                _mm256_add_ps(load8(dst), half)
                            } else {
                                half
                            };
                            store8(dst, val);
                            continue;
                        }
                        // tiles across a row end or the output's edges: pixel by pixel
                        let mut vals = [0.0f32; 8];
                        store8(&mut vals, half);
                        for (l, pair) in vals.chunks_exact(2).enumerate() {
                            let f = f + l;
                            let (row, col) = (2 * (f / tw) + a, 2 * (f % tw));
                            if f >= tiles || row >= ho {
                                continue;
                            }
                            for (dc, &y) in pair.iter().enumerate() {
                                if col + dc < wo {
                                    let d = &mut plane[row * wo + col + dc];
                                    *d = if accumulate { *d + y } else { y };
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The first 8 values of `s`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn load8(s: &[f32]) -> __m256 {
    let s = &s[..8];
    // SAFETY: `s` holds 8 values; the load is unaligned.
    unsafe { _mm256_loadu_ps(s.as_ptr()) }
}

/// The first 8 values of `s`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn load_i32x8(s: &[i32]) -> __m256i {
    let s = &s[..8];
    // SAFETY: `s` holds 8 values; the load is unaligned.
    unsafe { _mm256_loadu_si256(s.as_ptr().cast()) }
}

/// Writes `v` to the first 8 values of `d`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn store8(d: &mut [f32], v: __m256) {
    let d = &mut d[..8];
    // SAFETY: `d` holds 8 values; the store is unaligned.
    unsafe { _mm256_storeu_ps(d.as_mut_ptr(), v) }
}

/// Elements 0 to 3 of one patch row of four consecutive tiles starting at `lo` (low half) and of
/// four starting at `hi` (high half): tile `l` of a half reads columns `2l..2l + 4` from its
/// start, so element `b` is the even (`b` = 0, 2) or odd (1, 3) columns from `b − b % 2` on.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn patch_row(padded: &[f32], lo: usize, hi: usize) -> [__m256; 4] {
    // columns q..q + 4 of both halves
    let cols = |q: usize| {
        let (l, h) = (&padded[lo + q..][..4], &padded[hi + q..][..4]);
        // SAFETY: both slices hold 4 values; the loads are unaligned.
        unsafe { _mm256_loadu2_m128(h.as_ptr(), l.as_ptr()) }
    };
    let (c0, c4, c2, c6) = (cols(0), cols(4), cols(2), cols(6));
    [
        _mm256_shuffle_ps::<0b10_00_10_00>(c0, c4),
        _mm256_shuffle_ps::<0b11_01_11_01>(c0, c4),
        _mm256_shuffle_ps::<0b10_00_10_00>(c2, c6),
        _mm256_shuffle_ps::<0b11_01_11_01>(c2, c6),
    ]
}

/// `A dY Aᵀ` of every tile of every plane of the block's output gradients `gout` into `m`
/// (matrix `ξ` at `ξ·ms`, channel `o` of image `i` from `o·t + i·th·tw`), for planes of whole
/// tiles 4k tiles wide (`Ho = 2·th`, `Wo = 2·tw`, `tw % 4 = 0`); `false` (nothing done) for
/// other planes. Eight tiles per vector, two halves of four tiles of one tile row each.
///
/// # Safety
/// The CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn grad_block(
    pl: &Plan,
    gout: &[f32],
    m: &mut [f32],
    t: usize,
    ms: usize,
) -> bool {
    let (th, tw, ho, wo) = (pl.th, pl.tw, pl.h_out, pl.w_out);
    if ho != 2 * th || wo != 2 * tw || tw % 4 != 0 {
        return false;
    }
    let tiles = th * tw;
    let neg = _mm256_set1_ps(-0.0);
    for (img, gout) in gout.chunks_exact(pl.chan_out * ho * wo).enumerate() {
        for (oc, plane) in gout.chunks_exact(ho * wo).enumerate() {
            let at = oc * t + img * tiles;
            for f0 in (0..tiles).step_by(8) {
                // the first value of output row 2i + a of each half's four tiles (a copy of the
                // first half past the last tile)
                let f1 = if f0 + 4 < tiles { f0 + 4 } else { f0 };
                let start = |f: usize, a: usize| (2 * (f / tw) + a) * wo + 2 * (f % tw);
                // A on each output row's pairs: [y0, y0 + y1, y0 − y1, −y1]
                let row = |a: usize| {
                    let cols = |q: usize| {
                        let (l, h) = (
                            &plane[start(f0, a) + q..][..4],
                            &plane[start(f1, a) + q..][..4],
                        );
                        // SAFETY: both slices hold 4 values; the loads are unaligned.
                        unsafe { _mm256_loadu2_m128(h.as_ptr(), l.as_ptr()) }
                    };
                    let (c0, c4) = (cols(0), cols(4));
                    let y0 = _mm256_shuffle_ps::<0b10_00_10_00>(c0, c4);
                    let y1 = _mm256_shuffle_ps::<0b11_01_11_01>(c0, c4);
                    [
                        y0,
                        _mm256_add_ps(y0, y1),
                        _mm256_sub_ps(y0, y1),
                        _mm256_xor_ps(y1, neg),
                    ]
                };
                let (top, bottom) = (row(0), row(1));
                let n = (tiles - f0).min(8);
                for s in 0..4 {
                    let lines = [
                        top[s],
                        _mm256_add_ps(top[s], bottom[s]),
                        _mm256_sub_ps(top[s], bottom[s]),
                        _mm256_xor_ps(bottom[s], neg),
                    ];
                    for (r, val) in lines.into_iter().enumerate() {
                        let dst = &mut m[(4 * r + s) * ms + at + f0..][..n];
                        if n == 8 {
                            store8(dst, val);
                        } else {
                            let mut lanes = [0.0f32; 8];
                            store8(&mut lanes, val);
                            dst.copy_from_slice(&lanes[..n]);
                        }
                    }
                }
            }
        }
    }
    true
}
