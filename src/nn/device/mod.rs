//! The devices typenet's layers run on: [`LayerKernels`], one trait for the layer families
//! (dense, convolution, pooling, batch norm, and the sequence layers' GRU, layer norm and
//! attention), and [`TrainingDevice`], what the trainer needs of a device.
//!
//! [`LayerKernels`]'s methods default to compositions of dfdx ops ([`portable`]), which run on
//! any dfdx device and record their backward pass on dfdx's tape; a device overrides a method
//! when it has a faster kernel:
//! - `cpu.rs`: the CPU overrides every method with typenet's fused kernels (the crate-private
//!   `nn::kernels`), and holds all of their tape wiring (read the inputs, run the kernel, build
//!   the output, record the backward pass);
//! - `cuda.rs` (feature `cuda`): CUDA keeps every default, an empty `impl LayerKernels<E> for Cuda`.
//!
//! The tests (`tests.rs`) run the same oracle-based checks, values against direct loops and
//! gradients against finite differences or dfdx's own `Linear`, on the CPU's kernels and on the
//! [`portable`] functions the defaults call.

mod cpu;
#[cfg(feature = "cuda")]
mod cuda;
mod host;
pub mod portable;
#[cfg(test)]
mod tests;

pub use super::kernels::{BatchNormGeom, Conv2dGeom, KernelFloat, Pool2dGeom};
pub use host::HostSlices;

use dfdx::prelude::*;

/// Which pooling [`LayerKernels::try_pool2d`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Maximum over the window (padding never wins; a window of padding alone gives 0).
    Max,
    /// Mean over the window, padding counted as zeros (the divisor is always `kernel²`).
    Avg,
}

/// A size that does not fit a layer: a runtime height or width too small for the window, or a
/// tensor that does not hold as many elements as the geometry says.
///
/// A layer reports it as its device's error, which converts from it: the CPU's as
/// `CpuError::WrongNumElements`, CUDA's as `CudaError::Cpu(CpuError::WrongNumElements)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SizeError {
    /// A `kernel`-wide window with `stride` and `padding` does not fit an input of `size`.
    #[error(
        "a window of {kernel} (stride {stride}, padding {padding}) does not fit a size of {size}"
    )]
    Window {
        /// The runtime height or width.
        size: usize,
        /// The window (kernel) size.
        kernel: usize,
        /// The stride.
        stride: usize,
        /// The padding on each side.
        padding: usize,
    },
    /// A pool's padding is more than half its kernel (every window at a corner would hold only
    /// padding; PyTorch rejects it too).
    #[error("a pool's padding of {padding} is more than half its kernel of {kernel}")]
    PoolPadding {
        /// The window (kernel) size.
        kernel: usize,
        /// The padding on each side.
        padding: usize,
    },
    /// A tensor of an op holds `found` elements where its geometry says `expected`.
    #[error("{op}: the {tensor} holds {found} elements where its geometry needs {expected}")]
    Elements {
        /// The op: `linear`, `conv2d`, `pool2d` or `batch_norm`.
        op: &'static str,
        /// Which tensor: `input`, `weight`, `bias` or `output`.
        tensor: &'static str,
        /// Elements the geometry gives it.
        expected: usize,
        /// Elements it holds.
        found: usize,
    },
}

impl From<SizeError> for CpuError {
    fn from(_: SizeError) -> Self {
        CpuError::WrongNumElements
    }
}

impl SizeError {
    /// `Ok` when every `(tensor, expected, found)` agrees, else the first that does not.
    fn check(op: &'static str, sizes: &[(&'static str, usize, usize)]) -> Result<(), SizeError> {
        match sizes.iter().find(|(_, expected, found)| expected != found) {
            None => Ok(()),
            Some(&(tensor, expected, found)) => Err(SizeError::Elements {
                op,
                tensor,
                expected,
                found,
            }),
        }
    }

    /// Checks the element counts of a dense product of `rows` rows from `inp` to `out` features.
    pub(crate) fn check_linear(
        rows: usize,
        (inp, out): (usize, usize),
        x: usize,
        y: usize,
    ) -> Result<(), SizeError> {
        let (want_x, want_y) = (rows.checked_mul(inp), rows.checked_mul(out));
        Self::check(
            "linear",
            &[
                ("input", want_x.unwrap_or(usize::MAX), x),
                ("output", want_y.unwrap_or(usize::MAX), y),
            ],
        )
    }

    /// Checks that every tensor of a convolution holds as many elements as `g` says.
    pub(crate) fn check_conv(
        g: &Conv2dGeom,
        x: usize,
        w: usize,
        b: usize,
        out: usize,
    ) -> Result<(), SizeError> {
        Self::check(
            "conv2d",
            &[
                ("input", g.batch * g.chan_in * g.h_in * g.w_in, x),
                ("weight", g.chan_out * g.rows(), w),
                ("bias", g.chan_out, b),
                ("output", g.chan_out * g.cols(), out),
            ],
        )
    }

    /// Checks that the input and output of a pool hold as many elements as `g` says.
    pub(crate) fn check_pool(g: &Pool2dGeom, x: usize, out: usize) -> Result<(), SizeError> {
        Self::check(
            "pool2d",
            &[
                ("input", g.planes * g.h_in * g.w_in, x),
                ("output", g.planes * g.h_out * g.w_out, out),
            ],
        )
    }

    /// Checks that a recurrent layer's input sequence has at least one step.
    pub(crate) fn check_sequence(steps: usize) -> Result<(), SizeError> {
        Self::check(
            "recurrent layer",
            &[("input sequence", steps.max(1), steps)],
        )
    }

    /// Checks that a batch norm's input holds `g.batch·chan·g.plane` elements.
    pub(crate) fn check_batch_norm(
        g: &BatchNormGeom,
        chan: usize,
        x: usize,
    ) -> Result<(), SizeError> {
        let want = g
            .batch
            .checked_mul(chan)
            .and_then(|n| n.checked_mul(g.plane));
        Self::check("batch_norm", &[("input", want.unwrap_or(usize::MAX), x)])
    }
}

/// The kernels of typenet's layers on a device: [`Linear`](super::Linear) runs
/// [`try_linear`](Self::try_linear), [`Conv2D`](super::Conv2D) [`try_conv2d`](Self::try_conv2d),
/// [`MaxPool2D`](super::MaxPool2D) and [`AvgPool2D`](super::AvgPool2D)
/// [`try_pool2d`](Self::try_pool2d), [`Gru`](super::Gru)
/// [`try_gru_sequence`](Self::try_gru_sequence), [`EncoderBlock`](super::EncoderBlock)'s layer
/// norms [`try_layer_norm`](Self::try_layer_norm) and
/// [`SelfAttention`](super::SelfAttention) [`try_attention`](Self::try_attention).
///
/// Every method has a default: the [`portable`] composition of dfdx ops, correct on any dfdx
/// device, with its backward pass recorded by dfdx. A new device is correct with one line,
/// ```text
/// impl LayerKernels<f32> for MyDevice {}
/// ```
/// given that its error type converts from [`SizeError`] (`impl From<SizeError> for MyError`,
/// as dfdx's `CpuError` and `CudaError` do here), and fast once it overrides the methods it has
/// kernels for. The CPU overrides every method with typenet's fused kernels; CUDA keeps the
/// defaults (cuBLAS matmul, dfdx's gather and reductions).
///
/// Every method reads its input in logical (row-major) order and writes `out_shape` in the same
/// order, recorded on the input's tape. A [`SizeError`] (as the device's error) means a tensor
/// does not hold as many elements as the sizes given say.
///
/// Code generic over the device names it as the bound (here on the CPU, a 2×2 average pool of
/// ones through the trait and through the portable default):
/// ```
/// # use typenet::prelude::*;
/// use typenet::nn::device::{portable, Pool2dGeom, Pooling};
/// fn pool<D: LayerKernels<f32>>(x: Tensor<(usize, usize, usize, usize), f32, D>) -> Vec<f32> {
///     let g = Pool2dGeom::new(1, 4, 4, 2, 2, 0).unwrap();
///     D::try_pool2d(x, Pooling::Avg, g, (2usize, 2usize)).unwrap().as_vec()
/// }
/// let dev = Cpu::default();
/// let x = dev.ones_like(&(1usize, 1usize, 4usize, 4usize));
/// assert_eq!(pool(x.clone()), [1.0; 4]);
/// let g = Pool2dGeom::new(1, 4, 4, 2, 2, 0).unwrap();
/// let y = portable::pool2d(x, Pooling::Avg, g, (2usize, 2usize)).unwrap();
/// assert_eq!(y.as_vec(), [1.0; 4]);
/// ```
pub trait LayerKernels<E: Dtype>: Device<E> + HasErr<Err: From<SizeError>> {
    /// `x · weightᵀ + bias` over the last axis of `x`, whose `rows` rows of `I` elements become
    /// a tensor of shape `out_shape` (`rows·O` elements). Defaults to [`portable::linear`].
    ///
    /// # Errors
    /// A [`SizeError`] when an element count differs from `rows`'s; device errors.
    fn try_linear<const I: usize, const O: usize, S: Shape, So: Shape, T: Tape<E, Self>>(
        x: Tensor<S, E, Self, T>,
        weight: &Tensor<Rank2<O, I>, E, Self>,
        bias: &Tensor<Rank1<O>, E, Self>,
        rows: usize,
        out_shape: So,
    ) -> Result<Tensor<So, E, Self, T>, Self::Err> {
        portable::linear(x, weight, bias, rows, out_shape)
    }

    /// `conv2d(x, weight, bias)` with geometry `g`: `x` holds `batch·chan_in·h_in·w_in`
    /// elements, `weight` `chan_out·chan_in·kernel²` (`(O, I, K, K)` order), `bias` `chan_out`,
    /// and `out_shape` `batch·chan_out·h_out·w_out`. Defaults to [`portable::conv2d`].
    ///
    /// # Errors
    /// A [`SizeError`] when an element count differs from the geometry's; device errors.
    fn try_conv2d<Si: Shape, So: Shape, Sw: Shape, Sb: Shape, T: Tape<E, Self>>(
        x: Tensor<Si, E, Self, T>,
        weight: &Tensor<Sw, E, Self>,
        bias: &Tensor<Sb, E, Self>,
        g: Conv2dGeom,
        out_shape: So,
    ) -> Result<Tensor<So, E, Self, T>, Self::Err> {
        portable::conv2d(x, weight, bias, g, out_shape)
    }

    /// A 2-D pool of kind `kind` with geometry `g`: `x` holds `planes·h_in·w_in` elements and
    /// `out_shape` `planes·h_out·w_out`. Defaults to [`portable::pool2d`].
    ///
    /// # Errors
    /// A [`SizeError`] when an element count differs from the geometry's; device errors.
    fn try_pool2d<Si: Shape, So: Shape, T: Tape<E, Self>>(
        x: Tensor<Si, E, Self, T>,
        kind: Pooling,
        g: Pool2dGeom,
        out_shape: So,
    ) -> Result<Tensor<So, E, Self, T>, Self::Err> {
        portable::pool2d(x, kind, g, out_shape)
    }

    /// Training-mode batch norm over `C` channels with geometry `g`: normalises `x` with its own
    /// batch statistics (mean and biased variance of each channel over `g.batch·g.plane`
    /// values), then scales and shifts by `scale` and `bias`; updates `running` (mean, variance)
    /// with `g.momentum`, the variance unbiased (`·N/(N − 1)`), as PyTorch does. The output has
    /// `x`'s shape, recorded on its tape. Defaults to [`portable::batch_norm_train`].
    ///
    /// # Errors
    /// A [`SizeError`] when `x` does not hold `g.batch·C·g.plane` elements; device errors.
    fn try_batch_norm_train<const C: usize, S: Shape, T: Tape<E, Self>>(
        x: Tensor<S, E, Self, T>,
        scale: &Tensor<Rank1<C>, E, Self>,
        bias: &Tensor<Rank1<C>, E, Self>,
        running: (
            &mut Tensor<Rank1<C>, E, Self>,
            &mut Tensor<Rank1<C>, E, Self>,
        ),
        g: BatchNormGeom,
    ) -> Result<Tensor<S, E, Self, T>, Self::Err> {
        portable::batch_norm_train(x, scale, bias, running, g)
    }

    /// Inference-mode batch norm over `C` channels with geometry `g`: normalises `x` with the
    /// `running` (mean, variance), then scales and shifts by `scale` and `bias`.
    /// Defaults to [`portable::batch_norm_infer`].
    ///
    /// # Errors
    /// A [`SizeError`] when `x` does not hold `g.batch·C·g.plane` elements; device errors.
    fn try_batch_norm_infer<const C: usize, S: Shape>(
        x: Tensor<S, E, Self>,
        scale: &Tensor<Rank1<C>, E, Self>,
        bias: &Tensor<Rank1<C>, E, Self>,
        running: (&Tensor<Rank1<C>, E, Self>, &Tensor<Rank1<C>, E, Self>),
        g: BatchNormGeom,
    ) -> Result<Tensor<S, E, Self>, Self::Err> {
        portable::batch_norm_infer(x, scale, bias, running, g)
    }

    /// A GRU over a whole sequence (PyTorch's equations, see [`Gru`](super::Gru)) from the zero
    /// state: `x` `(B, S, I)` to every step's hidden state `(B, S, H)`, recorded on `x`'s tape.
    /// The weights and biases are the layer's, gate by gate (reset, update, new).
    /// Defaults to [`portable::gru_sequence`].
    ///
    /// # Errors
    /// A [`SizeError`] when the sequence is empty (`S = 0`); device errors.
    #[allow(clippy::type_complexity)]
    fn try_gru_sequence<const I: usize, const H: usize, B: Dim, S: Dim, T: Tape<E, Self>>(
        x: Tensor<(B, S, Const<I>), E, Self, T>,
        weight_ih: &Tensor<Rank3<3, H, I>, E, Self>,
        weight_hh: &Tensor<Rank3<3, H, H>, E, Self>,
        bias_ih: &Tensor<Rank2<3, H>, E, Self>,
        bias_hh: &Tensor<Rank2<3, H>, E, Self>,
    ) -> Result<Tensor<(B, S, Const<H>), E, Self, T>, Self::Err> {
        portable::gru_sequence(x, weight_ih, weight_hh, bias_ih, bias_hh)
    }

    /// Layer normalisation over the last axis (dfdx's `LayerNorm1D`): each row of `M` elements
    /// of `x` minus its mean, over `√(var + epsilon)` (the biased variance), times `gamma`, plus
    /// `beta`. The output has `x`'s shape, recorded on its tape.
    /// Defaults to [`portable::layer_norm`].
    ///
    /// # Errors
    /// Device errors.
    #[allow(clippy::type_complexity)]
    fn try_layer_norm<const M: usize, B: Dim, S: Dim, T: Tape<E, Self>>(
        x: Tensor<(B, S, Const<M>), E, Self, T>,
        gamma: &Tensor<Rank1<M>, E, Self>,
        beta: &Tensor<Rank1<M>, E, Self>,
        epsilon: f64,
    ) -> Result<Tensor<(B, S, Const<M>), E, Self, T>, Self::Err> {
        portable::layer_norm(x, gamma, beta, epsilon)
    }

    /// Multi-head scaled dot-product attention of `heads` heads over rows of `M` features:
    /// with each head's `M / heads` columns of `q`, `k` and `v` (per sequence, `(S, M/heads)`
    /// blocks), `softmax(q·kᵀ/√(M/heads))·v` (the softmax along each row), the heads written back
    /// to their columns: `(B, S, M)`, recorded on the three tapes, merged.
    /// Defaults to [`portable::attention`].
    ///
    /// # Errors
    /// A [`SizeError`] when `heads` is 0 or does not divide `M`; device errors.
    #[allow(clippy::type_complexity)]
    fn try_attention<const M: usize, B: Dim, S: Dim, T: Tape<E, Self>>(
        q: Tensor<(B, S, Const<M>), E, Self, T>,
        k: Tensor<(B, S, Const<M>), E, Self, T>,
        v: Tensor<(B, S, Const<M>), E, Self, T>,
        heads: usize,
    ) -> Result<Tensor<(B, S, Const<M>), E, Self, T>, Self::Err> {
        portable::attention(q, k, v, heads)
    }
}

/// A device the [`Trainer`](crate::train::Trainer) trains on with element type `E` (`f32`
/// unless named): it runs typenet's layers ([`LayerKernels`]), has dfdx's allocation cache
/// (which `fit` turns on) and can read and write a tensor buffer as host memory (gradient
/// clipping, saving and loading optimizer state: the CPU in place, CUDA through a copy to the
/// host and back), also for typenet's own update rules
/// ([`HostSlices`]).
///
/// Implemented for the CPU (`f32` and `f64`) and, with the `cuda` feature, CUDA (`f32`).
pub trait TrainingDevice<E: Dtype = f32>: Device<E> + Cache + LayerKernels<E> + HostSlices {
    /// Runs `f` on the buffer `v` as a slice of host memory, reporting a failed copy as the
    /// device's own error (what a backward pass must return; see [`custom`](crate::nn::custom)).
    ///
    /// # Errors
    /// The device's error when copying to or from the device fails.
    fn try_with_slice(
        v: &mut <Self as Storage<E>>::Vec,
        f: &mut dyn FnMut(&mut [E]),
    ) -> Result<(), Self::Err>;

    /// Runs `f` on the buffer `v` as a slice of host memory.
    ///
    /// # Errors
    /// [`Error::Device`](crate::Error::Device), with the device's error as its source, when
    /// copying to or from the device fails.
    fn with_slice(
        v: &mut <Self as Storage<E>>::Vec,
        f: &mut dyn FnMut(&mut [E]),
    ) -> crate::Result<()> {
        Self::try_with_slice(v, f).map_err(crate::Error::device)
    }
}
