//! All dimension arithmetic of typenet's layers, as traits with associated output types.
//!
//! Nothing else in typenet computes a dimension: [`Conv2D`](super::Conv2D), the pools and
//! [`Flatten2D`](super::Flatten2D) only name these traits, so an output size is computed by the
//! compiler (users write no output sizes) and a layer that cannot take its input is a trait error
//! that `cargo check` and rust-analyzer report, with a sentence saying which rule failed.
//!
//! The rules on [`Const`] sizes come from tables that `build.rs` generates with literal outputs,
//! split into many small helper traits (`Pad{P}`: `H → H + 2P`, then `Win{K}x{S}`:
//! `X → (X − K)/S + 1`; `Flat{H}x{W}`: `C → C·H·W`). The split keeps rustc's coherence check
//! linear in the table size (one big trait is quadratic: see `docs/design/conv-shapes.md`).
//!
//! Table ranges:
//! - conv/pool: spatial sizes 1..=256, kernels 1, 2, 3, 4, 5, 7, strides 1, 2, padding 0..=3;
//! - flatten: every map up to 4×4 and the square maps 5..=16, 24, 28, 32, with 1..=64 channels,
//!   multiples of 8 up to 512 and multiples of 64 up to 1024.
//!
//! Runtime (`usize`) dimensions are accepted everywhere and checked when the layer runs.
//!
//! Sizes outside the tables: declare the model with [`#[network([C, H, W])]`](crate::network),
//! which computes every size of that model from its literals and gives its layers a rule set
//! ([`PlaneRule`], [`FlatRule`]) holding exactly those sizes, for any kernel, stride, padding and
//! input size. Plain model types use the rule set [`Tables`].

use dfdx::shapes::{Const, ConstDim, Dim};

/// The output size of a conv/pool window sliding over one spatial dimension:
/// `out = (in + 2·PADDING − KERNEL) / STRIDE + 1`.
///
/// Implemented for `Const<N>` from typenet's tables and for `usize` (computed at run time).
///
/// ```
/// # use typenet::prelude::*;
/// # use typenet::nn::Window;
/// // LeNet's first conv: 28 + 2*2 - 5 + 1 = 28; then a 2x2 pool: 14.
/// let _: Const<28> = <Const<28> as Window<5, 1, 2>>::Out::default();
/// let _: Const<14> = <Const<28> as Window<2, 2, 0>>::Out::default();
/// ```
#[diagnostic::on_unimplemented(
    message = "no conv/pool output size for spatial size `{Self}` with kernel {KERNEL}, stride {STRIDE}, padding {PADDING}",
    label = "this layer's window does not fit its input",
    note = "typenet's tables cover sizes 1..=256, kernels 1,2,3,4,5,7, strides 1,2, padding 0..=3; for any other size declare the model with #[typenet::network([C, H, W])]"
)]
pub trait Window<const KERNEL: usize, const STRIDE: usize, const PADDING: usize>: Dim {
    /// The output size.
    type Out: Dim;
    /// The output size of `self`, or `None` when the (padded) input is smaller than the kernel or
    /// `STRIDE` is 0 (only possible for runtime sizes).
    fn window_out(self) -> Option<Self::Out>;
}

impl<const KERNEL: usize, const STRIDE: usize, const PADDING: usize> Window<KERNEL, STRIDE, PADDING>
    for usize
{
    type Out = usize;
    fn window_out(self) -> Option<usize> {
        window_size(self, KERNEL, STRIDE, PADDING)
    }
}

/// `(size + 2·padding − kernel) / stride + 1` at run time; `None` when the window does not fit.
pub fn window_size(size: usize, kernel: usize, stride: usize, padding: usize) -> Option<usize> {
    let padded = size.checked_add(2 * padding)?;
    if kernel == 0 || padded < kernel {
        return None;
    }
    (padded - kernel).checked_div(stride).map(|q| q + 1)
}

/// The span of a `kernel`-wide kernel whose taps are `dilation` apart:
/// `dilation·(kernel − 1) + 1` (the kernel itself for dilation 1); `None` for a dilation or
/// kernel of 0 (or an overflow).
pub fn dilated_kernel(kernel: usize, dilation: usize) -> Option<usize> {
    if kernel == 0 || dilation == 0 {
        return None;
    }
    dilation.checked_mul(kernel - 1)?.checked_add(1)
}

/// The flattened size of a `(C, H, W)` feature map: `C·H·W`, implemented on the channel dim `C`
/// for the map's height `H` and width `W`.
///
/// `Const` maps come from typenet's flatten table; any `usize` dimension makes the result `usize`.
///
/// ```
/// # use typenet::prelude::*;
/// # use typenet::nn::FlatDims;
/// // LeNet: 16 channels of 5x5 flatten to 400 features.
/// let _: Const<400> = <Const<16> as FlatDims<Const<5>, Const<5>>>::Out::default();
/// ```
#[diagnostic::on_unimplemented(
    message = "Flatten2D: no compile-time flatten size for `{Self}` channels of `{H}` x `{W}`",
    label = "feature map outside typenet's flatten table",
    note = "the table knows every map up to 4x4 and square maps 5..=16, 24, 28, 32; for any other map declare the model with #[typenet::network([C, H, W])]"
)]
pub trait FlatDims<H: Dim, W: Dim>: Dim {
    /// `C·H·W`.
    type Out: Dim;
    /// The flattened size.
    fn flat_out(self, h: H, w: W) -> Self::Out;
}

impl<C: Dim> FlatDims<usize, usize> for C {
    type Out = usize;
    fn flat_out(self, h: usize, w: usize) -> usize {
        self.size() * h * w
    }
}
impl<C: Dim, const W: usize> FlatDims<usize, Const<W>> for C {
    type Out = usize;
    fn flat_out(self, h: usize, _: Const<W>) -> usize {
        self.size() * h * W
    }
}
impl<C: Dim, const H: usize> FlatDims<Const<H>, usize> for C {
    type Out = usize;
    fn flat_out(self, _: Const<H>, w: usize) -> usize {
        self.size() * H * w
    }
}

/// A channel dimension that equals `N`: a layer built for `N` input channels takes only inputs
/// with `N` channels. (A trait rather than a literal `Const<N>` in the layer's impl, so that a
/// mismatch is reported as a sentence.)
#[diagnostic::on_unimplemented(
    message = "this layer expects {N} input channels, but its input has `{Self}` channels",
    label = "channel count mismatch",
    note = "the previous layer's output channels must equal this layer's IN_CHAN"
)]
pub trait Channels<const N: usize>: Dim {}
impl<const N: usize> Channels<N> for Const<N> {}

/// A feature dimension that equals `N`: `Linear<N, _>` takes only inputs whose last axis has `N`
/// elements. (A trait rather than a literal `Const<N>` in the layer's impl, so that a mismatch —
/// typically a `Flatten2D` whose map does not flatten to `N` — is reported as a sentence.)
#[diagnostic::on_unimplemented(
    message = "`Linear<{N}, _>` takes {N} input features, but its input has `{Self}` features",
    label = "feature count mismatch",
    note = "the last axis of the input (the previous layer's output or the data's sample width; after `Flatten2D`: channels x height x width) must equal the `Linear`'s first parameter"
)]
pub trait Features<const N: usize>: Dim {}
impl<const N: usize> Features<N> for Const<N> {}

/// The shape rules of plain model types: typenet's tables ([`Window`], [`FlatDims`]) for `Const`
/// sizes and run-time arithmetic for `usize` sizes.
///
/// A model declared with [`#[network]`](crate::network) uses its own rule set instead, a marker
/// type the macro defines next to the model with exactly the rules that model needs, for any size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tables;

/// The output height and width of a conv/pool window over an `H`×`W` input: the rule a rule set
/// (`Self`: [`Tables`], or the marker `#[network]` generates) gives for the window
/// `(KERNEL, STRIDE, PADDING)` with its taps `DILATION` apart (1 unless named; only
/// [`Conv2D`](super::Conv2D) dilates). `out = (in + 2·PADDING − DILATION·(KERNEL − 1) − 1) /
/// STRIDE + 1` on each axis. [`Tables`] knows dilation 1 only.
///
/// ```
/// # use typenet::prelude::*;
/// use typenet::nn::shape::{PlaneRule, Tables};
/// // LeNet's first conv through the tables: (28 + 4 - 5) / 1 + 1 = 28.
/// let _: <Tables as PlaneRule<Const<28>, Const<28>, 5, 1, 2>>::OutH = Const::<28>;
///
/// // AlexNet's first conv, kernel 11 (outside the tables), in a `#[network]` model's rule set:
/// // (224 + 4 - 11) / 4 + 1 = 55.
/// #[typenet::network([3, 224, 224])]
/// type Alex = (Conv2D<3, 64, 11, 4, 2>, ReLU);
/// let _: <__AlexShapes as PlaneRule<Const<224>, Const<224>, 11, 4, 2>>::OutW = Const::<55>;
/// ```
#[diagnostic::on_unimplemented(
    message = "no conv/pool output size in `{Self}` for a `{H}` x `{W}` input with kernel {KERNEL}, stride {STRIDE}, padding {PADDING}",
    label = "this input is not the one the model was declared for",
    note = "a model declared with #[typenet::network([C, H, W])] knows the sizes of that input only"
)]
pub trait PlaneRule<
    H: Dim,
    W: Dim,
    const KERNEL: usize,
    const STRIDE: usize,
    const PADDING: usize,
    const DILATION: usize = 1,
>
{
    /// The output height.
    type OutH: Dim;
    /// The output width.
    type OutW: Dim;
}

impl<H, W, const K: usize, const S: usize, const P: usize, const DL: usize>
    PlaneRule<H, W, K, S, P, DL> for Tables
where
    H: Window<K, S, P>,
    W: Window<K, S, P>,
    H: TableDilation<DL>,
{
    type OutH = H::Out;
    type OutW = W::Out;
}

/// The dilations typenet's tables ([`Tables`]) cover, on the input size `Self`: 1 only. A
/// dilated [`Conv2D`](super::Conv2D) in a plain model type fails here;
/// [`#[network]`](crate::network) computes its sizes.
#[diagnostic::on_unimplemented(
    message = "a `Conv2D` with dilation {DILATION} has no output size in typenet's tables (dilation 1 only)",
    label = "dilated convolution in a model without #[network]",
    note = "declare the model with #[typenet::network([C, H, W])]: it computes the sizes of any dilation"
)]
pub trait TableDilation<const DILATION: usize>: Dim {}
impl<H: Dim> TableDilation<1> for H {}

/// The flattened size `C·H·W` of a `(C, H, W)` map: the rule a rule set (`Self`: [`Tables`], or
/// the marker `#[network]` generates) gives.
#[diagnostic::on_unimplemented(
    message = "no flatten size in `{Self}` for a `{C}` x `{H}` x `{W}` map",
    label = "this input is not the one the model was declared for",
    note = "a model declared with #[typenet::network([C, H, W])] knows the sizes of that input only"
)]
pub trait FlatRule<C: Dim, H: Dim, W: Dim> {
    /// `C·H·W`.
    type Out: Dim;
}

impl<C: FlatDims<H, W>, H: Dim, W: Dim> FlatRule<C, H, W> for Tables {
    type Out = C::Out;
}

include!(concat!(env!("OUT_DIR"), "/shape_table.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    fn out<const K: usize, const S: usize, const P: usize, H: Window<K, S, P>>(h: H) -> usize
    where
        H::Out: Dim,
    {
        h.window_out().map(|o| o.size()).unwrap_or(0)
    }

    #[test]
    fn tables_agree_with_the_formula() {
        assert_eq!(out::<5, 1, 2, _>(Const::<28>), 28);
        assert_eq!(out::<3, 2, 1, _>(Const::<224>), 112);
        assert_eq!(out::<7, 2, 3, _>(Const::<224>), 112);
        assert_eq!(out::<2, 2, 0, _>(Const::<13>), 6);
        assert_eq!(out::<1, 1, 0, _>(Const::<1>), 1);
        assert_eq!(out::<3, 1, 3, _>(Const::<256>), 260);
        assert_eq!(window_size(13, 2, 2, 0), Some(6));
        assert_eq!(window_size(2, 5, 1, 1), None);
        assert_eq!(window_size(5, 3, 0, 0), None);
    }

    #[test]
    fn flatten_table_multiplies() {
        assert_eq!(<Const<16> as FlatDims<Const<5>, Const<5>>>::Out::SIZE, 400);
        assert_eq!(
            <Const<512> as FlatDims<Const<7>, Const<7>>>::Out::SIZE,
            25_088
        );
        assert_eq!(
            <Const<3> as FlatDims<Const<32>, Const<32>>>::Out::SIZE,
            3_072
        );
        assert_eq!(Const::<4>.flat_out(3usize, Const::<2>), 24);
    }
}
