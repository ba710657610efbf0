//! Token ids as a dimension: the vocabulary size in the type, and the padding id.

use dfdx::prelude::*;

/// The padding id: what fills a sequence after (or before) its tokens.
pub const PAD: u32 = 0;
/// The last dimension of a batch of token ids: one id per position, and the vocabulary size `V`
/// in the type.
///
/// Its size is 1 (a sample of [`Tokens<L, V>`](crate::data::Tokens) holds `L` values); `V` is what an
/// [`Embedding<V, M>`](crate::nn::Embedding) checks at compile time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vocab<const V: usize>;

impl<const V: usize> Dim for Vocab<V> {
    #[inline(always)]
    fn size(&self) -> usize {
        1
    }
    #[inline(always)]
    fn from_size(size: usize) -> Option<Self> {
        (size == 1).then_some(Vocab)
    }
}

impl<const V: usize> ConstDim for Vocab<V> {
    const SIZE: usize = 1;
}
