//! The portable layer kernels: compositions of dfdx ops that run on any dfdx device, and that
//! [`LayerKernels`](super::LayerKernels)'s methods default to.
//!
//! - [`linear`]: a reshape, dfdx's `matmul` with the transposed weight and a broadcast bias add;
//! - [`conv2d`]: im2col as one dfdx `gather` from the flattened input, then one `matmul`;
//! - [`pool2d`]: the windows by `gather`, then `max` or `mean` over the window axis;
//! - [`batch_norm_train`], [`batch_norm_infer`]: the input as `(batch, C, plane)`, per-channel
//!   `mean` reductions and broadcasts (the composition of dfdx's own `BatchNorm2D`);
//! - [`gru_sequence`]: one product for every step's input projections, then per step a product
//!   and the gate ops, the states stacked;
//! - [`layer_norm`]: dfdx's `LayerNorm1D` composition;
//! - [`attention`]: the heads as permuted views, `matmul`, `softmax`, `matmul`.
//!
//! Padding gathers from elements appended to the flattened input. dfdx records the backward pass
//! of each op, so these need no gradient code of their own; dfdx 0.13's own `conv2d`/`pool2d`
//! need a nightly compiler. They are slower than dedicated kernels (on the CPU, 2.7× the
//! kernel's time for a conv, 4× for a max pool) and hold the whole im2col matrix (and its gather
//! indices) per call.
//!
//! A device that overrides one method can still call these for the others.

use super::{BatchNormGeom, Conv2dGeom, Pool2dGeom, Pooling, SizeError};
use dfdx::prelude::*;

/// [`LayerKernels::try_linear`](super::LayerKernels::try_linear) composed of dfdx ops, for any
/// dfdx device: `x` as a `(rows, I)` matrix, times `weightᵀ`, plus `bias` broadcast over the
/// rows, reshaped to `out_shape`.
///
/// # Errors
/// [`SizeError`] (as the device's error) when `x` does not hold `rows·I` elements or
/// `out_shape` `rows·O`; device errors.
pub fn linear<const I: usize, const O: usize, S, So, E, D, T>(
    x: Tensor<S, E, D, T>,
    weight: &Tensor<Rank2<O, I>, E, D>,
    bias: &Tensor<Rank1<O>, E, D>,
    rows: usize,
    out_shape: So,
) -> Result<Tensor<So, E, D, T>, D::Err>
where
    S: Shape,
    So: Shape,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<SizeError>>,
    T: Tape<E, D>,
{
    SizeError::check_linear(
        rows,
        (I, O),
        x.shape().num_elements(),
        out_shape.num_elements(),
    )?;
    let y = x
        .try_reshape_like(&(rows, Const::<I>))?
        .try_matmul(weight.retaped::<T>().try_permute()?)?;
    let b = bias.retaped::<T>().try_broadcast_like(y.shape())?;
    y.try_add(b)?.try_reshape_like(&out_shape)
}

/// The input position `o·stride + k − padding` along a dimension of size `len`, or `None` when
/// it falls in the padding.
fn source(o: usize, k: usize, stride: usize, padding: usize, len: usize) -> Option<usize> {
    (o * stride + k).checked_sub(padding).filter(|&i| i < len)
}

/// im2col as gather indices into the flattened input: one row per output pixel
/// (`batch·h_out·w_out` rows, in the output's order), one column per `(channel, kh, kw)`
/// (`chan_in·kernel²`, in the weight's order, taps `dilation` apart); padding reads element
/// `pad`.
fn conv_indices(g: &Conv2dGeom, pad: usize) -> Vec<usize> {
    let (k, plane) = (g.kernel, g.h_in * g.w_in);
    let mut idx = Vec::with_capacity(g.cols() * g.rows());
    for b in 0..g.batch {
        for oh in 0..g.h_out {
            for ow in 0..g.w_out {
                for c in 0..g.chan_in {
                    let base = (b * g.chan_in + c) * plane;
                    for kh in 0..k {
                        let ih = source(oh, kh * g.dilation, g.stride, g.padding, g.h_in);
                        for kw in 0..k {
                            let iw = source(ow, kw * g.dilation, g.stride, g.padding, g.w_in);
                            idx.push(match (ih, iw) {
                                (Some(ih), Some(iw)) => base + ih * g.w_in + iw,
                                _ => pad,
                            });
                        }
                    }
                }
            }
        }
    }
    idx
}

/// Pool windows as gather indices into the flattened input: one row per output
/// (`planes·h_out·w_out`), one column per window element (`kernel²`). Padding reads element
/// `pad`; a window of padding alone reads element `empty` throughout.
fn pool_indices(g: &Pool2dGeom, pad: usize, empty: usize) -> Vec<usize> {
    let (k, plane) = (g.kernel, g.h_in * g.w_in);
    let mut idx = Vec::with_capacity(g.planes * g.h_out * g.w_out * k * k);
    for p in 0..g.planes {
        for oh in 0..g.h_out {
            for ow in 0..g.w_out {
                let start = idx.len();
                let mut inside = false;
                for kh in 0..k {
                    let ih = source(oh, kh, g.stride, g.padding, g.h_in);
                    for kw in 0..k {
                        let iw = source(ow, kw, g.stride, g.padding, g.w_in);
                        idx.push(match (ih, iw) {
                            (Some(ih), Some(iw)) => {
                                inside = true;
                                p * plane + ih * g.w_in + iw
                            }
                            _ => pad,
                        });
                    }
                }
                if !inside {
                    idx[start..].fill(empty);
                }
            }
        }
    }
    idx
}

/// A matrix with runtime sizes.
type Matrix<E, D, T> = Tensor<(usize, usize), E, D, T>;

/// The input flattened to one axis with `tail` appended (the values padding reads), and the
/// windows gathered from it by `idx` as a `(idx.len() / width, width)` matrix.
fn gather_windows<Si: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<Si, E, D, T>,
    tail: Vec<E>,
    idx: Vec<usize>,
    width: usize,
) -> Result<Matrix<E, D, T>, D::Err> {
    let dev = x.device().clone();
    let n = x.shape().num_elements();
    let flat = x.try_reshape_like(&(n,))?;
    let (extra, len) = (tail.len(), idx.len());
    let tail = dev.try_tensor_from_vec(tail, (extra,))?;
    let padded = (flat, tail).try_concat_along(Axis::<0>)?;
    let idx = dev.try_tensor_from_vec(idx, (len,))?;
    padded
        .try_gather::<(usize,), (usize,)>(idx)?
        .try_reshape_like(&(len / width.max(1), width))
}

/// [`LayerKernels::try_conv2d`](super::LayerKernels::try_conv2d) composed of dfdx ops, for any
/// dfdx device: im2col by `gather`, one `matmul` with the weight as a
/// `(chan_out, chan_in·kernel²)` matrix, a broadcast bias, and a permute to channels-first. dfdx
/// records each op's backward pass.
///
/// # Errors
/// [`SizeError`] (as the device's error) when an element count differs from the geometry's;
/// device errors.
pub fn conv2d<Si, So, Sw, Sb, E, D, T>(
    x: Tensor<Si, E, D, T>,
    weight: &Tensor<Sw, E, D>,
    bias: &Tensor<Sb, E, D>,
    g: Conv2dGeom,
    out_shape: So,
) -> Result<Tensor<So, E, D, T>, D::Err>
where
    Si: Shape,
    So: Shape,
    Sw: Shape,
    Sb: Shape,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<SizeError>>,
    T: Tape<E, D>,
{
    SizeError::check_conv(
        &g,
        x.shape().num_elements(),
        weight.shape().num_elements(),
        bias.shape().num_elements(),
        out_shape.num_elements(),
    )?;
    let (rows, width, o) = (g.cols(), g.rows(), g.chan_out);
    let pad = x.shape().num_elements();
    let cols = gather_windows(x, vec![E::default()], conv_indices(&g, pad), width)?;
    let w = weight
        .retaped::<T>()
        .try_reshape_like(&(o, width))?
        .try_permute::<_, Axes2<1, 0>>()?;
    let b = bias
        .retaped::<T>()
        .try_reshape_like(&(o,))?
        .try_broadcast_like::<_, Axis<0>>(&(rows, o))?;
    // (batch·Ho·Wo, O) → (batch, O, Ho·Wo): the permute is a view, the reshape copies.
    cols.try_matmul(w)?
        .try_add(b)?
        .try_reshape_like(&(g.batch, g.h_out * g.w_out, o))?
        .try_permute::<_, Axes3<0, 2, 1>>()?
        .try_reshape_like(&out_shape)
}

/// [`LayerKernels::try_pool2d`](super::LayerKernels::try_pool2d) composed of dfdx ops, for any
/// dfdx device: the windows by `gather`, then `max` or `mean` over each window. Max pooling pads with `−∞` (a window of
/// padding alone reads a 0), average pooling with 0.
///
/// dfdx's `max` shares an output's gradient among tied maxima where the CPU kernel gives it to
/// the first; the two agree whenever a window's maximum is unique.
///
/// # Errors
/// [`SizeError`] (as the device's error) when an element count differs from the geometry's;
/// device errors.
pub fn pool2d<Si, So, E, D, T>(
    x: Tensor<Si, E, D, T>,
    kind: Pooling,
    g: Pool2dGeom,
    out_shape: So,
) -> Result<Tensor<So, E, D, T>, D::Err>
where
    Si: Shape,
    So: Shape,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<SizeError>>,
    T: Tape<E, D>,
{
    SizeError::check_pool(&g, x.shape().num_elements(), out_shape.num_elements())?;
    let n = x.shape().num_elements();
    let width = g.kernel * g.kernel;
    let pad = E::from_f64(f64::NEG_INFINITY).unwrap_or_default();
    match kind {
        Pooling::Max => {
            let idx = pool_indices(&g, n, n + 1);
            let windows = gather_windows(x, vec![pad, E::default()], idx, width)?;
            windows
                .try_max::<(usize,), Axis<1>>()?
                .try_reshape_like(&out_shape)
        }
        Pooling::Avg => {
            let windows = gather_windows(x, vec![E::default()], pool_indices(&g, n, n), width)?;
            windows
                .try_mean::<(usize,), Axis<1>>()?
                .try_reshape_like(&out_shape)
        }
    }
}

/// A batch norm's input as `(batch, C, plane)`.
type ByChannel<const C: usize, E, D, T> = Tensor<(usize, Const<C>, usize), E, D, T>;

/// `x` viewed as `(batch, C, plane)`, after checking its element count against `g`.
fn batch_norm_view<const C: usize, S, E, D, T>(
    x: Tensor<S, E, D, T>,
    g: &BatchNormGeom,
) -> Result<ByChannel<C, E, D, T>, D::Err>
where
    S: Shape,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<SizeError>>,
    T: Tape<E, D>,
{
    SizeError::check_batch_norm(g, C, x.shape().num_elements())?;
    x.try_reshape_like(&(g.batch, Const::<C>, g.plane))
}

/// [`LayerKernels::try_batch_norm_train`](super::LayerKernels::try_batch_norm_train) composed of
/// dfdx ops, for any dfdx device: the per-channel mean, the mean of the centred squares,
/// `scale / √(var + ε)` broadcast over the input, plus `bias`; dfdx records each op's backward
/// pass. The running statistics are updated with `axpy` (off the tape).
///
/// # Errors
/// [`SizeError`] (as the device's error) when `x` does not hold `g.batch·C·g.plane` elements;
/// device errors.
pub fn batch_norm_train<const C: usize, S, E, D, T>(
    x: Tensor<S, E, D, T>,
    scale: &Tensor<Rank1<C>, E, D>,
    bias: &Tensor<Rank1<C>, E, D>,
    (mean, var): (&mut Tensor<Rank1<C>, E, D>, &mut Tensor<Rank1<C>, E, D>),
    g: BatchNormGeom,
) -> Result<Tensor<S, E, D, T>, D::Err>
where
    S: Shape,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<SizeError>>,
    T: Tape<E, D>,
{
    let out_shape = *x.shape();
    let x = batch_norm_view::<C, _, _, _, _>(x, &g)?;
    let shape = *x.shape();
    let n = (g.batch * g.plane) as f64;
    let (momentum, epsilon) = (g.momentum, g.epsilon);

    let mean_chan = x.retaped::<T>().try_mean::<Rank1<C>, Axes2<0, 2>>()?;
    mean.try_axpy(1.0 - momentum, &mean_chan, momentum)?;
    let centered = x.try_sub(mean_chan.try_broadcast_like(&shape)?)?;
    let var_chan = centered
        .retaped::<T>()
        .try_square()?
        .try_mean::<Rank1<C>, Axes2<0, 2>>()?;
    // The running estimate takes the unbiased variance.
    var.try_axpy(1.0 - momentum, &var_chan, momentum * n / (n - 1.0))?;
    let std = var_chan
        .try_add(E::from_f64(epsilon).unwrap_or_default())?
        .try_sqrt()?;
    let scale = scale
        .retaped::<T>()
        .try_div(std)?
        .try_broadcast_like(&shape)?;
    let bias = bias.retaped::<T>().try_broadcast_like(&shape)?;
    centered
        .try_mul(scale)?
        .try_add(bias)?
        .try_reshape_like(&out_shape)
}

/// [`LayerKernels::try_batch_norm_infer`](super::LayerKernels::try_batch_norm_infer) composed of
/// dfdx ops, for any dfdx device: `(x − mean)·scale/√(var + ε) + bias` with the running
/// statistics broadcast over the input.
///
/// # Errors
/// [`SizeError`] (as the device's error) when `x` does not hold `g.batch·C·g.plane` elements;
/// device errors.
pub fn batch_norm_infer<const C: usize, S, E, D>(
    x: Tensor<S, E, D>,
    scale: &Tensor<Rank1<C>, E, D>,
    bias: &Tensor<Rank1<C>, E, D>,
    (mean, var): (&Tensor<Rank1<C>, E, D>, &Tensor<Rank1<C>, E, D>),
    g: BatchNormGeom,
) -> Result<Tensor<S, E, D>, D::Err>
where
    S: Shape,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<SizeError>>,
{
    let out_shape = *x.shape();
    let x = batch_norm_view::<C, _, _, _, _>(x, &g)?;
    let shape = *x.shape();
    let std = var
        .clone()
        .try_add(E::from_f64(g.epsilon).unwrap_or_default())?
        .try_sqrt()?;
    let scale = scale.clone().try_div(std)?.try_broadcast_like(&shape)?;
    x.try_sub(mean.clone().try_broadcast_like(&shape)?)?
        .try_mul(scale)?
        .try_add(bias.clone().try_broadcast_like(&shape)?)?
        .try_reshape_like(&out_shape)
}

/// [`LayerKernels::try_gru_sequence`](super::LayerKernels::try_gru_sequence) composed of dfdx
/// ops, for any dfdx device: the input projections of every step as one product, then per step
/// one product `h · W_hhᵀ` and the gate ops, the states stacked into `(B, S, H)`.
///
/// # Errors
/// [`SizeError`] (as the device's error) when the sequence is empty; device errors.
#[allow(clippy::type_complexity)]
pub fn gru_sequence<const I: usize, const H: usize, B, S, E, D, T>(
    x: Tensor<(B, S, Const<I>), E, D, T>,
    weight_ih: &Tensor<Rank3<3, H, I>, E, D>,
    weight_hh: &Tensor<Rank3<3, H, H>, E, D>,
    bias_ih: &Tensor<Rank2<3, H>, E, D>,
    bias_hh: &Tensor<Rank2<3, H>, E, D>,
) -> Result<Tensor<(B, S, Const<H>), E, D, T>, D::Err>
where
    B: Dim,
    S: Dim,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<SizeError>>,
    T: Tape<E, D>,
{
    crate::nn::recurrent::gru_composition(x, weight_ih, weight_hh, bias_ih, bias_hh)
}

/// [`LayerKernels::try_layer_norm`](super::LayerKernels::try_layer_norm) composed of dfdx ops,
/// for any dfdx device: dfdx's `LayerNorm1D` (`normalize` over the last axis, then `gamma` and
/// `beta` broadcast).
///
/// # Errors
/// Device errors.
#[allow(clippy::type_complexity)]
pub fn layer_norm<const M: usize, B, S, E, D, T>(
    x: Tensor<(B, S, Const<M>), E, D, T>,
    gamma: &Tensor<Rank1<M>, E, D>,
    beta: &Tensor<Rank1<M>, E, D>,
    epsilon: f64,
) -> Result<Tensor<(B, S, Const<M>), E, D, T>, D::Err>
where
    B: Dim,
    S: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    let shape = *x.shape();
    x.try_normalize::<Axis<2>>(epsilon)?
        .try_mul(gamma.retaped::<T>().try_broadcast_like(&shape)?)?
        .try_add(beta.retaped::<T>().try_broadcast_like(&shape)?)
}

/// `Ok(M / heads)`, or a [`SizeError`] when `heads` is 0 or does not divide `M`.
pub(crate) fn head_dim(width: usize, heads: usize) -> Result<usize, SizeError> {
    if heads == 0 || !width.is_multiple_of(heads) {
        return Err(SizeError::Elements {
            op: "self-attention",
            tensor: "heads",
            expected: width,
            found: heads,
        });
    }
    Ok(width / heads)
}

/// [`LayerKernels::try_attention`](super::LayerKernels::try_attention) composed of dfdx ops,
/// for any dfdx device: the heads as a permuted `(B, heads, S, M/heads)` view of each input,
/// `matmul`, `softmax`, `matmul`, and the heads permuted back.
///
/// # Errors
/// [`SizeError`] (as the device's error) when `heads` is 0 or does not divide `M`; device
/// errors.
#[allow(clippy::type_complexity)]
pub fn attention<const M: usize, B, S, E, D, T>(
    q: Tensor<(B, S, Const<M>), E, D, T>,
    k: Tensor<(B, S, Const<M>), E, D, T>,
    v: Tensor<(B, S, Const<M>), E, D, T>,
    heads: usize,
) -> Result<Tensor<(B, S, Const<M>), E, D, T>, D::Err>
where
    B: Dim,
    S: Dim,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<SizeError>>,
    T: Tape<E, D>,
{
    let d = head_dim(M, heads)?;
    let (b, s, _) = *q.shape();
    let scale = E::from_f64(1.0 / (d as f64).sqrt()).unwrap_or(E::ONE);
    // (B, S, H, d) → heads first
    let q = q
        .try_reshape_like(&(b, s, heads, d))?
        .try_permute::<_, Axes4<0, 2, 1, 3>>()?;
    let k = k
        .try_reshape_like(&(b, s, heads, d))?
        .try_permute::<_, Axes4<0, 2, 3, 1>>()?;
    let v = v
        .try_reshape_like(&(b, s, heads, d))?
        .try_permute::<_, Axes4<0, 2, 1, 3>>()?;
    let weights = q.try_matmul(k)?.try_mul(scale)?.try_softmax::<Axis<3>>()?;
    weights
        .try_matmul(v)?
        .try_permute::<_, Axes4<0, 2, 1, 3>>()?
        .try_reshape_like(&(b, s, Const::<M>))
}
