//! The CPU kernel of a dense layer, `y = x · Wᵀ + b`, on slices (its tape wiring is in
//! `nn::device`'s CPU implementation).
//!
//! Forward is one GEMM whose accumulator starts at the bias (no separate broadcast-add pass);
//! backward is two GEMMs (dW, dx) and a column sum (db), accumulated straight into dfdx's
//! gradient buffers.

use super::gemm::{matmul_split, split_parts, Mat};
use super::KernelFloat;

/// Sizes of one dense product: `rows` inputs of width `inp` to outputs of width `out`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinearGeom {
    pub rows: usize,
    pub inp: usize,
    pub out: usize,
}

/// `out (rows×out) = x (rows×inp) · wᵀ + b`, with `w` row-major `(out, inp)`.
pub(crate) fn linear_forward<E: KernelFloat>(
    g: LinearGeom,
    x: &[E],
    w: &[E],
    b: &[E],
    out: &mut [E],
) {
    for row in out.chunks_exact_mut(g.out.max(1)).take(g.rows) {
        row.copy_from_slice(b);
    }
    let (m, n, k) = (g.rows, g.out, g.inp);
    let lhs = Mat {
        data: x,
        rs: k,
        cs: 1,
    };
    let rhs = Mat {
        data: w,
        rs: 1,
        cs: k,
    };
    matmul_split(m, n, k, out, lhs, rhs, true, split_parts(m, n, k));
}

/// Adds the bias gradient (column sums of `gy`) to `gb`.
pub(crate) fn bias_grad<E: KernelFloat>(g: LinearGeom, gy: &[E], gb: &mut [E]) {
    for row in gy.chunks_exact(g.out.max(1)).take(g.rows) {
        for (acc, &v) in gb.iter_mut().zip(row) {
            *acc += v;
        }
    }
}

/// Adds `gyᵀ · x` (out×inp) to `gw`.
pub(crate) fn weight_grad<E: KernelFloat>(g: LinearGeom, gy: &[E], x: &[E], gw: &mut [E]) {
    let (m, n, k) = (g.out, g.inp, g.rows);
    let lhs = Mat {
        data: gy,
        rs: 1,
        cs: g.out,
    };
    let rhs = Mat {
        data: x,
        rs: g.inp,
        cs: 1,
    };
    matmul_split(m, n, k, gw, lhs, rhs, true, split_parts(m, n, k));
}

/// Adds `gy · w` (rows×inp) to `gx`.
pub(crate) fn input_grad<E: KernelFloat>(g: LinearGeom, gy: &[E], w: &[E], gx: &mut [E]) {
    let (m, n, k) = (g.rows, g.inp, g.out);
    let lhs = Mat {
        data: gy,
        rs: g.out,
        cs: 1,
    };
    let rhs = Mat {
        data: w,
        rs: g.inp,
        cs: 1,
    };
    matmul_split(m, n, k, gx, lhs, rhs, true, split_parts(m, n, k));
}
