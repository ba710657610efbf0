//! [`Unpack`] and [`Pack`]: between one packed tensor and a tuple of tensors, the first layer of a
//! model with several inputs and the last of a model with several outputs.

use super::summary::Summarize;
use super::Params;
use super::Shapes;
use crate::dims::{Packed, Packing, SampleOf};
use dfdx::prelude::*;

/// Splits a batch of several inputs, `(batch, Packed<(A, B, …)>)`, into a tuple of batches, one
/// per input: the first layer of a model with several inputs.
///
/// A data set whose samples are [`Inputs<(A, B)>`](crate::data::Inputs) (an image and a few
/// numbers, say) batches as one packed tensor; `Unpack` hands each part to its branch of a
/// [`Parallel`](super::Parallel), and [`Concat`](super::Concat) joins the branches again. The
/// compiler checks every input against its branch: a data set of two inputs does not train a
/// model with three branches.
///
/// ```
/// # use typenet::prelude::*;
/// // an image through a small conv branch, four numbers through a Linear, then one head
/// type Net = (
///     Unpack,
///     Parallel<((Conv2D<1, 2, 3>, ReLU, Flatten2D), Linear<4, 4>)>,
///     Concat<54>, // 2·5·5 + 4
///     Linear<54, 3>,
/// );
/// let dev = Cpu::default();
/// let net = dev.build_module::<Net, f32>();
/// let x = dev.zeros_like(&(8, Packed::<(Rank3<1, 7, 7>, Rank1<4>)>::new()));
/// let y: Tensor<(usize, Const<3>), f32, _> = net.forward(x);
/// assert_eq!(y.shape().0, 8);
/// ```
///
/// **Keras equivalent**: a functional `Model(inputs=[image, numbers], …)`. **PyTorch
/// equivalent**: a `forward(self, image, numbers)` of two arguments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unpack;

impl ZeroSizedModule for Unpack {}
impl NonMutableModule for Unpack {}

impl<L: Packing, E: Dtype, D: Device<E>, T: Tape<E, D>> Module<Tensor<(usize, Packed<L>), E, D, T>>
    for Unpack
{
    type Output = L::Tensors<E, D, T>;
    type Error = D::Err;
    fn try_forward(&self, x: Tensor<(usize, Packed<L>), E, D, T>) -> Result<Self::Output, D::Err> {
        L::unpack(x)
    }
}

/// Joins a tuple of batches, one per output, into one packed batch `(batch, Packed<(A, B, …)>)`:
/// the last layer of a model with several outputs, trained with one loss per output
/// ([`Losses`](crate::losses::Losses)).
///
/// ```
/// # use typenet::prelude::*;
/// // one trunk, two heads: 10 class logits and 1 value
/// type Net = (Linear<4, 16>, ReLU, SplitInto<(Linear<16, 10>, Linear<16, 1>)>, Pack);
/// let dev = Cpu::default();
/// let net = dev.build_module::<Net, f32>();
/// let y: Tensor<(usize, Packed<(Rank1<10>, Rank1<1>)>), f32, _> =
///     net.forward(dev.zeros_like(&(5, Const::<4>)));
/// assert_eq!(y.shape().1.size(), 11);
/// ```
///
/// **Keras equivalent**: a functional `Model(…, outputs=[classes, value])`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pack;

impl ZeroSizedModule for Pack {}
impl NonMutableModule for Pack {}

macro_rules! pack_impl {
    ($($s:ident),+) => {
        impl<$($s: SampleOf,)+ E: Dtype, D: Device<E>, T: Tape<E, D>>
            Module<($(Tensor<$s, E, D, T>,)+)> for Pack
        {
            type Output = Tensor<(usize, Packed<($($s::Sample,)+)>), E, D, T>;
            type Error = D::Err;
            fn try_forward(&self, parts: ($(Tensor<$s, E, D, T>,)+)) -> Result<Self::Output, D::Err> {
                <($($s::Sample,)+) as Packing>::pack(parts)
            }
        }
    };
}
pack_impl!(A, B);
pack_impl!(A, B, C);
pack_impl!(A, B, C, F);

impl Params for Unpack {
    const PARAMS: usize = 0;
}
impl Params for Pack {
    const PARAMS: usize = 0;
}

/// In a summary the packed sample becomes its parts, [`Shapes<L>`](Shapes); no value changes.
impl<L: Packing> Summarize<(Packed<L>,)> for Unpack {
    type Output = Shapes<L>;
    const ACTIVATIONS: usize = 0;
}
/// In a summary the parts, [`Shapes<L>`](Shapes), become one packed sample; no value changes.
impl<L: Packing> Summarize<Shapes<L>> for Pack {
    type Output = (Packed<L>,);
    const ACTIVATIONS: usize = 0;
}
