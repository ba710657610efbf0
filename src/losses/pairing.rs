//! How a loss pairs a model's output with its targets, written so that a mismatch is a one-line
//! error naming both sizes.
//!
//! Each [`Loss`](super::Loss) impl takes *any* output shape and asks it, in a where clause, to fit
//! the target kind ([`ClassScores`], [`ValueTargets`]). The compiler then reads the output shape off
//! the model instead of guessing it from the loss, and a model whose last layer has 9 outputs for
//! `Classes<10>` fails on the size traits below ([`ClassCount`], [`ValueCount`], …), whose messages
//! name the two sizes: "the model outputs 9 values per sample but the targets are `Classes<10>`".
//! The size traits are implemented only where the sizes agree; their one method is the identity.

use crate::data::{Classes, Target, ValueImages, ValueSequences, Values};
use dfdx::prelude::*;

/// `K` model outputs per sample against [`Classes<N>`] targets: implemented only where `K == N`.
#[diagnostic::on_unimplemented(
    message = "the model outputs {K} values per sample but the targets are `Classes<{N}>`",
    label = "the model's output width is not the data set's class count",
    note = "a class-index loss needs one score per class: give the last layer {N} outputs, or targets of `Classes<{K}>`"
)]
pub trait ClassCount<const K: usize, const N: usize> {
    /// The output unchanged, its width read as `N`.
    fn scores<E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        output: Tensor<(usize, Const<K>), E, D, Tp>,
    ) -> Tensor<(usize, Const<N>), E, D, Tp>;
}

impl<const N: usize> ClassCount<N, N> for Classes<N> {
    fn scores<E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        output: Tensor<(usize, Const<N>), E, D, Tp>,
    ) -> Tensor<(usize, Const<N>), E, D, Tp> {
        output
    }
}

/// `K` model outputs per sample against [`Values<N>`] targets: implemented only where `K == N`.
#[diagnostic::on_unimplemented(
    message = "the model outputs {K} values per sample but the targets are `Values<{N}>`",
    label = "the model's output width is not the targets' width",
    note = "a loss on real values compares each output with its target: give the last layer {N} outputs, or targets of `Values<{K}>`"
)]
pub trait ValueCount<const K: usize, const N: usize> {
    /// The targets unchanged, their width read as `K`.
    fn targets<E: Dtype, D: Device<E>>(
        targets: &Tensor<(usize, Const<N>), E, D>,
    ) -> &Tensor<(usize, Const<K>), E, D>;
    /// The output unchanged, its width read as `N`.
    fn scores<E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        output: Tensor<(usize, Const<K>), E, D, Tp>,
    ) -> Tensor<(usize, Const<N>), E, D, Tp>;
}

impl<const N: usize> ValueCount<N, N> for Values<N> {
    fn targets<E: Dtype, D: Device<E>>(
        targets: &Tensor<(usize, Const<N>), E, D>,
    ) -> &Tensor<(usize, Const<N>), E, D> {
        targets
    }
    fn scores<E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        output: Tensor<(usize, Const<N>), E, D, Tp>,
    ) -> Tensor<(usize, Const<N>), E, D, Tp> {
        output
    }
}

/// Model outputs of `S` steps × `N` values against [`ValueSequences<S2, N2>`] targets:
/// implemented only where both sizes agree.
#[diagnostic::on_unimplemented(
    message = "the model outputs sequences of {S}×{N} values but the targets are `ValueSequences<{S2}, {N2}>`",
    label = "the model's output sequence is not shaped like the targets",
    note = "a loss on real values compares each output with its target: the model must output (batch, {S2}, {N2})"
)]
pub trait SequenceSize<const S: usize, const N: usize, const S2: usize, const N2: usize> {
    /// The targets unchanged, their shape read as the output's.
    fn targets<E: Dtype, D: Device<E>>(
        targets: &Tensor<(usize, Const<S2>, Const<N2>), E, D>,
    ) -> &Tensor<(usize, Const<S>, Const<N>), E, D>;
}

impl<const S: usize, const N: usize> SequenceSize<S, N, S, N> for ValueSequences<S, N> {
    fn targets<E: Dtype, D: Device<E>>(
        targets: &Tensor<(usize, Const<S>, Const<N>), E, D>,
    ) -> &Tensor<(usize, Const<S>, Const<N>), E, D> {
        targets
    }
}

/// Model outputs of `C`×`H`×`W` against [`ValueImages<C2, H2, W2>`] targets: implemented only
/// where all three sizes agree.
#[diagnostic::on_unimplemented(
    message = "the model outputs {C}×{H}×{W} images but the targets are `ValueImages<{C2}, {H2}, {W2}>`",
    label = "the model's output image is not shaped like the targets",
    note = "a loss on real values compares each output with its target: the model must output (batch, {C2}, {H2}, {W2}); a conv without padding shrinks each side by kernel − 1"
)]
pub trait ImageSize<
    const C: usize,
    const H: usize,
    const W: usize,
    const C2: usize,
    const H2: usize,
    const W2: usize,
>
{
    /// The targets unchanged, their shape read as the output's.
    fn targets<E: Dtype, D: Device<E>>(
        targets: &Tensor<(usize, Const<C2>, Const<H2>, Const<W2>), E, D>,
    ) -> &Tensor<(usize, Const<C>, Const<H>, Const<W>), E, D>;
}

impl<const C: usize, const H: usize, const W: usize> ImageSize<C, H, W, C, H, W>
    for ValueImages<C, H, W>
{
    fn targets<E: Dtype, D: Device<E>>(
        targets: &Tensor<(usize, Const<C>, Const<H>, Const<W>), E, D>,
    ) -> &Tensor<(usize, Const<C>, Const<H>, Const<W>), E, D> {
        targets
    }
}

/// A model output that a class-index loss over `N` classes can score: `(batch, Const<K>)` with
/// `K == N` (checked by [`ClassCount`]).
#[diagnostic::on_unimplemented(
    message = "the model outputs batches of shape `{Self}`, but `Classes<{N}>` targets need {N} scores per sample",
    label = "a class-index loss needs a flat output of one score per class",
    note = "end the model in `Linear<_, {N}>` (after `Flatten2D` or a pooling layer for images)"
)]
pub trait ClassScores<const N: usize>: Shape {
    /// The output unchanged, its shape read as `(batch, N)`.
    fn scores<E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        output: Tensor<Self, E, D, Tp>,
    ) -> Tensor<(usize, Const<N>), E, D, Tp>;
}

impl<const K: usize, const N: usize> ClassScores<N> for (usize, Const<K>)
where
    Classes<N>: ClassCount<K, N>,
{
    fn scores<E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        output: Tensor<Self, E, D, Tp>,
    ) -> Tensor<(usize, Const<N>), E, D, Tp> {
        <Classes<N> as ClassCount<K, N>>::scores(output)
    }
}

/// A model output that a loss on target distributions ([`Values<N>`], one-hot or soft labels)
/// can score: `(batch, Const<K>)` with `K == N` (checked by [`ValueCount`]).
#[diagnostic::on_unimplemented(
    message = "the model outputs batches of shape `{Self}`, but `Values<{N}>` distributions need {N} scores per sample",
    label = "a loss on class distributions needs a flat output of one score per class",
    note = "end the model in `Linear<_, {N}>` (after `Flatten2D` or a pooling layer for images)"
)]
pub trait DistributionScores<const N: usize>: Shape {
    /// The output unchanged, its shape read as `(batch, N)`.
    fn scores<E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        output: Tensor<Self, E, D, Tp>,
    ) -> Tensor<(usize, Const<N>), E, D, Tp>;
}

impl<const K: usize, const N: usize> DistributionScores<N> for (usize, Const<K>)
where
    Values<N>: ValueCount<K, N>,
{
    fn scores<E: Dtype, D: Device<E>, Tp: Tape<E, D>>(
        output: Tensor<Self, E, D, Tp>,
    ) -> Tensor<(usize, Const<N>), E, D, Tp> {
        <Values<N> as ValueCount<K, N>>::scores(output)
    }
}

/// A model output shaped like the real-valued targets `T` (a batch of [`Values`],
/// [`ValueSequences`] or [`ValueImages`]), checked size by size.
#[diagnostic::on_unimplemented(
    message = "the model outputs batches of shape `{Self}`, which the targets `{T}` do not fit",
    label = "a loss on real values needs an output shaped like its targets",
    note = "`Values<N>` fits (batch, N) outputs, `ValueSequences<S, N>` fits (batch, S, N) and `ValueImages<C, H, W>` fits (batch, C, H, W)"
)]
pub trait ValueTargets<T: Target>: Shape {
    /// The batch of targets unchanged, its shape read as the output's.
    fn targets<E: Dtype, D: Device<E>>(targets: &T::Batch<E, D>) -> &Tensor<Self, E, D>;
}

impl<const K: usize, const N: usize> ValueTargets<Values<N>> for (usize, Const<K>)
where
    Values<N>: ValueCount<K, N>,
{
    fn targets<E: Dtype, D: Device<E>>(
        targets: &Tensor<(usize, Const<N>), E, D>,
    ) -> &Tensor<Self, E, D> {
        <Values<N> as ValueCount<K, N>>::targets(targets)
    }
}

impl<const S: usize, const N: usize, const S2: usize, const N2: usize>
    ValueTargets<ValueSequences<S2, N2>> for (usize, Const<S>, Const<N>)
where
    ValueSequences<S2, N2>: SequenceSize<S, N, S2, N2>,
{
    fn targets<E: Dtype, D: Device<E>>(
        targets: &Tensor<(usize, Const<S2>, Const<N2>), E, D>,
    ) -> &Tensor<Self, E, D> {
        <ValueSequences<S2, N2> as SequenceSize<S, N, S2, N2>>::targets(targets)
    }
}

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const C2: usize,
        const H2: usize,
        const W2: usize,
    > ValueTargets<ValueImages<C2, H2, W2>> for (usize, Const<C>, Const<H>, Const<W>)
where
    ValueImages<C2, H2, W2>: ImageSize<C, H, W, C2, H2, W2>,
{
    fn targets<E: Dtype, D: Device<E>>(
        targets: &Tensor<(usize, Const<C2>, Const<H2>, Const<W2>), E, D>,
    ) -> &Tensor<Self, E, D> {
        <ValueImages<C2, H2, W2> as ImageSize<C, H, W, C2, H2, W2>>::targets(targets)
    }
}
