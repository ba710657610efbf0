//! Token embeddings: [`Embedding`] (ids to rows of a table), [`EmbeddingBag`] (the mean row of
//! a sequence's tokens, padding left out) and [`PositionalEmbedding`] (a learned row added per
//! position).
//!
//! Ids arrive as the `f32` (or `f64`) values of a batch of [`Tokens<L, V>`](crate::data::Tokens),
//! shape `(B, S, Vocab<V>)`: the vocabulary size `V` is in the type, so an embedding of another
//! vocabulary is a compile error. An id that is not an integer in `0..V` (only possible for a
//! tensor built by hand: [`TokenSet`](crate::data::TokenSet) checks its ids) is a
//! [`TokenIdError`], reported as the device's error.

use super::summary::Summarize;
use super::Params;
use crate::dims::{Vocab, PAD};
use dfdx::prelude::*;
use dfdx::tensor::CpuError;
use num_traits::Float;
use rand_distr::{Distribution, Normal, StandardNormal};

/// The builder types (what model type aliases name).
pub mod builder {
    /// Token ids to vectors: id `k` becomes row `k` of a `V × M` table; `(B, S, Vocab<V>)` ids
    /// become `(B, S, M)`.
    ///
    /// The table starts standard normal, as PyTorch's. It takes the ids of a
    /// [`TokenSet`](crate::data::TokenSet) straight from `fit`:
    ///
    /// ```
    /// # use typenet::prelude::*;
    /// let dev = Cpu::seed_from_u64(0);
    /// let m = dev.build_module::<(Embedding<10, 4>, Gru<4, 8>, Linear<8, 2>), f32>();
    /// let ids = dev.tensor_from_vec(vec![1.0f32, 2.0, 3.0, 9.0, 0.0, 0.0], (2, Const::<3>, Vocab::<10>));
    /// let logits: Tensor<(usize, Const<2>), f32, _> = m.forward(ids);
    /// ```
    /// A vocabulary that differs from the data's does not compile:
    /// ```compile_fail
    /// # use typenet::prelude::*;
    /// let dev = Cpu::default();
    /// let m = dev.build_module::<Embedding<12, 4>, f32>();
    /// let ids = dev.zeros_like(&(2, Const::<3>, Vocab::<10>));
    /// let _ = m.forward(ids);
    /// ```
    ///
    /// **PyTorch equivalent**: `nn.Embedding(V, M)`. **Keras equivalent**: `Embedding(V, M)`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Embedding<const V: usize, const M: usize>;

    /// The mean of a sequence's token vectors, padding ([`PAD`](crate::data::PAD), id 0) left
    /// out of the mean: `(B, S, Vocab<V>)` ids become `(B, M)`; a sequence of padding alone
    /// gives zeros. A bag-of-tokens model in one layer.
    ///
    /// **PyTorch equivalent**: `nn.EmbeddingBag(V, M, mode="mean", padding_idx=0)`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct EmbeddingBag<const V: usize, const M: usize>;

    /// A learned vector per position added to a sequence of `L` vectors of width `M`:
    /// `(B, L, M) → (B, L, M)`. It fixes the sequence length, so data of another length does
    /// not compile. The table starts normal with standard deviation 0.02.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct PositionalEmbedding<const L: usize, const M: usize>;
}

/// A token id in a batch that is not an integer below the vocabulary size.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("token id {value} at row {row}, position {position} is not an integer in 0..{vocabulary}")]
pub struct TokenIdError {
    /// The row of the batch.
    pub row: usize,
    /// The position in the sequence.
    pub position: usize,
    /// The value found.
    pub value: f64,
    /// The vocabulary size.
    pub vocabulary: usize,
}

/// The CPU reports a bad id as `WrongNumElements`, its only error for bad input.
impl From<TokenIdError> for CpuError {
    fn from(_: TokenIdError) -> Self {
        CpuError::WrongNumElements
    }
}

#[cfg(feature = "cuda")]
impl From<TokenIdError> for dfdx::tensor::CudaError {
    fn from(e: TokenIdError) -> Self {
        dfdx::tensor::CudaError::Cpu(e.into())
    }
}

/// The last axis of a batch of token ids with vocabulary `V`: only [`Vocab<V>`].
#[diagnostic::on_unimplemented(
    message = "an embedding of vocabulary {V} cannot take token ids of `{Self}`",
    label = "vocabulary mismatch",
    note = "token data of `Tokens<L, N>` batches as `(usize, Const<L>, Vocab<N>)`: the embedding's first parameter must be N"
)]
pub trait TokenIds<const V: usize>: Dim {}

impl<const V: usize> TokenIds<V> for Vocab<V> {}

/// The sequence axis of an input to a layer with `L` positions: only `Const<L>`.
#[diagnostic::on_unimplemented(
    message = "a layer for sequences of {L} tokens cannot take sequences of `{Self}`",
    label = "sequence length mismatch",
    note = "token data of `Tokens<N, V>` has sequences of N tokens: the layer's length parameter must be N"
)]
pub trait Positions<const L: usize>: Dim {}

impl<const L: usize> Positions<L> for Const<L> {}

/// The ids of a `(rows, positions)` batch as indices, each checked to be an integer in `0..v`.
fn indices<E: Dtype>(values: &[E], positions: usize, v: usize) -> Result<Vec<usize>, TokenIdError> {
    values
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let f = x.to_f64().unwrap_or(f64::NAN);
            if f >= 0.0 && f < v as f64 && f.fract() == 0.0 {
                Ok(f as usize)
            } else {
                Err(TokenIdError {
                    row: i / positions.max(1),
                    position: i % positions.max(1),
                    value: f,
                    vocabulary: v,
                })
            }
        })
        .collect()
}

/// A built [`builder::Embedding`].
#[derive(Debug, Clone)]
pub struct Embedding<const V: usize, const M: usize, E: Dtype, D: Storage<E>> {
    /// The table, one row per id: shape `(V, M)` (PyTorch's `weight`).
    pub weight: Tensor<Rank2<V, M>, E, D>,
}

/// A built [`builder::EmbeddingBag`].
#[derive(Debug, Clone)]
pub struct EmbeddingBag<const V: usize, const M: usize, E: Dtype, D: Storage<E>> {
    /// The table, one row per id: shape `(V, M)` (PyTorch's `weight`).
    pub weight: Tensor<Rank2<V, M>, E, D>,
}

/// A built [`builder::PositionalEmbedding`].
#[derive(Debug, Clone)]
pub struct PositionalEmbedding<const L: usize, const M: usize, E: Dtype, D: Storage<E>> {
    /// One row per position: shape `(L, M)`.
    pub weight: Tensor<Rank2<L, M>, E, D>,
}

macro_rules! table_layer {
    ($builder:ident, $built:ident, $a:ident, $fill:expr) => {
        impl<const $a: usize, const M: usize, E: Dtype, D: Device<E>> BuildOnDevice<D, E>
            for builder::$builder<$a, M>
        where
            $built<$a, M, E, D>: BuildModule<D, E>,
        {
            type Built = $built<$a, M, E, D>;
            fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
                Self::Built::try_build(device)
            }
        }

        impl<const $a: usize, const M: usize, E, D> TensorCollection<E, D> for $built<$a, M, E, D>
        where
            E: Dtype + Float,
            D: Device<E>,
            StandardNormal: Distribution<E>,
        {
            type To<E2: Dtype, D2: Device<E2>> = $built<$a, M, E2, D2>;

            fn iter_tensors<W: ModuleVisitor<Self, E, D>>(
                visitor: &mut W,
            ) -> Result<Option<Self::To<W::E2, W::D2>>, W::Err> {
                visitor.visit_fields(
                    Self::tensor(
                        "weight",
                        |s| &s.weight,
                        |s| &mut s.weight,
                        TensorOptions::reset_with($fill),
                    ),
                    |weight| $built { weight },
                )
            }
        }

        impl<const $a: usize, const M: usize, E: Dtype, D: Storage<E>> NonMutableModule
            for $built<$a, M, E, D>
        {
        }

        impl<const $a: usize, const M: usize> Params for builder::$builder<$a, M> {
            const PARAMS: usize = $a * M;
        }
    };
}

table_layer!(Embedding, Embedding, V, |t| t
    .try_fill_with_distr(StandardNormal));
table_layer!(EmbeddingBag, EmbeddingBag, V, |t| t
    .try_fill_with_distr(StandardNormal));
table_layer!(PositionalEmbedding, PositionalEmbedding, L, |t| {
    let std = E::from_f64(0.02).unwrap_or_else(E::one);
    match Normal::new(E::zero(), std) {
        Ok(d) => t.try_fill_with_distr(d),
        Err(_) => t.try_fill_with_distr(StandardNormal),
    }
});

impl<const V: usize, const M: usize, B, S, X, E, D, T> Module<Tensor<(B, S, X), E, D, T>>
    for Embedding<V, M, E, D>
where
    B: Dim,
    S: Dim,
    X: TokenIds<V>,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<TokenIdError>>,
    T: Tape<E, D>,
{
    type Output = Tensor<(B, S, Const<M>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, S, X), E, D, T>) -> Result<Self::Output, D::Err> {
        let (b, s, _) = *x.shape();
        let (x, tape) = x.split_tape();
        let ids = indices(&x.as_vec(), s.size(), V)?;
        let idx = x.device().try_tensor_from_vec(ids, (b, s))?;
        self.weight.clone().put_tape(tape).try_gather(idx)
    }
}

impl<const V: usize, const M: usize, B, S, X, E, D, T> Module<Tensor<(B, S, X), E, D, T>>
    for EmbeddingBag<V, M, E, D>
where
    B: Dim,
    S: Dim,
    X: TokenIds<V>,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<TokenIdError>>,
    T: Tape<E, D>,
{
    type Output = Tensor<(B, Const<M>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, S, X), E, D, T>) -> Result<Self::Output, D::Err> {
        let (b, s, _) = *x.shape();
        let (x, tape) = x.split_tape();
        let ids = indices(&x.as_vec(), s.size(), V)?;
        // each token's share of its row's mean: 1/count, 0 for padding
        let mut share = Vec::with_capacity(ids.len());
        for row in ids.chunks(s.size().max(1)) {
            let n = row.iter().filter(|&&id| id != PAD as usize).count();
            let w = if n == 0 { 0.0 } else { 1.0 / n as f64 };
            share.extend(row.iter().map(|&id| {
                let v = if id == PAD as usize { 0.0 } else { w };
                E::from_f64(v).unwrap_or_default()
            }));
        }
        let dev = x.device().clone();
        let idx = dev.try_tensor_from_vec(ids, (b, s))?;
        let share = dev.try_tensor_from_vec(share, (b, s))?;
        let rows = self.weight.clone().put_tape(tape).try_gather(idx)?;
        rows.try_mul(share.try_broadcast_like(&(b, s, Const::<M>))?)?
            .try_sum::<(B, Const<M>), Axis<1>>()
    }
}

impl<const L: usize, const M: usize, B, S, E, D, T> Module<Tensor<(B, S, Const<M>), E, D, T>>
    for PositionalEmbedding<L, M, E, D>
where
    B: Dim,
    S: Positions<L>,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<(B, S, Const<M>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, S, Const<M>), E, D, T>) -> Result<Self::Output, D::Err> {
        let shape = *x.shape();
        let (b, s, _) = shape;
        let pos = self
            .weight
            .retaped::<T>()
            .try_reshape_like(&(s, Const::<M>))?
            .try_broadcast_like(&(b, s, Const::<M>))?;
        x.try_add(pos)
    }
}

/// `S` ids become `S` vectors of `M` (a lookup: no multiply-adds).
impl<const V: usize, const M: usize, S: ConstDim> Summarize<(S, Vocab<V>)>
    for builder::Embedding<V, M>
{
    type Output = (S, Const<M>);
}

/// `S` ids become their mean vector: `S·M` additions, no multiply-adds.
impl<const V: usize, const M: usize, S: ConstDim> Summarize<(S, Vocab<V>)>
    for builder::EmbeddingBag<V, M>
{
    type Output = (Const<M>,);
}

impl<const L: usize, const M: usize> Summarize<(Const<L>, Const<M>)>
    for builder::PositionalEmbedding<L, M>
{
    type Output = (Const<L>, Const<M>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_rows_and_rejects_ids_outside_the_vocabulary() {
        let dev = Cpu::default();
        let mut m = dev.build_module::<builder::Embedding<3, 2>, f32>();
        m.weight = dev.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]);
        let ids = dev.tensor_from_vec(vec![2.0f32, 0.0], (1, Const::<2>, Vocab::<3>));
        assert_eq!(m.forward(ids).as_vec(), [4.0, 5.0, 0.0, 1.0]);
        for bad in [3.0f32, -1.0, 0.5, f32::NAN] {
            let ids = dev.tensor_from_vec(vec![0.0f32, bad], (1, Const::<2>, Vocab::<3>));
            assert!(m.try_forward(ids).is_err(), "{bad}");
        }
        let err = indices(&[0.0f32, 1.0, 7.0], 2, 3).unwrap_err();
        assert_eq!((err.row, err.position, err.value), (1, 0, 7.0));
    }

    #[test]
    fn bag_means_the_tokens_and_leaves_padding_out() {
        let dev = Cpu::default();
        let mut m = dev.build_module::<builder::EmbeddingBag<3, 2>, f32>();
        m.weight = dev.tensor([[100.0, 100.0], [2.0, 4.0], [4.0, 8.0]]);
        // rows: [1, 2, pad] → mean of rows 1 and 2; [pad, pad, pad] → zeros
        let ids = dev.tensor_from_vec(
            vec![1.0f32, 2.0, 0.0, 0.0, 0.0, 0.0],
            (2, Const::<3>, Vocab::<3>),
        );
        assert_eq!(m.forward(ids).as_vec(), [3.0, 6.0, 0.0, 0.0]);
    }
}
