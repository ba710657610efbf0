//! [`ConvDevice`]: the devices convolution and pooling run on, and the fallback that runs them
//! on any dfdx device.
//!
//! The CPU runs typenet's own kernels ([`kernels`](super::kernels)). Every other device (CUDA)
//! runs [`conv2d_fallback`] and [`pool2d_fallback`]: im2col as one dfdx `gather` from the
//! flattened input, then dfdx's `matmul` (convolution), `max` or `mean` over the window axis
//! (pooling). Padding gathers from elements appended to the flattened input. dfdx records the
//! backward pass of each op, so the fallback needs no gradient code of its own; dfdx 0.13's own
//! `conv2d`/`pool2d` need a nightly compiler.

use super::kernels::{conv2d_op, pool2d_op, Conv2dGeom, KernelFloat, Pool2dGeom};
use dfdx::prelude::*;

/// Which pooling [`ConvDevice::try_pool2d`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Maximum over the window (padding never wins; a window of padding alone gives 0).
    Max,
    /// Mean over the window, padding counted as zeros (the divisor is always `kernel²`).
    Avg,
}

/// A device that [`Conv2D`](super::Conv2D), [`MaxPool2D`](super::MaxPool2D) and
/// [`AvgPool2D`](super::AvgPool2D) run on: the CPU (typenet's kernels) and, with the `cuda`
/// feature, CUDA (dfdx's ops through [`conv2d_fallback`] and [`pool2d_fallback`]).
///
/// Both methods read the input in logical (row-major) order as `(batch, channels, height, width)`
/// with the sizes in the geometry, and write `out_shape` in the same order. A size error
/// (`CpuError::WrongNumElements`, converted to the device's error) means a tensor does not hold
/// as many elements as the geometry says.
///
/// Another device implements it by calling [`conv2d_fallback`] and [`pool2d_fallback`], which
/// run on any dfdx device (here on the CPU: a 2×2 average pool of ones):
/// ```
/// # use typenet::prelude::*;
/// use typenet::nn::device::{pool2d_fallback, Pooling};
/// use typenet::nn::kernels::Pool2dGeom;
/// let dev = Cpu::default();
/// let x: Tensor<_, f32, _> = dev.ones_like(&(1usize, 1usize, 4usize, 4usize));
/// let g = Pool2dGeom::new(1, 4, 4, 2, 2, 0).unwrap();
/// let y = pool2d_fallback(x, Pooling::Avg, g, (2usize, 2usize)).unwrap();
/// assert_eq!(y.as_vec(), [1.0; 4]);
/// ```
pub trait ConvDevice<E: Dtype>: Device<E> + HasErr<Err: From<CpuError>> {
    /// `conv2d(x, weight, bias)` with geometry `g`: `x` holds `batch·chan_in·h_in·w_in`
    /// elements, `weight` `chan_out·chan_in·kernel²` (`(O, I, K, K)` order), `bias` `chan_out`,
    /// and `out_shape` `batch·chan_out·h_out·w_out`.
    ///
    /// # Errors
    /// A size error when an element count differs from the geometry's; device errors.
    fn try_conv2d<Si: Shape, So: Shape, Sw: Shape, Sb: Shape, T: Tape<E, Self>>(
        x: Tensor<Si, E, Self, T>,
        weight: &Tensor<Sw, E, Self>,
        bias: &Tensor<Sb, E, Self>,
        g: Conv2dGeom,
        out_shape: So,
    ) -> Result<Tensor<So, E, Self, T>, Self::Err>;

    /// A 2-D pool of kind `kind` with geometry `g`: `x` holds `planes·h_in·w_in` elements and
    /// `out_shape` `planes·h_out·w_out`.
    ///
    /// # Errors
    /// A size error when an element count differs from the geometry's; device errors.
    fn try_pool2d<Si: Shape, So: Shape, T: Tape<E, Self>>(
        x: Tensor<Si, E, Self, T>,
        kind: Pooling,
        g: Pool2dGeom,
        out_shape: So,
    ) -> Result<Tensor<So, E, Self, T>, Self::Err>;
}

/// Checks that every tensor of a convolution holds as many elements as `g` says.
fn check_conv(g: &Conv2dGeom, x: usize, w: usize, b: usize, out: usize) -> Result<(), CpuError> {
    let want = [
        g.batch * g.chan_in * g.h_in * g.w_in,
        g.chan_out * g.rows(),
        g.chan_out,
        g.chan_out * g.cols(),
    ];
    match want == [x, w, b, out] {
        true => Ok(()),
        false => Err(CpuError::WrongNumElements),
    }
}

/// Checks that the input and output of a pool hold as many elements as `g` says.
fn check_pool(g: &Pool2dGeom, x: usize, out: usize) -> Result<(), CpuError> {
    match [g.planes * g.h_in * g.w_in, g.planes * g.h_out * g.w_out] == [x, out] {
        true => Ok(()),
        false => Err(CpuError::WrongNumElements),
    }
}

impl<E: KernelFloat> ConvDevice<E> for Cpu
where
    Cpu: Device<E>,
{
    fn try_conv2d<Si: Shape, So: Shape, Sw: Shape, Sb: Shape, T: Tape<E, Self>>(
        x: Tensor<Si, E, Self, T>,
        weight: &Tensor<Sw, E, Self>,
        bias: &Tensor<Sb, E, Self>,
        g: Conv2dGeom,
        out_shape: So,
    ) -> Result<Tensor<So, E, Self, T>, CpuError> {
        check_conv(
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
        check_pool(&g, x.shape().num_elements(), out_shape.num_elements())?;
        pool2d_op(x, kind, g, out_shape)
    }
}

#[cfg(feature = "cuda")]
impl<E: Dtype> ConvDevice<E> for Cuda
where
    Cuda: Device<E>,
{
    fn try_conv2d<Si: Shape, So: Shape, Sw: Shape, Sb: Shape, T: Tape<E, Self>>(
        x: Tensor<Si, E, Self, T>,
        weight: &Tensor<Sw, E, Self>,
        bias: &Tensor<Sb, E, Self>,
        g: Conv2dGeom,
        out_shape: So,
    ) -> Result<Tensor<So, E, Self, T>, Self::Err> {
        conv2d_fallback(x, weight, bias, g, out_shape)
    }

    fn try_pool2d<Si: Shape, So: Shape, T: Tape<E, Self>>(
        x: Tensor<Si, E, Self, T>,
        kind: Pooling,
        g: Pool2dGeom,
        out_shape: So,
    ) -> Result<Tensor<So, E, Self, T>, Self::Err> {
        pool2d_fallback(x, kind, g, out_shape)
    }
}

/// The input position `o·stride + k − padding` along a dimension of size `len`, or `None` when
/// it falls in the padding.
fn source(o: usize, k: usize, stride: usize, padding: usize, len: usize) -> Option<usize> {
    (o * stride + k).checked_sub(padding).filter(|&i| i < len)
}

/// im2col as gather indices into the flattened input: one row per output pixel
/// (`batch·h_out·w_out` rows, in the output's order), one column per `(channel, kh, kw)`
/// (`chan_in·kernel²`, in the weight's order); padding reads element `pad`.
fn conv_indices(g: &Conv2dGeom, pad: usize) -> Vec<usize> {
    let (k, plane) = (g.kernel, g.h_in * g.w_in);
    let mut idx = Vec::with_capacity(g.cols() * g.rows());
    for b in 0..g.batch {
        for oh in 0..g.h_out {
            for ow in 0..g.w_out {
                for c in 0..g.chan_in {
                    let base = (b * g.chan_in + c) * plane;
                    for kh in 0..k {
                        let ih = source(oh, kh, g.stride, g.padding, g.h_in);
                        for kw in 0..k {
                            let iw = source(ow, kw, g.stride, g.padding, g.w_in);
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

/// [`ConvDevice::try_conv2d`] composed of dfdx ops, for any dfdx device: im2col by `gather`, one
/// `matmul` with the weight as a `(chan_out, chan_in·kernel²)` matrix, a broadcast bias, and a
/// permute to channels-first. dfdx records each op's backward pass.
///
/// Slower than the CPU kernels and holds the whole im2col matrix (and its gather indices) per
/// call; on the CPU it serves as the reference the kernels are tested against.
///
/// # Errors
/// A size error when an element count differs from the geometry's; device errors.
pub fn conv2d_fallback<Si, So, Sw, Sb, E, D, T>(
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
    D: Device<E> + HasErr<Err: From<CpuError>>,
    T: Tape<E, D>,
{
    check_conv(
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

/// [`ConvDevice::try_pool2d`] composed of dfdx ops, for any dfdx device: the windows by
/// `gather`, then `max` or `mean` over each window. Max pooling pads with `−∞` (a window of
/// padding alone reads a 0), average pooling with 0.
///
/// dfdx's `max` shares an output's gradient among tied maxima where the CPU kernel gives it to
/// the first; the two agree whenever a window's maximum is unique.
///
/// # Errors
/// A size error when an element count differs from the geometry's; device errors.
pub fn pool2d_fallback<Si, So, E, D, T>(
    x: Tensor<Si, E, D, T>,
    kind: Pooling,
    g: Pool2dGeom,
    out_shape: So,
) -> Result<Tensor<So, E, D, T>, D::Err>
where
    Si: Shape,
    So: Shape,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<CpuError>>,
    T: Tape<E, D>,
{
    check_pool(&g, x.shape().num_elements(), out_shape.num_elements())?;
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
