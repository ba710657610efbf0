//! Compile-time facts ([`Params`], [`Summarize`]) for dfdx's layers that take or give several
//! tensors at once — [`AddInto`], [`SplitInto`], the transformer's decoder — and for its
//! transformer blocks, with [`Shapes`], the sample shape of several tensors side by side.

use super::summary::LayerRow;
use super::{Params, Summarize};
use crate::dims::ShapeList;
use dfdx::nn::builders::{
    AddInto, SplitInto, Transformer, TransformerDecoder, TransformerDecoderBlock,
    TransformerEncoder, TransformerEncoderBlock,
};
use dfdx::prelude::{
    Axis, Const, ConstDim, ConstShape, HasAxes, ReduceShape, ReduceShapeTo, Shape,
};
use std::fmt;
use std::marker::PhantomData;

/// The sample shapes of several tensors passed together, for [`Summarize`]: what
/// [`SplitInto`] outputs, and what [`AddInto`] and the transformer's decoder take (a tuple of
/// tensors, one per shape in `T`).
///
/// ```
/// # use typenet::prelude::*;
/// type Heads = SplitInto<(Linear<8, 2>, Linear<8, 3>)>;
/// type Out = <Heads as Summarize<Rank1<8>>>::Output;
/// // two outputs of 2 and 3 values
/// const _: () = assert!(<Out as ConstShape>::NUMEL == 5);
/// type Both = AddInto<(Linear<2, 4>, Linear<3, 4>)>;
/// assert_eq!(<Both as Summarize<Shapes<(Rank1<2>, Rank1<3>)>>>::MACS, 2 * 4 + 3 * 4);
/// ```
///
/// It is a dfdx [`Shape`] of no dimension (so it can stand where one sample shape is expected);
/// [`ConstShape::NUMEL`] counts the values of all its tensors, and [`ShapeList::dims`] lists
/// their dimensions.
pub struct Shapes<T>(PhantomData<fn() -> T>);

impl<T> Clone for Shapes<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Shapes<T> {}
impl<T> Default for Shapes<T> {
    fn default() -> Self {
        Shapes(PhantomData)
    }
}
impl<T> PartialEq for Shapes<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<T> Eq for Shapes<T> {}
impl<T: ShapeList> fmt::Debug for Shapes<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Shapes{:?}", T::dims())
    }
}
impl<T: ShapeList> HasAxes<Axis<0>> for Shapes<T> {
    fn size(&self) -> usize {
        1
    }
}
impl<T: ShapeList> ReduceShapeTo<(), Axis<0>> for Shapes<T> {}
impl<T: ShapeList> ReduceShape<Axis<0>> for Shapes<T> {
    type Reduced = ();
}
impl<T: ShapeList> Shape for Shapes<T> {
    const NUM_DIMS: usize = 0;
    type Concrete = [usize; 0];
    type AllAxes = Axis<0>;
    type LastAxis = Axis<0>;
    fn concrete(&self) -> [usize; 0] {
        []
    }
    fn strides(&self) -> [usize; 0] {
        []
    }
    fn from_concrete(_: &[usize; 0]) -> Option<Self> {
        Some(Self::default())
    }
}
impl<T: ShapeList> ConstShape for Shapes<T> {
    const NUMEL: usize = T::NUMEL;
}

/// `SplitInto<(A, B, …)>`: every branch on the same input; the branches' outputs side by side,
/// their costs summed, one summary row (or more) per branch.
macro_rules! split_into {
    ($($m:ident),+) => {
        impl<In: ConstShape, $($m: Summarize<In>),+> Summarize<In> for SplitInto<($($m,)+)> {
            type Output = Shapes<($($m::Output,)+)>;
            const MACS: usize = 0 $(+ $m::MACS)+;
            const ACTIVATIONS: usize = 0 $(+ $m::ACTIVATIONS)+;
            fn describe(input: In, rows: &mut Vec<LayerRow>) -> Self::Output {
                $(let _ = $m::describe(input, rows);)+
                Shapes::default()
            }
        }
    };
}
split_into!(A);
split_into!(A, B);
split_into!(A, B, C);
split_into!(A, B, C, D);
split_into!(A, B, C, D, E);
split_into!(A, B, C, D, E, F);

/// `AddInto<(A, B, …)>`: branch `k` on input `k`; the outputs (all of one shape) added: the
/// branches' costs and the sum's values.
macro_rules! add_into {
    ($a:ident $ia:ident $(, $m:ident $i:ident)+) => {
        impl<$ia: ConstShape, $($i: ConstShape,)+ $a: Summarize<$ia>, $($m: Summarize<$i, Output = $a::Output>),+>
            Summarize<Shapes<($ia, $($i,)+)>> for AddInto<($a, $($m,)+)>
        {
            type Output = $a::Output;
            const MACS: usize = $a::MACS $(+ $m::MACS)+;
            const ACTIVATIONS: usize =
                $a::ACTIVATIONS $(+ $m::ACTIVATIONS)+ + <$a::Output as ConstShape>::NUMEL;
            fn describe(_: Shapes<($ia, $($i,)+)>, rows: &mut Vec<LayerRow>) -> Self::Output {
                let out = $a::describe($ia::default(), rows);
                $(let _ = $m::describe($i::default(), rows);)+
                out
            }
        }
    };
}
add_into!(A IA, B IB);
add_into!(A IA, B IB, C IC);
add_into!(A IA, B IB, C IC, D ID);
add_into!(A IA, B IB, C IC, D ID, E IE);
add_into!(A IA, B IB, C IC, D ID, E IE, F IF);

/// dfdx's multi-head attention of width `M` with `K = V = M`: four projections with biases.
const fn attention_params(m: usize) -> usize {
    4 * (m * m + m)
}
/// The feed-forward network `M → F → M`, with biases.
const fn ff_params(m: usize, f: usize) -> usize {
    m * f + f + f * m + m
}
/// Self-attention over `s` tokens of width `m`: the projections and the attention products.
const fn self_attention_macs(s: usize, m: usize) -> usize {
    4 * s * m * m + 2 * s * s * m
}
/// `t` queries attending to `s` keys of width `m`: query and output projections on `t`,
/// key and value projections on `s`, the products.
const fn cross_attention_macs(t: usize, s: usize, m: usize) -> usize {
    2 * t * m * m + 2 * s * m * m + 2 * t * s * m
}

/// Self-attention, a feed-forward network and two layer norms (`γ`, `β` each).
impl<const M: usize, const H: usize, const F: usize> Params for TransformerEncoderBlock<M, H, F> {
    const PARAMS: usize = attention_params(M) + ff_params(M, F) + 2 * 2 * M;
}
/// `L` encoder blocks.
impl<const M: usize, const H: usize, const F: usize, const L: usize> Params
    for TransformerEncoder<M, H, F, L>
{
    const PARAMS: usize = L * <TransformerEncoderBlock<M, H, F> as Params>::PARAMS;
}
/// Self-attention, attention over the memory, a feed-forward network and three layer norms.
impl<const M: usize, const H: usize, const F: usize> Params for TransformerDecoderBlock<M, H, F> {
    const PARAMS: usize = 2 * attention_params(M) + ff_params(M, F) + 3 * 2 * M;
}
/// `L` decoder blocks.
impl<const M: usize, const H: usize, const F: usize, const L: usize> Params
    for TransformerDecoder<M, H, F, L>
{
    const PARAMS: usize = L * <TransformerDecoderBlock<M, H, F> as Params>::PARAMS;
}
/// `A` encoder blocks and `B` decoder blocks.
impl<const M: usize, const H: usize, const A: usize, const B: usize, const F: usize> Params
    for Transformer<M, H, A, B, F>
{
    const PARAMS: usize = A * <TransformerEncoderBlock<M, H, F> as Params>::PARAMS
        + B * <TransformerDecoderBlock<M, H, F> as Params>::PARAMS;
}

/// `S` tokens of width `M`: self-attention and the feed-forward network (`2·S·M·F`).
impl<const M: usize, const H: usize, const F: usize, S: ConstDim> Summarize<(S, Const<M>)>
    for TransformerEncoderBlock<M, H, F>
{
    type Output = (S, Const<M>);
    const MACS: usize = self_attention_macs(S::SIZE, M) + 2 * S::SIZE * M * F;
}
/// `L` encoder blocks, each outputting `S × M` values.
impl<const M: usize, const H: usize, const F: usize, const L: usize, S: ConstDim>
    Summarize<(S, Const<M>)> for TransformerEncoder<M, H, F, L>
{
    type Output = (S, Const<M>);
    const MACS: usize = L * <TransformerEncoderBlock<M, H, F> as Summarize<(S, Const<M>)>>::MACS;
    const ACTIVATIONS: usize = L * S::SIZE * M;
}
/// `T` target tokens and `S` memory tokens of width `M`: self-attention over the targets,
/// attention from the targets to the memory, the feed-forward network on the targets.
impl<const M: usize, const H: usize, const F: usize, T: ConstDim, S: ConstDim>
    Summarize<Shapes<((T, Const<M>), (S, Const<M>))>> for TransformerDecoderBlock<M, H, F>
{
    type Output = (T, Const<M>);
    const MACS: usize = self_attention_macs(T::SIZE, M)
        + cross_attention_macs(T::SIZE, S::SIZE, M)
        + 2 * T::SIZE * M * F;
}
/// `L` decoder blocks on the same memory, each outputting `T × M` values.
impl<const M: usize, const H: usize, const F: usize, const L: usize, T: ConstDim, S: ConstDim>
    Summarize<Shapes<((T, Const<M>), (S, Const<M>))>> for TransformerDecoder<M, H, F, L>
{
    type Output = (T, Const<M>);
    const MACS: usize = L * <TransformerDecoderBlock<M, H, F> as Summarize<
        Shapes<((T, Const<M>), (S, Const<M>))>,
    >>::MACS;
    const ACTIVATIONS: usize = L * T::SIZE * M;
}
/// `(source, target)`: the encoder on the `S` source tokens, the decoder on the `T` target
/// tokens with the encoder's output as memory.
impl<
        const M: usize,
        const H: usize,
        const A: usize,
        const B: usize,
        const F: usize,
        S: ConstDim,
        T: ConstDim,
    > Summarize<Shapes<((S, Const<M>), (T, Const<M>))>> for Transformer<M, H, A, B, F>
{
    type Output = (T, Const<M>);
    const MACS: usize =
        <TransformerEncoder<M, H, F, A> as Summarize<(S, Const<M>)>>::MACS
            + <TransformerDecoder<M, H, F, B> as Summarize<
                Shapes<((T, Const<M>), (S, Const<M>))>,
            >>::MACS;
    const ACTIVATIONS: usize = A * S::SIZE * M + B * T::SIZE * M;
}
