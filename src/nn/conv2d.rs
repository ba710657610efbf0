//! [`Conv2D`]: 2-D convolution with compile-time channel counts and computed output sizes.

use super::device::{Conv2dGeom, LayerKernels, SizeError};
use super::init::uniform_fan_in;
use super::shape::{
    dilated_kernel, window_size, Channels, PlaneRule, TableDilation, Tables, Window,
};
use super::summary::Summarize;
use super::Params;
use dfdx::prelude::*;
use std::marker::PhantomData;

/// The builder types (what model type aliases name).
pub mod builder {
    /// 2-D convolution from `IN_CHAN` to `OUT_CHAN` channels with a square `KERNEL`, `STRIDE`,
    /// zero `PADDING` on all sides and the kernel's taps `DILATION` apart (1: adjacent):
    /// `(IN_CHAN, H, W) → (OUT_CHAN, H', W')` with
    /// `H' = (H + 2·PADDING − DILATION·(KERNEL − 1) − 1) / STRIDE + 1` computed by the compiler
    /// ([`Window`](crate::nn::Window)). typenet's tables know dilation 1; a dilated conv needs a
    /// [`#[network]`](crate::network) model, which computes its sizes.
    ///
    /// Weights `(OUT_CHAN, IN_CHAN, KERNEL, KERNEL)` and bias `(OUT_CHAN,)` start uniform in
    /// `±1/√(IN_CHAN·KERNEL²)` (PyTorch's default).
    ///
    /// # Example
    /// ```
    /// # use typenet::prelude::*;
    /// let dev = Cpu::default();
    /// let conv = dev.build_module::<Conv2D<1, 8, 3>, f32>();
    /// let y: Tensor<Rank3<8, 26, 26>, f32, _> = conv.forward(dev.zeros::<Rank3<1, 28, 28>>());
    /// const _: () = assert!(<Conv2D<1, 8, 3> as Params>::PARAMS == 80);
    ///
    /// // dilation 2: a 3-wide kernel spans 5, so 28 → 24
    /// #[typenet::network([1, 28, 28])]
    /// type Dilated = (Conv2D<1, 8, 3, 1, 0, 2>, ReLU);
    /// let d = dev.build_module::<Dilated, f32>();
    /// let y: Tensor<Rank3<8, 24, 24>, f32, _> = d.forward(dev.zeros::<Rank3<1, 28, 28>>());
    /// ```
    ///
    /// **PyTorch equivalent**: `nn.Conv2d(IN_CHAN, OUT_CHAN, KERNEL, STRIDE, PADDING, DILATION)`.
    /// **Keras equivalent**: `Conv2D(OUT_CHAN, KERNEL, strides=STRIDE)` (channels first).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Conv2D<
        const IN_CHAN: usize,
        const OUT_CHAN: usize,
        const KERNEL: usize,
        const STRIDE: usize = 1,
        const PADDING: usize = 0,
        const DILATION: usize = 1,
    >;

    /// [`Conv2D`] with its output sizes from the rule set `R` instead of typenet's tables: what
    /// [`#[network]`](crate::network) writes for each `Conv2D` of a model, with `R` the model's
    /// own rule set. Same weights, initialisation, parameters and forward pass.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Conv2DBy<
        const IN_CHAN: usize,
        const OUT_CHAN: usize,
        const KERNEL: usize,
        const STRIDE: usize,
        const PADDING: usize,
        R,
        const DILATION: usize = 1,
    >(core::marker::PhantomData<R>);
}

/// A rule set a built layer can carry: zero-sized and as thread-safe as the layer.
pub trait RuleSet: 'static + Send + Sync + Copy + Default + std::fmt::Debug {}
impl<R: 'static + Send + Sync + Copy + Default + std::fmt::Debug> RuleSet for R {}

/// A built [`builder::Conv2D`] on device `D` with element type `E`; its output sizes come from the
/// rule set `R` ([`Tables`], or a `#[network]` model's own).
#[derive(Debug, Clone)]
pub struct Conv2D<
    const IN_CHAN: usize,
    const OUT_CHAN: usize,
    const KERNEL: usize,
    const STRIDE: usize,
    const PADDING: usize,
    E: Dtype,
    D: Storage<E>,
    R = Tables,
    const DILATION: usize = 1,
> {
    /// Kernels, shape `(OUT_CHAN, IN_CHAN, KERNEL, KERNEL)`.
    pub weight: Tensor<Rank4<OUT_CHAN, IN_CHAN, KERNEL, KERNEL>, E, D>,
    /// Bias, shape `(OUT_CHAN,)`.
    pub bias: Tensor<Rank1<OUT_CHAN>, E, D>,
    /// The rule set (zero-sized).
    pub rules: PhantomData<R>,
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const DL: usize,
        E: Dtype,
        D: Device<E>,
    > BuildOnDevice<D, E> for builder::Conv2D<I, O, K, S, P, DL>
where
    Conv2D<I, O, K, S, P, E, D, Tables, DL>: BuildModule<D, E>,
{
    type Built = Conv2D<I, O, K, S, P, E, D, Tables, DL>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        Self::Built::try_build(device)
    }
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        E: Dtype,
        D: Device<E>,
        R: RuleSet,
        const DL: usize,
    > BuildOnDevice<D, E> for builder::Conv2DBy<I, O, K, S, P, R, DL>
where
    Conv2D<I, O, K, S, P, E, D, R, DL>: BuildModule<D, E>,
{
    type Built = Conv2D<I, O, K, S, P, E, D, R, DL>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        Self::Built::try_build(device)
    }
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        E,
        D,
        R,
        const DL: usize,
    > TensorCollection<E, D> for Conv2D<I, O, K, S, P, E, D, R, DL>
where
    E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
    D: Device<E>,
    R: RuleSet,
{
    type To<E2: Dtype, D2: Device<E2>> = Conv2D<I, O, K, S, P, E2, D2, R, DL>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        // PyTorch's default init: uniform in ±1/sqrt(fan_in) for weights and bias.
        visitor.visit_fields(
            (
                Self::tensor(
                    "weight",
                    |s| &s.weight,
                    |s| &mut s.weight,
                    uniform_fan_in::<I, K, _, _, _>(),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    uniform_fan_in::<I, K, _, _, _>(),
                ),
            ),
            |(weight, bias)| Conv2D {
                weight,
                bias,
                rules: PhantomData,
            },
        )
    }
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        E: Dtype,
        D: Storage<E>,
        R,
        const DL: usize,
    > NonMutableModule for Conv2D<I, O, K, S, P, E, D, R, DL>
{
}

/// The output sizes rule set `R` gives for input sizes `h`, `w`; an error only for runtime sizes
/// that do not fit ([`SizeError::Window`]).
pub(crate) fn rule_dims<R, const K: usize, const S: usize, const P: usize, H: Dim, W: Dim>(
    h: H,
    w: W,
) -> Result<(R::OutH, R::OutW), SizeError>
where
    R: PlaneRule<H, W, K, S, P>,
{
    dilated_rule_dims::<R, K, S, P, 1, H, W>(h, w)
}

/// [`rule_dims`] for a kernel whose taps are `DL` apart.
pub(crate) fn dilated_rule_dims<
    R,
    const K: usize,
    const S: usize,
    const P: usize,
    const DL: usize,
    H: Dim,
    W: Dim,
>(
    h: H,
    w: W,
) -> Result<(R::OutH, R::OutW), SizeError>
where
    R: PlaneRule<H, W, K, S, P, DL>,
{
    let span = dilated_kernel(K, DL).unwrap_or(0);
    let error = |size: usize| SizeError::Window {
        size,
        kernel: span,
        stride: S,
        padding: P,
    };
    let out = |size: usize| window_size(size, span, S, P).ok_or(error(size));
    let (ho, wo) = (out(h.size())?, out(w.size())?);
    Ok((
        R::OutH::from_size(ho).ok_or(error(h.size()))?,
        R::OutW::from_size(wo).ok_or(error(w.size()))?,
    ))
}

/// A `K`-wide window with stride `S` and padding `P` does not fit `size`.
pub(crate) fn window_error<const K: usize, const S: usize, const P: usize>(
    size: usize,
) -> SizeError {
    SizeError::Window {
        size,
        kernel: K,
        stride: S,
        padding: P,
    }
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        C,
        E,
        H,
        W,
        D,
        T,
        R,
        const DL: usize,
    > Module<Tensor<(C, H, W), E, D, T>> for Conv2D<I, O, K, S, P, E, D, R, DL>
where
    C: Channels<I>,
    E: Dtype,
    D: LayerKernels<E>,
    H: Dim,
    W: Dim,
    R: PlaneRule<H, W, K, S, P, DL>,
    T: Tape<E, D>,
{
    type Output = Tensor<(Const<O>, R::OutH, R::OutW), E, D, T>;
    type Error = D::Err;

    /// Errors ([`SizeError`], as the device's error) only for runtime sizes smaller than the
    /// kernel.
    fn try_forward(&self, x: Tensor<(C, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
        let (_, h, w) = *x.shape();
        let (ho, wo) = dilated_rule_dims::<R, K, S, P, DL, H, W>(h, w)?;
        let g = Conv2dGeom::new(1, I, h.size(), w.size(), O, K, S, P)
            .and_then(|g| g.dilated(DL))
            .ok_or(window_error::<K, S, P>(h.size()))?;
        D::try_conv2d(x, &self.weight, &self.bias, g, (Const, ho, wo))
    }
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        B,
        C,
        E,
        H,
        W,
        D,
        T,
        R,
        const DL: usize,
    > Module<Tensor<(B, C, H, W), E, D, T>> for Conv2D<I, O, K, S, P, E, D, R, DL>
where
    B: Dim,
    C: Channels<I>,
    E: Dtype,
    D: LayerKernels<E>,
    H: Dim,
    W: Dim,
    R: PlaneRule<H, W, K, S, P, DL>,
    T: Tape<E, D>,
{
    type Output = Tensor<(B, Const<O>, R::OutH, R::OutW), E, D, T>;
    type Error = D::Err;

    /// Errors ([`SizeError`], as the device's error) only for runtime sizes smaller than the
    /// kernel.
    fn try_forward(&self, x: Tensor<(B, C, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
        let (b, _, h, w) = *x.shape();
        let (ho, wo) = dilated_rule_dims::<R, K, S, P, DL, H, W>(h, w)?;
        let g = Conv2dGeom::new(b.size(), I, h.size(), w.size(), O, K, S, P)
            .and_then(|g| g.dilated(DL))
            .ok_or(window_error::<K, S, P>(h.size()))?;
        D::try_conv2d(x, &self.weight, &self.bias, g, (b, Const, ho, wo))
    }
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const DL: usize,
    > Params for builder::Conv2D<I, O, K, S, P, DL>
{
    const PARAMS: usize = O * I * K * K + O;
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        R,
        const DL: usize,
    > Params for builder::Conv2DBy<I, O, K, S, P, R, DL>
{
    const PARAMS: usize = O * I * K * K + O;
}

/// Multiply-adds of a convolution: each of the `O·H'·W'` outputs sums `I·K²` products.
const fn conv_macs(i: usize, o: usize, k: usize, h_out: usize, w_out: usize) -> usize {
    o * h_out * w_out * i * k * k
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const DL: usize,
        C,
        H,
        W,
    > Summarize<(C, H, W)> for builder::Conv2D<I, O, K, S, P, DL>
where
    C: Channels<I> + ConstDim,
    H: Window<K, S, P, Out: ConstDim> + ConstDim,
    W: Window<K, S, P, Out: ConstDim> + ConstDim,
    H: TableDilation<DL>,
{
    type Output = (Const<O>, H::Out, W::Out);
    const MACS: usize = conv_macs(
        I,
        O,
        K,
        <H::Out as ConstDim>::SIZE,
        <W::Out as ConstDim>::SIZE,
    );
    fn name() -> String {
        conv_name(I, O, K, S, P, DL)
    }
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        R,
        const DL: usize,
        C,
        H,
        W,
    > Summarize<(C, H, W)> for builder::Conv2DBy<I, O, K, S, P, R, DL>
where
    C: Channels<I> + ConstDim,
    H: ConstDim,
    W: ConstDim,
    R: PlaneRule<H, W, K, S, P, DL, OutH: ConstDim, OutW: ConstDim>,
{
    type Output = (Const<O>, R::OutH, R::OutW);
    const MACS: usize = conv_macs(I, O, K, R::OutH::SIZE, R::OutW::SIZE);
    fn name() -> String {
        conv_name(I, O, K, S, P, DL)
    }
}

/// A conv's name in a summary, as the user writes it (the dilation only when it is not 1).
fn conv_name(i: usize, o: usize, k: usize, s: usize, p: usize, dl: usize) -> String {
    match dl {
        1 => format!("Conv2D<{i}, {o}, {k}, {s}, {p}>"),
        _ => format!("Conv2D<{i}, {o}, {k}, {s}, {p}, {dl}>"),
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn counts_and_summarises_like_keras() {
        // Keras: Conv2D(6, 5) on 1 channel has 6*1*5*5 + 6 = 156 params.
        assert_eq!(<Conv2D<1, 6, 5> as Params>::PARAMS, 156);
        type Net = (
            Conv2D<1, 6, 5, 1, 2>,
            ReLU,
            MaxPool2D<2, 2>,
            Conv2D<6, 16, 5>,
        );
        let s = summary::<Net, Rank3<1, 28, 28>>();
        let shapes: Vec<Vec<usize>> = s.rows.iter().map(|r| r.output.clone()).collect();
        assert_eq!(
            shapes,
            [
                vec![6, 28, 28],
                vec![6, 28, 28],
                vec![6, 14, 14],
                vec![16, 10, 10]
            ]
        );
        assert_eq!(s.rows[0].layer, "Conv2D<1, 6, 5, 1, 2>");
    }

    #[test]
    fn builds_with_the_pytorch_init_range() {
        let dev = Cpu::seed_from_u64(0);
        let m = dev.build_module::<Conv2D<2, 4, 3>, f32>();
        let bound = 1.0 / ((2 * 3 * 3) as f32).sqrt();
        assert!(m.weight.as_vec().iter().all(|w| w.abs() <= bound));
        assert!(m.bias.as_vec().iter().all(|b| b.abs() <= bound));
    }
}
