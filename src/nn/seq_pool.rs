//! Sequence pooling: one vector per sequence from a sequence of vectors, `(B, S, M) → (B, M)`:
//! the mean ([`SeqMean`]), the maximum ([`SeqMax`]), the last step ([`SeqLast`]) or the first
//! ([`SeqFirst`], a classification token's position).
//!
//! These see every position, padding included; the mean of a sequence's tokens with padding
//! left out is [`EmbeddingBag`](crate::nn::EmbeddingBag), which still has the ids.

use super::device::{LayerKernels, SizeError};
use super::summary::Summarize;
use super::Params;
use dfdx::prelude::*;

/// The mean over the sequence: `(B, S, M) → (B, M)`.
///
/// ```
/// # use typenet::prelude::*;
/// let dev = Cpu::default();
/// let x = dev.tensor([[[1.0f32, 2.0], [3.0, 6.0]]]);
/// assert_eq!(SeqMean.forward(x.clone()).array(), [[2.0, 4.0]]);
/// assert_eq!(SeqMax.forward(x.clone()).array(), [[3.0, 6.0]]);
/// assert_eq!(SeqFirst.forward(x.clone()).array(), [[1.0, 2.0]]);
/// assert_eq!(SeqLast.forward(x).array(), [[3.0, 6.0]]);
/// ```
///
/// **Keras equivalent**: `GlobalAveragePooling1D()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqMean;

/// The maximum over the sequence, per feature: `(B, S, M) → (B, M)`. Ties share the gradient
/// (dfdx's rule).
///
/// **Keras equivalent**: `GlobalMaxPooling1D()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqMax;

/// The last step of the sequence: `(B, S, M) → (B, M)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqLast;

/// The first step of the sequence: `(B, S, M) → (B, M)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqFirst;

/// An error unless the sequence has at least one step.
fn non_empty(s: usize) -> Result<(), SizeError> {
    if s == 0 {
        return Err(SizeError::Elements {
            op: "sequence pooling",
            tensor: "input sequence",
            expected: 1,
            found: 0,
        });
    }
    Ok(())
}

macro_rules! seq_pool {
    ($name:ident, |$x:ident, $b:ident, $s:ident| $body:expr) => {
        impl ZeroSizedModule for $name {}
        impl NonMutableModule for $name {}

        impl<B: Dim, S: Dim, const M: usize, E: Dtype, D: LayerKernels<E>, T: Tape<E, D>>
            Module<Tensor<(B, S, Const<M>), E, D, T>> for $name
        {
            type Output = Tensor<(B, Const<M>), E, D, T>;
            type Error = D::Err;

            fn try_forward(
                &self,
                $x: Tensor<(B, S, Const<M>), E, D, T>,
            ) -> Result<Self::Output, D::Err> {
                let ($b, $s, _) = *$x.shape();
                non_empty($s.size())?;
                $body
            }
        }

        impl Params for $name {
            const PARAMS: usize = 0;
        }

        impl<S: ConstDim, const M: usize> Summarize<(S, Const<M>)> for $name {
            type Output = (Const<M>,);
        }
    };
}

seq_pool!(SeqMean, |x, _b, _s| x.try_mean::<(B, Const<M>), Axis<1>>());
seq_pool!(SeqMax, |x, _b, _s| x.try_max::<(B, Const<M>), Axis<1>>());
seq_pool!(SeqLast, |x, b, s| {
    let n = s.size();
    x.try_slice((.., n - 1..n, ..))?
        .try_reshape_like(&(b, Const::<M>))
});
seq_pool!(SeqFirst, |x, b, _s| x
    .try_slice((.., 0..1, ..))?
    .try_reshape_like(&(b, Const::<M>)));
