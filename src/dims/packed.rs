//! Several tensors carried as one: the sample shape of a model with several inputs, and the
//! output shape of a model with several outputs.
//!
//! A batch of `(A, B)` samples travels as one tensor `(batch, Packed<(A, B)>)`: each row holds a
//! sample of `A` followed by a sample of `B`. The dimension [`Packed`] keeps the list of shapes in
//! the type, so the compiler still pairs every part with the layer or loss that takes it;
//! [`Packing::unpack`] and [`Packing::pack`] convert between the packed tensor and a tuple of
//! tensors, recorded on the tape like any other op.

use super::{BatchShape, ShapeList};
use dfdx::prelude::*;
use std::marker::PhantomData;

/// The dimension of several sample shapes side by side: its size is the sum of their sizes.
///
/// `Packed<(Rank3<1, 28, 28>, Rank1<4>)>` is 788 wide: an image and four more numbers per
/// sample. It is a dimension, so `(Packed<L>,)` is a sample shape and `(usize, Packed<L>)` a
/// batch of them.
pub struct Packed<L>(PhantomData<fn() -> L>);

impl<L> Packed<L> {
    /// The (zero-sized) value.
    pub const fn new() -> Self {
        Packed(PhantomData)
    }
}

impl<L> Clone for Packed<L> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<L> Copy for Packed<L> {}
impl<L> Default for Packed<L> {
    fn default() -> Self {
        Self::new()
    }
}
impl<L> PartialEq for Packed<L> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<L> Eq for Packed<L> {}
impl<L> std::fmt::Debug for Packed<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Packed<{}>", std::any::type_name::<L>())
    }
}

impl<L: Packing> Dim for Packed<L> {
    #[inline(always)]
    fn size(&self) -> usize {
        L::NUMEL
    }
    #[inline(always)]
    fn from_size(size: usize) -> Option<Self> {
        (size == L::NUMEL).then_some(Packed::new())
    }
}

impl<L: Packing> ConstDim for Packed<L> {
    const SIZE: usize = L::NUMEL;
}

/// A batch of packed samples: `(batch, Packed<L>)`.
pub type PackedBatch<L, E, D, T = NoneTape> = Tensor<(usize, Packed<L>), E, D, T>;

/// Rows of a run-time width, `(batch, width)`.
type Rows<E, D, T> = Tensor<(usize, usize), E, D, T>;

/// One packed sample batches as `(batch, Packed<L>)`.
impl<L: Packing> BatchShape for (Packed<L>,) {
    type Batched = (usize, Packed<L>);
    fn batched(n: usize) -> Self::Batched {
        (n, Packed::new())
    }
}

/// A tuple of two to four sample shapes that travel packed, e.g. `(Rank3<1, 28, 28>, Rank1<4>)`:
/// what [`Packed`] holds.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of sample shapes that can be packed",
    note = "several inputs or outputs are a tuple of 2 to 4 sample shapes, e.g. `(Rank3<1, 28, 28>, Rank1<4>)`"
)]
pub trait Packing: ShapeList + Send + Sync {
    /// How many shapes the list holds.
    const LEN: usize;
    /// A batch of each shape, as a tuple of tensors with tape `T`.
    type Tensors<E: Dtype, D: Device<E>, T: Tape<E, D>>;
    /// Splits a packed batch into one tensor per shape. The first part keeps `x`'s tape; the
    /// others start empty tapes of the same kind, merged again where the parts meet (as dfdx's
    /// `SplitInto` does), so every part's gradient reaches the parameters that used it.
    ///
    /// # Errors
    /// Device errors (e.g. out of memory).
    fn unpack<E: Dtype, D: Device<E>, T: Tape<E, D>>(
        x: PackedBatch<Self, E, D, T>,
    ) -> Result<Self::Tensors<E, D, T>, D::Err>
    where
        Self: Sized;
    /// Joins one batch per shape into a packed batch (the inverse of [`Packing::unpack`]).
    ///
    /// # Errors
    /// Device errors (e.g. out of memory).
    fn pack<E: Dtype, D: Device<E>, T: Tape<E, D>>(
        parts: Self::Tensors<E, D, T>,
    ) -> Result<PackedBatch<Self, E, D, T>, D::Err>
    where
        Self: Sized;
}

/// The values `offset..offset + S::NUMEL` of every row of `x`, as a batch of `S`.
fn part<S: BatchShape, P: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<(usize, P), E, D, T>,
    offset: usize,
) -> Result<Tensor<S::Batched, E, D, T>, D::Err> {
    let n = x.shape().0;
    x.try_slice((.., offset..offset + S::NUMEL))?
        .try_reshape_like(&S::batched(n))
}

/// A batch of `S` as `(batch, S::NUMEL)` rows with a run-time width, ready to concatenate.
fn rows<S: BatchShape, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<S::Batched, E, D, T>,
) -> Result<Rows<E, D, T>, D::Err> {
    let n = x.shape().concrete().into_iter().next().unwrap_or(0);
    x.try_reshape_like(&(n, S::NUMEL))
}

macro_rules! shape_list {
    ($first:ident $(, $rest:ident)+) => {
        impl<$first: BatchShape, $($rest: BatchShape),+> Packing for ($first, $($rest,)+) {
            const LEN: usize = 1 $(+ { let _ = stringify!($rest); 1 })+;
            type Tensors<E: Dtype, D: Device<E>, T: Tape<E, D>> = (
                Tensor<$first::Batched, E, D, T>,
                $(Tensor<$rest::Batched, E, D, T>,)+
            );
            #[allow(non_snake_case)]
            fn unpack<E: Dtype, D: Device<E>, T: Tape<E, D>>(
                x: PackedBatch<Self, E, D, T>,
            ) -> Result<Self::Tensors<E, D, T>, D::Err> {
                let (x, tape) = x.split_tape();
                let mut offset = $first::NUMEL;
                let $first = part::<$first, _, E, D, T>(x.clone().put_tape(tape), 0)?;
                $(
                    let $rest = part::<$rest, _, E, D, T>(x.clone().put_tape(T::default()), offset)?;
                    offset += $rest::NUMEL;
                )+
                let _ = offset;
                Ok(($first, $($rest,)+))
            }
            #[allow(non_snake_case)]
            fn pack<E: Dtype, D: Device<E>, T: Tape<E, D>>(
                parts: Self::Tensors<E, D, T>,
            ) -> Result<PackedBatch<Self, E, D, T>, D::Err> {
                let ($first, $($rest,)+) = parts;
                let joined = rows::<$first, E, D, T>($first)?;
                $(
                    let joined = (joined, rows::<$rest, E, D, T>($rest)?).try_concat_along(Axis::<1>)?;
                )+
                let n = joined.shape().0;
                joined.try_reshape_like(&(n, Packed::new()))
            }
        }
    };
}

shape_list!(A, B);
shape_list!(A, B, C);
shape_list!(A, B, C, F);

#[cfg(test)]
mod tests {
    use super::*;

    type Two = (Rank2<2, 2>, Rank1<3>);

    #[test]
    fn a_packed_row_holds_each_part_in_order() {
        let dev = Cpu::default();
        // two samples: [a a a a | b b b], values 0..14
        let x = dev.tensor_from_vec(
            (0..14).map(|v| v as f32).collect(),
            (2, Packed::<Two>::new()),
        );
        let (a, b) = <Two as Packing>::unpack(x.clone()).unwrap();
        assert_eq!(a.as_vec(), [0., 1., 2., 3., 7., 8., 9., 10.]);
        assert_eq!(b.as_vec(), [4., 5., 6., 11., 12., 13.]);
        assert_eq!(*a.shape(), (2, Const::<2>, Const::<2>));
        let again = <Two as Packing>::pack((a, b)).unwrap();
        assert_eq!(again.as_vec(), x.as_vec());
        assert_eq!(<Two as ShapeList>::NUMEL, 7);
        assert_eq!(<Two as Packing>::LEN, 2);
    }

    #[test]
    fn each_part_passes_its_gradient_back() {
        let dev = Cpu::default();
        let x = dev.tensor_from_vec(
            (0..14).map(|v| v as f32).collect(),
            (2, Packed::<Two>::new()),
        );
        let (a, b) = <Two as Packing>::unpack(x.leaky_trace()).unwrap();
        // d/dx of sum(2·a) + sum(3·b): 2 on the image values, 3 on the others
        let loss = (a * 2.0).sum::<Rank0, _>() + (b * 3.0).sum::<Rank0, _>();
        let g = loss.backward();
        let want: Vec<f32> = [2., 2., 2., 2., 3., 3., 3.].repeat(2);
        assert_eq!(g.get(&x).as_vec(), want);
    }
}
