//! Batch shapes: a sample's compile-time shape with a runtime batch dimension in front.

use dfdx::prelude::*;

/// A sample shape known at compile time that can be stacked into a batch.
///
/// The batch dimension is a runtime `usize`, so the last batch of an epoch may be smaller than
/// the others (as in Keras) while every other dimension stays checked by the compiler:
/// `Rank1<784>` batches as `(usize, Const<784>)`, `Rank3<1, 28, 28>` as
/// `(usize, Const<1>, Const<28>, Const<28>)`.
pub trait BatchShape: ConstShape {
    /// The shape of a batch of these samples.
    type Batched: Shape;
    /// The batch shape for `n` samples.
    fn batched(n: usize) -> Self::Batched;
}

impl<const A: usize> BatchShape for (Const<A>,) {
    type Batched = (usize, Const<A>);
    fn batched(n: usize) -> Self::Batched {
        (n, Const)
    }
}

impl<const A: usize, const B: usize> BatchShape for (Const<A>, Const<B>) {
    type Batched = (usize, Const<A>, Const<B>);
    fn batched(n: usize) -> Self::Batched {
        (n, Const, Const)
    }
}

impl<const A: usize, const B: usize, const C: usize> BatchShape for (Const<A>, Const<B>, Const<C>) {
    type Batched = (usize, Const<A>, Const<B>, Const<C>);
    fn batched(n: usize) -> Self::Batched {
        (n, Const, Const, Const)
    }
}

/// A channel-major image shape `C × H × W` (`Rank3<C, H, W>`), for per-channel normalisation and
/// image augmentation.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an image shape",
    note = "image transforms take samples of shape `Rank3<CHANNELS, HEIGHT, WIDTH>`"
)]
pub trait ImageShape: BatchShape {
    /// Channels (`C`).
    const CHANNELS: usize;
    /// Rows (`H`).
    const HEIGHT: usize;
    /// Columns (`W`).
    const WIDTH: usize;
}

impl<const C: usize, const H: usize, const W: usize> ImageShape for (Const<C>, Const<H>, Const<W>) {
    const CHANNELS: usize = C;
    const HEIGHT: usize = H;
    const WIDTH: usize = W;
}

/// The other direction of [`BatchShape`]: the sample shape of a batch shape,
/// `(usize, Const<N>)` → `Rank1<N>`, `(usize, Const<C>, Const<H>, Const<W>)` → `Rank3<C, H, W>`.
pub trait SampleOf: Shape {
    /// The shape of one sample.
    type Sample: BatchShape<Batched = Self>;
}

impl<const A: usize> SampleOf for (usize, Const<A>) {
    type Sample = (Const<A>,);
}

impl<const A: usize, const B: usize> SampleOf for (usize, Const<A>, Const<B>) {
    type Sample = (Const<A>, Const<B>);
}

impl<const A: usize, const B: usize, const C: usize> SampleOf
    for (usize, Const<A>, Const<B>, Const<C>)
{
    type Sample = (Const<A>, Const<B>, Const<C>);
}
