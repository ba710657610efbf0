//! The CPU: [`LayerKernels`] on typenet's fused kernels, and all of their tape wiring in one
//! place. Each op borrows its inputs' and parameters' elements ([`borrow`]), runs the slice
//! kernel, writes the output into a tensor of the caller's shape type ([`out_buffer`], or
//! [`tensor_from_scratch`] for kernels that return their own buffer; typed layers need no
//! reshape) and, when the input carries a tape, records a backward closure that keeps clones of
//! the tensors it reads and writes straight into dfdx's gradients.
//!
//! dfdx 0.13 gates its own conv/pool ops behind `nightly`; this uses only dfdx's public tape API
//! (`split_tape`, `Tape::add_backward_op`, `ghost`, `Gradients::get_or_alloc_mut`).

use super::{
    BatchNormGeom, Conv2dGeom, LayerKernels, Pool2dGeom, Pooling, SizeError, TrainingDevice,
};
use crate::nn::kernels::{
    attention_backward, attention_forward, avg_pool_backward, avg_pool_forward, batch_norm_apply,
    batch_norm_backward, batch_norm_factors, batch_norm_stats, bias_grad, conv2d_backward,
    conv2d_forward, from_f64, give, gru_backward, gru_forward, input_grad, layer_norm_backward,
    layer_norm_forward, linear_forward, max_pool_backward, max_pool_forward, take, weight_grad,
    AttentionGeom, GruGeom, KernelFloat, LinearGeom,
};
use dfdx::prelude::*;

impl<E: KernelFloat> LayerKernels<E> for Cpu
where
    Cpu: Device<E>,
{
    fn try_linear<const I: usize, const O: usize, S: Shape, So: Shape, T: Tape<E, Self>>(
        x: Tensor<S, E, Self, T>,
        weight: &Tensor<Rank2<O, I>, E, Self>,
        bias: &Tensor<Rank1<O>, E, Self>,
        rows: usize,
        out_shape: So,
    ) -> Result<Tensor<So, E, Self, T>, CpuError> {
        SizeError::check_linear(
            rows,
            (I, O),
            x.shape().num_elements(),
            out_shape.num_elements(),
        )?;
        let g = LinearGeom {
            rows,
            inp: I,
            out: O,
        };
        linear_op(x, weight, bias, g, out_shape)
    }

    fn try_conv2d<Si: Shape, So: Shape, Sw: Shape, Sb: Shape, T: Tape<E, Self>>(
        x: Tensor<Si, E, Self, T>,
        weight: &Tensor<Sw, E, Self>,
        bias: &Tensor<Sb, E, Self>,
        g: Conv2dGeom,
        out_shape: So,
    ) -> Result<Tensor<So, E, Self, T>, CpuError> {
        SizeError::check_conv(
            &g,
            x.shape().num_elements(),
            weight.shape().num_elements(),
            bias.shape().num_elements(),
            out_shape.num_elements(),
        )?;
        conv2d_op(x, weight, bias, g, out_shape)
    }

    fn try_pool2d<Si: Shape, So: Shape, T: Tape<E, Self>>(
        x: Tensor<Si, E, Self, T>,
        kind: Pooling,
        g: Pool2dGeom,
        out_shape: So,
    ) -> Result<Tensor<So, E, Self, T>, CpuError> {
        SizeError::check_pool(&g, x.shape().num_elements(), out_shape.num_elements())?;
        pool2d_op(x, kind, g, out_shape)
    }

    fn try_batch_norm_train<const C: usize, S: Shape, T: Tape<E, Self>>(
        x: Tensor<S, E, Self, T>,
        scale: &Tensor<Rank1<C>, E, Self>,
        bias: &Tensor<Rank1<C>, E, Self>,
        running: (
            &mut Tensor<Rank1<C>, E, Self>,
            &mut Tensor<Rank1<C>, E, Self>,
        ),
        g: BatchNormGeom,
    ) -> Result<Tensor<S, E, Self, T>, CpuError> {
        SizeError::check_batch_norm(&g, C, x.shape().num_elements())?;
        batch_norm_train_op(x, scale, bias, running, g)
    }

    fn try_batch_norm_infer<const C: usize, S: Shape>(
        x: Tensor<S, E, Self>,
        scale: &Tensor<Rank1<C>, E, Self>,
        bias: &Tensor<Rank1<C>, E, Self>,
        (mean, var): (&Tensor<Rank1<C>, E, Self>, &Tensor<Rank1<C>, E, Self>),
        g: BatchNormGeom,
    ) -> Result<Tensor<S, E, Self>, CpuError> {
        SizeError::check_batch_norm(&g, C, x.shape().num_elements())?;
        batch_norm_infer_op(x, scale, bias, (mean, var), g)
    }

    fn try_gru_sequence<const I: usize, const H: usize, B: Dim, S: Dim, T: Tape<E, Self>>(
        x: Tensor<(B, S, Const<I>), E, Self, T>,
        weight_ih: &Tensor<Rank3<3, H, I>, E, Self>,
        weight_hh: &Tensor<Rank3<3, H, H>, E, Self>,
        bias_ih: &Tensor<Rank2<3, H>, E, Self>,
        bias_hh: &Tensor<Rank2<3, H>, E, Self>,
    ) -> Result<Tensor<(B, S, Const<H>), E, Self, T>, CpuError> {
        gru_sequence_op(x, (weight_ih, bias_ih), (weight_hh, bias_hh))
    }

    fn try_layer_norm<const M: usize, B: Dim, S: Dim, T: Tape<E, Self>>(
        x: Tensor<(B, S, Const<M>), E, Self, T>,
        gamma: &Tensor<Rank1<M>, E, Self>,
        beta: &Tensor<Rank1<M>, E, Self>,
        epsilon: f64,
    ) -> Result<Tensor<(B, S, Const<M>), E, Self, T>, CpuError> {
        layer_norm_op(x, gamma, beta, epsilon)
    }

    fn try_attention<const M: usize, B: Dim, S: Dim, T: Tape<E, Self>>(
        q: Tensor<(B, S, Const<M>), E, Self, T>,
        k: Tensor<(B, S, Const<M>), E, Self, T>,
        v: Tensor<(B, S, Const<M>), E, Self, T>,
        heads: usize,
    ) -> Result<Tensor<(B, S, Const<M>), E, Self, T>, CpuError> {
        attention_op(q, k, v, heads)
    }
}

impl<E: KernelFloat> TrainingDevice<E> for Cpu
where
    Cpu: Device<E>,
{
    fn try_with_slice(
        v: &mut <Self as Storage<E>>::Vec,
        f: &mut dyn FnMut(&mut [E]),
    ) -> Result<(), CpuError> {
        f(E::grad_slice(v));
        Ok(())
    }
}

/// A tensor's elements in logical order: its own buffer, borrowed, when the tensor is
/// contiguous and its buffer holds exactly its elements (every tensor an op made contiguous, every
/// parameter), else a copy.
fn borrow<S: Shape, E: KernelFloat, T>(t: &Tensor<S, E, Cpu, T>) -> std::borrow::Cow<'_, [E]>
where
    Cpu: Device<E>,
{
    match t.host_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        // `as_vec` follows the strides (`copy_into` would copy the buffer's physical order)
        None => std::borrow::Cow::Owned(t.as_vec()),
    }
}

/// The buffer of a tensor this op just allocated (its only owner), to write its output into.
fn out_buffer<S: Shape, E: KernelFloat>(t: &mut Tensor<S, E, Cpu>) -> Result<&mut [E], CpuError>
where
    Cpu: Device<E>,
{
    t.host_slice_mut().ok_or(CpuError::WrongNumElements)
}

/// `grad_and_output_grad!(grads, into, og)`: the gradient of `into` (to add to, `&mut [E]`) and
/// the output's gradient `og` (to read, `&[E]`), lent together (both allocated first), so that a
/// backward pass reads the output's gradient in place. A macro: dfdx's `Tensorlike`, which a
/// function would need as the bound of its arguments, is crate-private.
macro_rules! grad_and_output_grad {
    ($grads:expr, $into:expr, $og:expr) => {{
        $grads.try_alloc_for($into)?;
        $grads.try_alloc_for($og)?;
        let (into, og) = $grads.mut_and_ref($into, $og);
        (E::grad_slice(into), E::grad_slice_ref(og))
    }};
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

/// `dst += src`.
fn add_into<E: KernelFloat>(dst: &mut [E], src: &[E]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += *s;
    }
}

/// `x · weightᵀ + bias` for `x` holding `g.rows` rows of `g.inp`, as a tensor of shape
/// `out_shape` (`g.rows·g.out` elements); records dx, dW and db on `x`'s tape when it owns one.
fn linear_op<Si: Shape, So: Shape, Sw: Shape, Sb: Shape, E, T>(
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
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let mut out = x.device().try_zeros_like(&out_shape)?;
    linear_forward(
        g,
        &borrow(&x),
        &borrow(weight),
        &borrow(bias),
        out_buffer(&mut out)?,
    );
    if T::OWNS_TAPE {
        // the backward reads the input and the weights through clones of their tensors (no copy)
        let (xg, wg, bg, og) = (x.ghost(), weight.ghost(), bias.ghost(), out.ghost());
        let w = weight.clone();
        tape.add_backward_op(move |grads| {
            // the output's gradient, copied out: reading it in place (`grad_and_output_grad!`,
            // as the convolution and pooling do) measured 1.05–1.11× slower on the MLP's
            // 2-thread train step
            let mut gy = take(g.rows * g.out, E::zero());
            gy.copy_from_slice(E::grad_slice(grads.get_or_alloc_mut(&og)?));
            bias_grad(g, &gy, E::grad_slice(grads.get_or_alloc_mut(&bg)?));
            weight_grad(
                g,
                &gy,
                &borrow(&x),
                E::grad_slice(grads.get_or_alloc_mut(&wg)?),
            );
            input_grad(
                g,
                &gy,
                &borrow(&w),
                E::grad_slice(grads.get_or_alloc_mut(&xg)?),
            );
            give(gy);
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// `conv2d(x, weight, bias)` with geometry `g`, producing a tensor of shape `out_shape` (which
/// must hold `g.batch·g.chan_out·g.h_out·g.w_out` elements).
fn conv2d_op<Si: Shape, So: Shape, Sw: Shape, Sb: Shape, E: KernelFloat, T: Tape<E, Cpu>>(
    x: Tensor<Si, E, Cpu, T>,
    weight: &Tensor<Sw, E, Cpu>,
    bias: &Tensor<Sb, E, Cpu>,
    g: Conv2dGeom,
    out_shape: So,
) -> Result<Tensor<So, E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let out = conv2d_forward(&g, &borrow(&x), &borrow(weight), &borrow(bias));
    let out = tensor_from_scratch(x.device(), out, out_shape)?;
    if T::OWNS_TAPE {
        // the backward reads the input and the weights through clones of their tensors (no copy)
        let (xg, wg, bg, og) = (x.ghost(), weight.ghost(), bias.ghost(), out.ghost());
        let w = weight.clone();
        tape.add_backward_op(move |grads| {
            let mut gb = take(g.chan_out, E::zero());
            gb.fill(E::zero());
            let mut gw = take(w.shape().num_elements(), E::zero());
            gw.fill(E::zero());
            let (gx, gout) = grad_and_output_grad!(grads, &xg, &og);
            conv2d_backward(
                &g,
                &borrow(&x),
                &borrow(&w),
                gout,
                &mut gw,
                &mut gb,
                Some(gx),
            );
            add_into(E::grad_slice(grads.get_or_alloc_mut(&wg)?), &gw);
            add_into(E::grad_slice(grads.get_or_alloc_mut(&bg)?), &gb);
            for buf in [gb, gw] {
                give(buf);
            }
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// A 2-D pool with geometry `g`, producing a tensor of shape `out_shape`.
fn pool2d_op<Si: Shape, So: Shape, E: KernelFloat, T: Tape<E, Cpu>>(
    x: Tensor<Si, E, Cpu, T>,
    kind: Pooling,
    g: Pool2dGeom,
    out_shape: So,
) -> Result<Tensor<So, E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let xd = borrow(&x);
    let (out, arg) = match kind {
        Pooling::Max => max_pool_forward(&g, &xd),
        Pooling::Avg => (avg_pool_forward(&g, &xd), Vec::new()),
    };
    drop(xd);
    let out = tensor_from_scratch(x.device(), out, out_shape)?;
    if !T::OWNS_TAPE {
        give(arg);
    } else {
        let (xg, og) = (x.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            let (gx, gout) = grad_and_output_grad!(grads, &xg, &og);
            match kind {
                Pooling::Max => max_pool_backward(&g, &arg, gout, gx),
                Pooling::Avg => avg_pool_backward(&g, gout, gx),
            }
            give(arg);
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// Inference-mode batch norm: `(x − mean)·scale/√(var + ε) + bias` with the running statistics,
/// in one pass over `x`.
fn batch_norm_infer_op<const C: usize, S: Shape, E: KernelFloat>(
    x: Tensor<S, E, Cpu>,
    scale: &Tensor<Rank1<C>, E, Cpu>,
    bias: &Tensor<Rank1<C>, E, Cpu>,
    (mean, var): (&Tensor<Rank1<C>, E, Cpu>, &Tensor<Rank1<C>, E, Cpu>),
    g: BatchNormGeom,
) -> Result<Tensor<S, E, Cpu>, CpuError>
where
    Cpu: Device<E>,
{
    let x = x.try_contiguous()?;
    let (inv_std, a) = batch_norm_factors(&borrow(scale), &borrow(var), g.epsilon);
    let mut out = x.device().try_zeros_like(x.shape())?;
    batch_norm_apply(
        g.dims(C),
        &borrow(&x),
        &borrow(mean),
        &a,
        &borrow(bias),
        out_buffer(&mut out)?,
    );
    for buf in [inv_std, a] {
        give(buf);
    }
    Ok(out)
}

/// Training-mode batch norm with geometry `g` (see
/// [`LayerKernels::try_batch_norm_train`]): the batch statistics, the running statistics'
/// update (as dfdx's `axpy`, in `E`), the normalised output, and its closed-form backward pass
/// when `x` owns a tape.
fn batch_norm_train_op<const C: usize, S: Shape, E: KernelFloat, T: Tape<E, Cpu>>(
    x: Tensor<S, E, Cpu, T>,
    scale: &Tensor<Rank1<C>, E, Cpu>,
    bias: &Tensor<Rank1<C>, E, Cpu>,
    (running_mean, running_var): (&mut Tensor<Rank1<C>, E, Cpu>, &mut Tensor<Rank1<C>, E, Cpu>),
    g: BatchNormGeom,
) -> Result<Tensor<S, E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    let shape = *x.shape();
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let d = g.dims(C);
    let (mut mean, mut var) = (take(C, E::zero()), take(C, E::zero()));
    batch_norm_stats(d, &borrow(&x), &mut mean, &mut var);

    // running = running·(1 − momentum) + batch·momentum; the variance's batch term unbiased.
    let n = d.count() as f64;
    let keep: E = from_f64(1.0 - g.momentum);
    let (wm, wv): (E, E) = (from_f64(g.momentum), from_f64(g.momentum * n / (n - 1.0)));
    let (mut rm, mut rv) = (
        borrow(running_mean).into_owned(),
        borrow(running_var).into_owned(),
    );
    for c in 0..C {
        rm[c] = rm[c] * keep + mean[c] * wm;
        rv[c] = rv[c] * keep + var[c] * wv;
    }
    running_mean.copy_from(&rm);
    running_var.copy_from(&rv);

    let (inv_std, a) = batch_norm_factors(&borrow(scale), &var, g.epsilon);
    let mut out = x.device().try_zeros_like(&shape)?;
    batch_norm_apply(
        d,
        &borrow(&x),
        &mean,
        &a,
        &borrow(bias),
        out_buffer(&mut out)?,
    );
    for buf in [var, a] {
        give(buf);
    }
    if !T::OWNS_TAPE {
        for buf in [mean, inv_std] {
            give(buf);
        }
    } else {
        // the backward reads the input and the scale through clones of their tensors (no copy)
        let (xg, sg, bg, og) = (x.ghost(), scale.ghost(), bias.ghost(), out.ghost());
        let sc = scale.clone();
        tape.add_backward_op(move |grads| {
            // dfdx lends one gradient buffer at a time: copy the output's out first.
            let mut gy = take(shape.num_elements(), E::zero());
            gy.copy_from_slice(E::grad_slice(grads.get_or_alloc_mut(&og)?));
            let (mut ds, mut db) = (take(C, E::zero()), take(C, E::zero()));
            ds.fill(E::zero());
            db.fill(E::zero());
            batch_norm_backward(
                d,
                &borrow(&x),
                &gy,
                &mean,
                &inv_std,
                &borrow(&sc),
                E::grad_slice(grads.get_or_alloc_mut(&xg)?),
                &mut ds,
                &mut db,
            );
            add_into(E::grad_slice(grads.get_or_alloc_mut(&sg)?), &ds);
            add_into(E::grad_slice(grads.get_or_alloc_mut(&bg)?), &db);
            for buf in [gy, ds, db, mean, inv_std] {
                give(buf);
            }
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// A GRU over a whole sequence (see [`LayerKernels::try_gru_sequence`]): the input projections
/// of every step as one dense product, then the recurrence's kernel; when `x` owns a tape, one
/// backward pass through time and the dense product's gradients.
#[allow(clippy::type_complexity)]
fn gru_sequence_op<const I: usize, const H: usize, B: Dim, S: Dim, E: KernelFloat, T>(
    x: Tensor<(B, S, Const<I>), E, Cpu, T>,
    (weight_ih, bias_ih): (
        &Tensor<Rank3<3, H, I>, E, Cpu>,
        &Tensor<Rank2<3, H>, E, Cpu>,
    ),
    (weight_hh, bias_hh): (
        &Tensor<Rank3<3, H, H>, E, Cpu>,
        &Tensor<Rank2<3, H>, E, Cpu>,
    ),
) -> Result<Tensor<(B, S, Const<H>), E, Cpu, T>, CpuError>
where
    T: Tape<E, Cpu>,
    Cpu: Device<E>,
{
    let (b, s, _) = *x.shape();
    SizeError::check_sequence(s.size())?;
    let g = GruGeom {
        batch: b.size(),
        steps: s.size(),
        hidden: H,
    };
    let lin = LinearGeom {
        rows: g.batch * g.steps,
        inp: I,
        out: 3 * H,
    };
    // contiguous first (a no-op when it already is), so that `borrow` lends its buffer
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let mut gx = take(g.projected(), E::zero());
    linear_forward(
        lin,
        &borrow(&x),
        &borrow(weight_ih),
        &borrow(bias_ih),
        &mut gx,
    );
    let mut out = x.device().try_zeros_like(&(b, s, Const::<H>))?;
    let mut states = take(g.saved_states(), E::zero());
    let mut gates = take(g.saved_gates(), E::zero());
    gru_forward(
        g,
        &gx,
        &borrow(weight_hh),
        &borrow(bias_hh),
        out_buffer(&mut out)?,
        &mut states,
        &mut gates,
    );
    give(gx);
    if !T::OWNS_TAPE {
        for buf in [states, gates] {
            give(buf);
        }
    } else {
        // the backward reads the input and the weights through clones of their tensors (no copy)
        let (wih, whh) = (weight_ih.clone(), weight_hh.clone());
        let (xg, og) = (x.ghost(), out.ghost());
        let (wihg, bihg) = (weight_ih.ghost(), bias_ih.ghost());
        let (whhg, bhhg) = (weight_hh.ghost(), bias_hh.ghost());
        tape.add_backward_op(move |grads| {
            // dfdx lends one gradient buffer at a time: copy the output's out first.
            let mut gy = take(g.states(), E::zero());
            gy.copy_from_slice(E::grad_slice(grads.get_or_alloc_mut(&og)?));
            let mut dgx = take(g.projected(), E::zero());
            let mut dhp = take(g.projected(), E::zero());
            let (mut dwhh, mut dbhh) = (take(3 * H * H, E::zero()), take(3 * H, E::zero()));
            dwhh.fill(E::zero());
            dbhh.fill(E::zero());
            gru_backward(
                g,
                &borrow(&whh),
                &states,
                &gates,
                &gy,
                &mut dgx,
                &mut dwhh,
                &mut dbhh,
                &mut dhp,
            );
            add_into(E::grad_slice(grads.get_or_alloc_mut(&whhg)?), &dwhh);
            add_into(E::grad_slice(grads.get_or_alloc_mut(&bhhg)?), &dbhh);
            bias_grad(lin, &dgx, E::grad_slice(grads.get_or_alloc_mut(&bihg)?));
            weight_grad(
                lin,
                &dgx,
                &borrow(&x),
                E::grad_slice(grads.get_or_alloc_mut(&wihg)?),
            );
            input_grad(
                lin,
                &dgx,
                &borrow(&wih),
                E::grad_slice(grads.get_or_alloc_mut(&xg)?),
            );
            for buf in [gy, dgx, dhp, dwhh, dbhh, states, gates] {
                give(buf);
            }
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// Layer normalisation over the last axis (see [`LayerKernels::try_layer_norm`]) in one pass
/// per row, with its closed-form backward pass when `x` owns a tape.
#[allow(clippy::type_complexity)]
fn layer_norm_op<const M: usize, B: Dim, S: Dim, E: KernelFloat, T: Tape<E, Cpu>>(
    x: Tensor<(B, S, Const<M>), E, Cpu, T>,
    gamma: &Tensor<Rank1<M>, E, Cpu>,
    beta: &Tensor<Rank1<M>, E, Cpu>,
    epsilon: f64,
) -> Result<Tensor<(B, S, Const<M>), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    let shape = *x.shape();
    let rows = shape.0.size() * shape.1.size();
    // contiguous first (a no-op when it already is), so that `borrow` lends its buffer
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let mut out = x.device().try_zeros_like(&shape)?;
    let mut xhat = take(shape.num_elements(), E::zero());
    let mut inv_std = take(rows, E::zero());
    layer_norm_forward(
        M,
        from_f64(epsilon),
        &borrow(&x),
        &borrow(gamma),
        &borrow(beta),
        out_buffer(&mut out)?,
        &mut xhat,
        &mut inv_std,
    );
    if !T::OWNS_TAPE {
        for buf in [xhat, inv_std] {
            give(buf);
        }
    } else {
        // the backward reads gamma through a clone of its tensor (no copy)
        let ga = gamma.clone();
        let (xg, gg, bg, og) = (x.ghost(), gamma.ghost(), beta.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            // dfdx lends one gradient buffer at a time: copy the output's out first.
            let mut gy = take(xhat.len(), E::zero());
            gy.copy_from_slice(E::grad_slice(grads.get_or_alloc_mut(&og)?));
            let (mut dg, mut db) = (take(M, E::zero()), take(M, E::zero()));
            dg.fill(E::zero());
            db.fill(E::zero());
            layer_norm_backward(
                M,
                &gy,
                &xhat,
                &inv_std,
                &borrow(&ga),
                E::grad_slice(grads.get_or_alloc_mut(&xg)?),
                &mut dg,
                &mut db,
            );
            add_into(E::grad_slice(grads.get_or_alloc_mut(&gg)?), &dg);
            add_into(E::grad_slice(grads.get_or_alloc_mut(&bg)?), &db);
            for buf in [gy, dg, db, xhat, inv_std] {
                give(buf);
            }
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// Multi-head scaled dot-product attention (see [`LayerKernels::try_attention`]) on the
/// kernel's per-head products, with its backward pass when the inputs own a tape.
#[allow(clippy::type_complexity)]
fn attention_op<const M: usize, B: Dim, S: Dim, E: KernelFloat, T: Tape<E, Cpu>>(
    q: Tensor<(B, S, Const<M>), E, Cpu, T>,
    k: Tensor<(B, S, Const<M>), E, Cpu, T>,
    v: Tensor<(B, S, Const<M>), E, Cpu, T>,
    heads: usize,
) -> Result<Tensor<(B, S, Const<M>), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    let d = super::portable::head_dim(M, heads)?;
    let shape = *q.shape();
    let g = AttentionGeom {
        batch: shape.0.size(),
        seq: shape.1.size(),
        heads,
        head_dim: d,
    };
    let scale: E = from_f64(1.0 / (d as f64).sqrt());
    // each contiguous first (a no-op when it is), so that `borrow` lends their buffers
    let (q, tq) = q.try_contiguous()?.split_tape();
    let (k, tk) = k.try_contiguous()?.split_tape();
    let (v, tv) = v.try_contiguous()?.split_tape();
    let mut tape = tq.merge(tk).merge(tv);
    let mut out = q.device().try_zeros_like(&shape)?;
    let mut weights = take(g.weights(), E::zero());
    attention_forward(
        g,
        scale,
        (&borrow(&q), &borrow(&k), &borrow(&v)),
        out_buffer(&mut out)?,
        &mut weights,
    );
    if !T::OWNS_TAPE {
        give(weights);
    } else {
        // the backward reads q, k and v through their tensors (no copy)
        let (qg, kg, vg, og) = (q.ghost(), k.ghost(), v.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            // dfdx lends one gradient buffer at a time: copy the output's out first, and
            // gather the three input gradients in scratch.
            let mut gy = take(g.elements(), E::zero());
            gy.copy_from_slice(E::grad_slice(grads.get_or_alloc_mut(&og)?));
            let mut dq = take(g.elements(), E::zero());
            let mut dk = take(g.elements(), E::zero());
            let mut dv = take(g.elements(), E::zero());
            for buf in [&mut dq, &mut dk, &mut dv] {
                buf.fill(E::zero());
            }
            attention_backward(
                g,
                scale,
                (&borrow(&q), &borrow(&k), &borrow(&v)),
                &weights,
                &gy,
                (&mut dq, &mut dk, &mut dv),
            );
            add_into(E::grad_slice(grads.get_or_alloc_mut(&qg)?), &dq);
            add_into(E::grad_slice(grads.get_or_alloc_mut(&kg)?), &dk);
            add_into(E::grad_slice(grads.get_or_alloc_mut(&vg)?), &dv);
            for buf in [gy, dq, dk, dv, weights] {
                give(buf);
            }
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrow_lends_contiguous_tensors_and_copies_strided_ones_in_logical_order() {
        let dev = Cpu::default();
        let t = dev.tensor([[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert!(matches!(borrow(&t), std::borrow::Cow::Borrowed(_)));
        assert_eq!(&*borrow(&t), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        // the transpose shares the buffer with other strides: its logical order is by columns
        let tt = t.clone().permute::<Rank2<3, 2>, _>();
        assert!(matches!(borrow(&tt), std::borrow::Cow::Owned(_)));
        assert_eq!(&*borrow(&tt), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        // a broadcast holds fewer elements in its buffer than it shows
        let b = dev.tensor([7.0f32, 8.0]).broadcast::<Rank2<3, 2>, _>();
        assert_eq!(&*borrow(&b), &[7.0, 8.0, 7.0, 8.0, 7.0, 8.0]);
    }
}
