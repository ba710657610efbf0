//! Wiring the slice kernels into dfdx's tape: read the input, run the kernel, build the output in
//! the caller's shape type (so typed layers need no reshape) and record the backward pass.

use super::scratch::{give, take};
use super::*;
use crate::nn::device::Pooling;
use dfdx::prelude::*;

/// Reads a tensor's elements in logical order (one memcpy; `Tensor` storage is private to dfdx).
fn read<S: Shape, E: KernelFloat, T>(t: &Tensor<S, E, Cpu, T>) -> Vec<E>
where
    Cpu: Device<E>,
{
    let mut v = take(t.shape().num_elements(), E::zero());
    t.copy_into(&mut v);
    v
}

/// A tensor of shape `shape` holding `buf`, which goes back to the scratch pool.
///
/// The tensor is allocated by dfdx rather than built from `buf` with `tensor_from_vec`: with
/// dfdx's allocation cache enabled (`dev.enable_cache()`), a buffer handed to dfdx enters its
/// cache when the tensor drops, so handing over a fresh buffer every step grows the cache without
/// bound (measured: out of memory after ~3 Fashion-MNIST epochs). The copy costs about as much as
/// the page faults of a fresh allocation would.
fn tensor_from_scratch<S: Shape, E: KernelFloat>(
    dev: &Cpu,
    buf: Vec<E>,
    shape: S,
) -> Result<Tensor<S, E, Cpu>, CpuError>
where
    Cpu: Device<E>,
{
    let mut t = dev.try_zeros_like(&shape)?;
    t.copy_from(&buf);
    give(buf);
    Ok(t)
}

/// `conv2d(x, weight, bias)` with geometry `g`, producing a tensor of shape `out_shape` (which
/// must hold `g.batch·g.chan_out·g.h_out·g.w_out` elements).
pub(crate) fn conv2d_op<
    Si: Shape,
    So: Shape,
    Sw: Shape,
    Sb: Shape,
    E: KernelFloat,
    T: Tape<E, Cpu>,
>(
    x: Tensor<Si, E, Cpu, T>,
    weight: &Tensor<Sw, E, Cpu>,
    bias: &Tensor<Sb, E, Cpu>,
    g: Conv2dGeom,
    out_shape: So,
) -> Result<Tensor<So, E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    // `copy_into` copies physical memory: make it contiguous first (a no-op when it already is).
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let (xd, bd) = (read(&x), read(bias));
    let w = read(weight);
    let out = conv2d_forward(&g, &xd, &w, &bd);
    give(bd);
    let out = tensor_from_scratch(x.device(), out, out_shape)?;
    if !T::OWNS_TAPE {
        give(xd);
        give(w);
    } else {
        let (xg, wg, bg, og) = (x.ghost(), weight.ghost(), bias.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            // dfdx lends one gradient at a time: copy the output's out first
            let mut gout = take(g.batch * g.chan_out * g.h_out * g.w_out, E::zero());
            gout.copy_from_slice(E::grad_slice(grads.get_or_alloc_mut(&og)?));
            let mut gb = take(g.chan_out, E::zero());
            gb.fill(E::zero());
            let mut gw = take(w.len(), E::zero());
            gw.fill(E::zero());
            conv2d_backward(
                &g,
                &xd,
                &w,
                &gout,
                &mut gw,
                &mut gb,
                Some(E::grad_slice(grads.get_or_alloc_mut(&xg)?)),
            );
            add_into(E::grad_slice(grads.get_or_alloc_mut(&wg)?), &gw);
            add_into(E::grad_slice(grads.get_or_alloc_mut(&bg)?), &gb);
            for buf in [gout, gb, gw, xd, w] {
                give(buf);
            }
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// `dst += src`.
fn add_into<E: KernelFloat>(dst: &mut [E], src: &[E]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += *s;
    }
}

/// A 2-D pool with geometry `g`, producing a tensor of shape `out_shape`.
pub(crate) fn pool2d_op<Si: Shape, So: Shape, E: KernelFloat, T: Tape<E, Cpu>>(
    x: Tensor<Si, E, Cpu, T>,
    kind: Pooling,
    g: Pool2dGeom,
    out_shape: So,
) -> Result<Tensor<So, E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let xd = read(&x);
    let (out, arg) = match kind {
        Pooling::Max => max_pool_forward(&g, &xd),
        Pooling::Avg => (avg_pool_forward(&g, &xd), Vec::new()),
    };
    give(xd);
    let out = tensor_from_scratch(x.device(), out, out_shape)?;
    if !T::OWNS_TAPE {
        give(arg);
    } else {
        let (xg, og) = (x.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            let mut gout = take(g.planes * g.h_out * g.w_out, E::zero());
            gout.copy_from_slice(E::grad_slice(grads.get_or_alloc_mut(&og)?));
            let gx = E::grad_slice(grads.get_or_alloc_mut(&xg)?);
            match kind {
                Pooling::Max => max_pool_backward(&g, &arg, &gout, gx),
                Pooling::Avg => avg_pool_backward(&g, &gout, gx),
            }
            give(gout);
            give(arg);
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}
