//! [`Flatten2D`]: `(C, H, W) → (C·H·W,)`, with the product computed by the compiler.

use super::conv2d::RuleSet;
use super::device::{LayerKernels, SizeError};
use super::shape::{FlatDims, FlatRule};
use super::summary::Summarize;
use super::Params;
use dfdx::prelude::*;
use std::marker::PhantomData;

/// Flattens a feature map: `(C, H, W) → (C·H·W,)` and `(B, C, H, W) → (B, C·H·W)`.
///
/// The product is a type ([`FlatDims`]), so the following `Linear` must take exactly `C·H·W`
/// inputs or the model does not compile:
///
/// ```
/// # use typenet::prelude::*;
/// type Head = (Flatten2D, Linear<400, 10>);
/// let dev = Cpu::default();
/// let m = dev.build_module::<Head, f32>();
/// let y: Tensor<Rank1<10>, f32, _> = m.forward(dev.zeros::<Rank3<16, 5, 5>>());
/// ```
/// ```compile_fail
/// # use typenet::prelude::*;
/// type Head = (Flatten2D, Linear<401, 10>); // 16·5·5 = 400, not 401
/// let dev = Cpu::default();
/// let m = dev.build_module::<Head, f32>();
/// let y = m.forward(dev.zeros::<Rank3<16, 5, 5>>());
/// ```
///
/// **PyTorch equivalent**: `nn.Flatten()`. **Keras equivalent**: `Flatten()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flatten2D;

impl ZeroSizedModule for Flatten2D {}
impl NonMutableModule for Flatten2D {}

impl<C: FlatDims<H, W>, H: Dim, W: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>
    Module<Tensor<(C, H, W), E, D, T>> for Flatten2D
{
    type Output = Tensor<(C::Out,), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(C, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
        let (c, h, w) = *x.shape();
        x.try_reshape_like(&(c.flat_out(h, w),))
    }
}

impl<B: Dim, C: FlatDims<H, W>, H: Dim, W: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>
    Module<Tensor<(B, C, H, W), E, D, T>> for Flatten2D
{
    type Output = Tensor<(B, C::Out), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, C, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
        let (b, c, h, w) = *x.shape();
        x.try_reshape_like(&(b, c.flat_out(h, w)))
    }
}

impl Params for Flatten2D {
    const PARAMS: usize = 0;
}

impl<C: FlatDims<H, W, Out: ConstDim> + ConstDim, H: ConstDim, W: ConstDim> Summarize<(C, H, W)>
    for Flatten2D
{
    type Output = (C::Out,);
}

/// [`Flatten2D`] with its output size from the rule set `R` instead of typenet's table: what
/// [`#[network]`](crate::network) writes for each `Flatten2D` of a model, with `R` the model's
/// own rule set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flatten2DBy<R>(PhantomData<R>);

impl<R: Default> ZeroSizedModule for Flatten2DBy<R> {}
impl<R> NonMutableModule for Flatten2DBy<R> {}

/// `C·H·W` as rule set `R`'s output dimension. The rules `#[network]` generates always agree with
/// the product; a hand-written rule that does not is an error naming the product it was given.
fn flat_dim<R: FlatRule<C, H, W>, C: Dim, H: Dim, W: Dim>(
    c: C,
    h: H,
    w: W,
) -> Result<R::Out, SizeError> {
    let n = c.size() * h.size() * w.size();
    R::Out::from_size(n).ok_or(SizeError::Elements {
        op: "flatten",
        tensor: "output",
        expected: n,
        found: 0,
    })
}

impl<
        R: RuleSet + FlatRule<C, H, W>,
        C: Dim,
        H: Dim,
        W: Dim,
        E: Dtype,
        D: LayerKernels<E>,
        T: Tape<E, D>,
    > Module<Tensor<(C, H, W), E, D, T>> for Flatten2DBy<R>
{
    type Output = Tensor<(R::Out,), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(C, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
        let (c, h, w) = *x.shape();
        x.try_reshape_like(&(flat_dim::<R, C, H, W>(c, h, w)?,))
    }
}

impl<
        R: RuleSet + FlatRule<C, H, W>,
        B: Dim,
        C: Dim,
        H: Dim,
        W: Dim,
        E: Dtype,
        D: LayerKernels<E>,
        T: Tape<E, D>,
    > Module<Tensor<(B, C, H, W), E, D, T>> for Flatten2DBy<R>
{
    type Output = Tensor<(B, R::Out), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, C, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
        let (b, c, h, w) = *x.shape();
        x.try_reshape_like(&(b, flat_dim::<R, C, H, W>(c, h, w)?))
    }
}

impl<R> Params for Flatten2DBy<R> {
    const PARAMS: usize = 0;
}

impl<R, C: ConstDim, H: ConstDim, W: ConstDim> Summarize<(C, H, W)> for Flatten2DBy<R>
where
    R: FlatRule<C, H, W, Out: ConstDim>,
{
    type Output = (R::Out,);
    fn name() -> String {
        "Flatten2D".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_const_and_runtime_maps() {
        let dev = Cpu::default();
        let x: Tensor<Rank4<2, 3, 2, 2>, f32, _> = dev.sample_normal();
        let y: Tensor<(Const<2>, Const<12>), f32, _> = Flatten2D.forward(x.clone());
        assert_eq!(y.as_vec(), x.as_vec());
        let xr: Tensor<(usize, Const<3>, usize, usize), f32, _> = dev.zeros_like(&(2, Const, 5, 4));
        let yr = Flatten2D.forward(xr);
        assert_eq!(yr.shape().concrete(), [2, 60]);
    }
}
