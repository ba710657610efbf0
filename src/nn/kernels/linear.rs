//! The CPU kernel of a dense layer, `y = x · Wᵀ + b`, and its wiring into dfdx's tape.
//!
//! Forward is one GEMM whose accumulator starts at the bias (no separate broadcast-add pass);
//! backward is two GEMMs (dW, dx) and a column sum (db), accumulated straight into dfdx's
//! gradient buffers.

use super::gemm::{matmul_split, Mat};
use super::scratch::{give, take};
use super::KernelFloat;
use dfdx::prelude::*;

/// Multiply-adds from which a product is split over the rayon threads (the MLP's first layer
/// from batch 42 up). Measured on the 2-core machine (issue 10, full Adam steps of the
/// 784-128-10 MLP, best of 7 runs of 100): splitting gained nothing at batch 32 (309 µs on one
/// thread, 306–336 µs on two) and 1.17× at batch 64 (505 µs, 430 µs), 1.55× at 256.
const PAR_WORK: usize = 1 << 22;

fn threads(m: usize, n: usize, k: usize) -> usize {
    if m.saturating_mul(n).saturating_mul(k) >= PAR_WORK {
        rayon::current_num_threads()
    } else {
        1
    }
}

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
    matmul_split(m, n, k, out, lhs, rhs, true, threads(m, n, k));
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
    matmul_split(m, n, k, gw, lhs, rhs, true, threads(m, n, k));
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
    matmul_split(m, n, k, gx, lhs, rhs, true, threads(m, n, k));
}

/// A scratch copy of a tensor's elements in logical order (`Tensor` storage is private to dfdx,
/// so reading it costs one memcpy).
fn read<S: Shape, E: KernelFloat, T>(t: &Tensor<S, E, Cpu, T>) -> Vec<E>
where
    Cpu: Device<E>,
{
    let mut v = take(t.shape().num_elements(), E::zero());
    t.copy_into(&mut v);
    v
}

/// `x · weightᵀ + bias` for `x` holding `g.rows` rows of `g.inp`, as a tensor of shape
/// `out_shape` (`g.rows·g.out` elements); records dx, dW and db on `x`'s tape when it owns one.
pub(crate) fn linear_op<Si: Shape, So: Shape, Sw: Shape, Sb: Shape, E, T>(
    x: Tensor<Si, E, Cpu, T>,
    weight: &Tensor<Sw, E, Cpu>,
    bias: &Tensor<Sb, E, Cpu>,
    g: LinearGeom,
    out_shape: So,
) -> Result<Tensor<So, E, Cpu, T>, CpuError>
where
    E: KernelFloat,
    T: Tape<E, Cpu>,
    Cpu: Device<E>,
{
    // `copy_into` copies physical memory: make it contiguous first (a no-op when it already is).
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let (xd, w, b) = (read(&x), read(weight), read(bias));
    let mut yd = take(g.rows * g.out, E::zero());
    linear_forward(g, &xd, &w, &b, &mut yd);
    give(b);
    // Allocated by dfdx, not handed over with `tensor_from_vec`: see `tape::tensor_from_scratch`
    // (a handed-over buffer would grow dfdx's allocation cache every step).
    let mut out = x.device().try_zeros_like(&out_shape)?;
    out.copy_from(&yd);
    give(yd);
    if !T::OWNS_TAPE {
        give(xd);
        give(w);
    } else {
        let (xg, wg, bg, og) = (x.ghost(), weight.ghost(), bias.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            // dfdx lends one gradient buffer at a time: copy the output's out first.
            let mut gy = take(g.rows * g.out, E::zero());
            gy.copy_from_slice(E::grad_slice(grads.get_or_alloc_mut(&og)?));
            bias_grad(g, &gy, E::grad_slice(grads.get_or_alloc_mut(&bg)?));
            weight_grad(g, &gy, &xd, E::grad_slice(grads.get_or_alloc_mut(&wg)?));
            input_grad(g, &gy, &w, E::grad_slice(grads.get_or_alloc_mut(&xg)?));
            give(gy);
            give(xd);
            give(w);
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}
