//! [`MaxPool2D`] and [`AvgPool2D`]: 2-D pooling with computed output sizes.

use super::conv2d::{rule_dims, window_error, RuleSet};
use super::device::{LayerKernels, Pool2dGeom, Pooling, SizeError};
use super::shape::{PlaneRule, Tables};
use super::summary::Summarize;
use super::Params;
use dfdx::prelude::*;
use std::marker::PhantomData;

/// The `Module` impls of a pool type whose output sizes come from the rule set `$rule`.
macro_rules! pool_module {
    ($ty:ty, $rule:ty, [$($g:tt)*], $kind:expr, $label:expr) => {
        impl<const K: usize, const S: usize, const P: usize, $($g)* C: Dim, H: Dim, W: Dim, E, D, T>
            Module<Tensor<(C, H, W), E, D, T>> for $ty
        where
            E: Dtype,
            D: LayerKernels<E>,
            $rule: PlaneRule<H, W, K, S, P>,
            T: Tape<E, D>,
        {
            type Output = Tensor<(C, <$rule as PlaneRule<H, W, K, S, P>>::OutH, <$rule as PlaneRule<H, W, K, S, P>>::OutW), E, D, T>;
            type Error = D::Err;

            /// Errors ([`SizeError`], as the device's error) for a padding of more than half the
            /// kernel, and for runtime sizes smaller than the window.
            fn try_forward(&self, x: Tensor<(C, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
                let (c, h, w) = *x.shape();
                let (ho, wo) = pool_dims::<$rule, K, S, P, H, W>(h, w)?;
                let g = Pool2dGeom::new(c.size(), h.size(), w.size(), K, S, P).ok_or(window_error::<K, S, P>(h.size()))?;
                D::try_pool2d(x, $kind, g, (c, ho, wo))
            }
        }

        impl<const K: usize, const S: usize, const P: usize, $($g)* B: Dim, C: Dim, H: Dim, W: Dim, E, D, T>
            Module<Tensor<(B, C, H, W), E, D, T>> for $ty
        where
            E: Dtype,
            D: LayerKernels<E>,
            $rule: PlaneRule<H, W, K, S, P>,
            T: Tape<E, D>,
        {
            type Output = Tensor<(B, C, <$rule as PlaneRule<H, W, K, S, P>>::OutH, <$rule as PlaneRule<H, W, K, S, P>>::OutW), E, D, T>;
            type Error = D::Err;

            /// Errors ([`SizeError`], as the device's error) for a padding of more than half the
            /// kernel, and for runtime sizes smaller than the window.
            fn try_forward(&self, x: Tensor<(B, C, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
                let (b, c, h, w) = *x.shape();
                let (ho, wo) = pool_dims::<$rule, K, S, P, H, W>(h, w)?;
                let planes = b.size() * c.size();
                let g = Pool2dGeom::new(planes, h.size(), w.size(), K, S, P).ok_or(window_error::<K, S, P>(h.size()))?;
                D::try_pool2d(x, $kind, g, (b, c, ho, wo))
            }
        }

        impl<const K: usize, const S: usize, const P: usize, $($g)*> Params for $ty {
            const PARAMS: usize = 0;
        }

        impl<const K: usize, const S: usize, const P: usize, $($g)* C: ConstDim, H: ConstDim, W: ConstDim> Summarize<(C, H, W)> for $ty
        where
            $rule: PlaneRule<H, W, K, S, P, OutH: ConstDim, OutW: ConstDim>,
        {
            type Output = (C, <$rule as PlaneRule<H, W, K, S, P>>::OutH, <$rule as PlaneRule<H, W, K, S, P>>::OutW);
            fn name() -> String {
                format!("{}<{K}, {S}, {P}>", $label)
            }
        }
    };
}

macro_rules! pool2d {
    ($(#[$doc:meta])* $name:ident, $by:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name<const KERNEL: usize, const STRIDE: usize = 1, const PADDING: usize = 0>;

        #[doc = concat!("[`", stringify!($name), "`] with its output sizes from the rule set `R` instead of typenet's tables: what [`#[network]`](crate::network) writes for each `", stringify!($name), "` of a model, with `R` the model's own rule set.")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $by<const KERNEL: usize, const STRIDE: usize, const PADDING: usize, R>(PhantomData<R>);

        impl<const K: usize, const S: usize, const P: usize> ZeroSizedModule for $name<K, S, P> {}
        impl<const K: usize, const S: usize, const P: usize> NonMutableModule for $name<K, S, P> {}
        impl<const K: usize, const S: usize, const P: usize, R: Default> ZeroSizedModule for $by<K, S, P, R> {}
        impl<const K: usize, const S: usize, const P: usize, R> NonMutableModule for $by<K, S, P, R> {}

        pool_module!($name<K, S, P>, Tables, [], $kind, stringify!($name));
        pool_module!($by<K, S, P, R>, R, [R: RuleSet,], $kind, stringify!($name));
    };
}

/// The output sizes of a pool: [`rule_dims`], after PyTorch's check that the padding is at most
/// half the kernel.
fn pool_dims<R, const K: usize, const S: usize, const P: usize, H: Dim, W: Dim>(
    h: H,
    w: W,
) -> Result<(R::OutH, R::OutW), SizeError>
where
    R: PlaneRule<H, W, K, S, P>,
{
    if 2 * P > K {
        return Err(SizeError::PoolPadding {
            kernel: K,
            padding: P,
        });
    }
    rule_dims::<R, K, S, P, H, W>(h, w)
}

pool2d!(
    /// Max over each `KERNEL`×`KERNEL` window, moved by `STRIDE`, over an input padded by
    /// `PADDING` (padding never wins): `(C, H, W) → (C, H', W')`, `H' = (H + 2P − K)/S + 1`.
    ///
    /// The backward pass sends each output's gradient to the input that won its window.
    ///
    /// # Example
    /// ```
    /// # use typenet::prelude::*;
    /// let dev = Cpu::default();
    /// let y: Tensor<Rank3<8, 13, 13>, f32, _> = MaxPool2D::<2, 2>.forward(dev.zeros::<Rank3<8, 26, 26>>());
    /// ```
    ///
    /// **PyTorch equivalent**: `nn.MaxPool2d(KERNEL, STRIDE, PADDING)` (note: PyTorch's stride
    /// defaults to the kernel, typenet's and dfdx's to 1).
    MaxPool2D,
    MaxPool2DBy,
    Pooling::Max
);

pool2d!(
    /// Mean over each `KERNEL`×`KERNEL` window, moved by `STRIDE`, over an input zero-padded by
    /// `PADDING` (the divisor is always `KERNEL²`): `(C, H, W) → (C, H', W')`.
    ///
    /// # Example
    /// ```
    /// # use typenet::prelude::*;
    /// let dev = Cpu::default();
    /// let y: Tensor<Rank3<3, 16, 16>, f32, _> = AvgPool2D::<2, 2>.forward(dev.ones::<Rank3<3, 32, 32>>());
    /// assert_eq!(y.as_vec()[0], 1.0);
    /// ```
    ///
    /// **PyTorch equivalent**: `nn.AvgPool2d(KERNEL, STRIDE, PADDING)` (`count_include_pad=True`).
    AvgPool2D,
    AvgPool2DBy,
    Pooling::Avg
);

macro_rules! global_pool {
    ($($name:ident),*) => {$(
        impl Params for $name {
            const PARAMS: usize = 0;
        }
        impl<C: ConstDim, H: ConstDim, W: ConstDim> Summarize<(C, H, W)> for $name {
            type Output = (C,);
        }
    )*};
}
// dfdx's global pools work on stable: typenet only adds the compile-time facts.
global_pool!(AvgPoolGlobal, MaxPoolGlobal, MinPoolGlobal);
