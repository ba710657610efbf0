//! [`MaxPool2D`] and [`AvgPool2D`]: 2-D pooling with computed output sizes.

use super::conv2d::{window_dims, window_error};
use super::device::{LayerKernels, Pool2dGeom, Pooling};
use super::shape::Window;
use super::summary::{LayerRow, Summarize};
use super::Params;
use dfdx::prelude::*;

macro_rules! pool2d {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name<const KERNEL: usize, const STRIDE: usize = 1, const PADDING: usize = 0>;

        impl<const K: usize, const S: usize, const P: usize> ZeroSizedModule for $name<K, S, P> {}
        impl<const K: usize, const S: usize, const P: usize> NonMutableModule for $name<K, S, P> {}

        impl<const K: usize, const S: usize, const P: usize, C: Dim, H, W, E, D, T>
            Module<Tensor<(C, H, W), E, D, T>> for $name<K, S, P>
        where
            E: Dtype,
            D: LayerKernels<E>,
            H: Window<K, S, P>,
            W: Window<K, S, P>,
            T: Tape<E, D>,
        {
            type Output = Tensor<(C, H::Out, W::Out), E, D, T>;
            type Error = D::Err;

            /// Errors ([`SizeError`](crate::nn::device::SizeError), as the device's error) only for
            /// runtime sizes smaller than the window.
            fn try_forward(&self, x: Tensor<(C, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
                let (c, h, w) = *x.shape();
                let (ho, wo) = window_dims::<K, S, P, H, W>(h, w)?;
                let g = Pool2dGeom::new(c.size(), h.size(), w.size(), K, S, P).ok_or(window_error::<K, S, P>(h.size()))?;
                D::try_pool2d(x, $kind, g, (c, ho, wo))
            }
        }

        impl<const K: usize, const S: usize, const P: usize, B: Dim, C: Dim, H, W, E, D, T>
            Module<Tensor<(B, C, H, W), E, D, T>> for $name<K, S, P>
        where
            E: Dtype,
            D: LayerKernels<E>,
            H: Window<K, S, P>,
            W: Window<K, S, P>,
            T: Tape<E, D>,
        {
            type Output = Tensor<(B, C, H::Out, W::Out), E, D, T>;
            type Error = D::Err;

            /// Errors ([`SizeError`](crate::nn::device::SizeError), as the device's error) only for
            /// runtime sizes smaller than the window.
            fn try_forward(&self, x: Tensor<(B, C, H, W), E, D, T>) -> Result<Self::Output, D::Err> {
                let (b, c, h, w) = *x.shape();
                let (ho, wo) = window_dims::<K, S, P, H, W>(h, w)?;
                let planes = b.size() * c.size();
                let g = Pool2dGeom::new(planes, h.size(), w.size(), K, S, P).ok_or(window_error::<K, S, P>(h.size()))?;
                D::try_pool2d(x, $kind, g, (b, c, ho, wo))
            }
        }

        impl<const K: usize, const S: usize, const P: usize> Params for $name<K, S, P> {
            const PARAMS: usize = 0;
        }

        impl<const K: usize, const S: usize, const P: usize, C: Dim, H, W> Summarize<(C, H, W)> for $name<K, S, P>
        where
            H: Window<K, S, P>,
            W: Window<K, S, P>,
            H::Out: ConstDim,
            W::Out: ConstDim,
        {
            type Output = (C, H::Out, W::Out);
            fn describe(input: (C, H, W), rows: &mut Vec<LayerRow>) -> Self::Output {
                let out = (input.0, Default::default(), Default::default());
                rows.push(LayerRow::of::<Self, _>(&out));
                out
            }
        }
    };
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
    Pooling::Avg
);

macro_rules! global_pool {
    ($($name:ident),*) => {$(
        impl Params for $name {
            const PARAMS: usize = 0;
        }
        impl<C: Dim, H: Dim, W: Dim> Summarize<(C, H, W)> for $name {
            type Output = (C,);
            fn describe(input: (C, H, W), rows: &mut Vec<LayerRow>) -> (C,) {
                let out = (input.0,);
                rows.push(LayerRow::of::<Self, _>(&out));
                out
            }
        }
    )*};
}
// dfdx's global pools work on stable: typenet only adds the compile-time facts.
global_pool!(AvgPoolGlobal, MaxPoolGlobal, MinPoolGlobal);
