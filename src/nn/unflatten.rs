//! [`Unflatten2D<C, H, W>`]: `(C·H·W,) → (C, H, W)`, the inverse of [`Flatten2D`](super::Flatten2D),
//! where a decoder turns a code vector back into a feature map.

use super::summary::Summarize;
use super::Params;
use dfdx::prelude::*;

/// Reshapes `N = C·H·W` features into a `C × H × W` feature map: `(N,) → (C, H, W)` and
/// `(B, N) → (B, C, H, W)`.
///
/// A width that is not `C·H·W` fails the build with "Unflatten2D<C, H, W> takes C·H·W inputs"
/// (`cargo build`/`cargo test`; `cargo check` stops before that check).
///
/// ```
/// # use typenet::prelude::*;
/// // a decoder's first steps: code → 32 maps of 7×7 → 14×14
/// type Decoder = (Linear<16, 1568>, ReLU, Unflatten2D<32, 7, 7>, Upscale2D<14>);
/// let dev = Cpu::default();
/// let m = dev.build_module::<Decoder, f32>();
/// let y: Tensor<(usize, Const<32>, Const<14>, Const<14>), f32, _> =
///     m.forward(dev.zeros_like(&(2, Const::<16>)));
/// assert_eq!(summary::<Decoder, Rank1<16>>().rows[2].output, vec![32, 7, 7]);
/// ```
///
/// **PyTorch equivalent**: `nn.Unflatten(1, (C, H, W))`. **Keras equivalent**:
/// `Reshape((H, W, C))` (channels last).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unflatten2D<const C: usize, const H: usize, const W: usize>;

impl<const C: usize, const H: usize, const W: usize> ZeroSizedModule for Unflatten2D<C, H, W> {}
impl<const C: usize, const H: usize, const W: usize> NonMutableModule for Unflatten2D<C, H, W> {}

/// The build-time check that `N = C·H·W`.
struct Fits<const N: usize, const C: usize, const H: usize, const W: usize>;

impl<const N: usize, const C: usize, const H: usize, const W: usize> Fits<N, C, H, W> {
    const CHECKED: () = assert!(N == C * H * W, "Unflatten2D<C, H, W> takes C·H·W inputs");
}

impl<const N: usize, const C: usize, const H: usize, const W: usize, E, D, T>
    Module<Tensor<(Const<N>,), E, D, T>> for Unflatten2D<C, H, W>
where
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<Rank3<C, H, W>, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(Const<N>,), E, D, T>) -> Result<Self::Output, D::Err> {
        let () = Fits::<N, C, H, W>::CHECKED;
        x.try_reshape_like(&(Const, Const, Const))
    }
}

impl<B: Dim, const N: usize, const C: usize, const H: usize, const W: usize, E, D, T>
    Module<Tensor<(B, Const<N>), E, D, T>> for Unflatten2D<C, H, W>
where
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<(B, Const<C>, Const<H>, Const<W>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, Const<N>), E, D, T>) -> Result<Self::Output, D::Err> {
        let () = Fits::<N, C, H, W>::CHECKED;
        let b = x.shape().0;
        x.try_reshape_like(&(b, Const, Const, Const))
    }
}

impl<const C: usize, const H: usize, const W: usize> Params for Unflatten2D<C, H, W> {
    const PARAMS: usize = 0;
}

impl<const N: usize, const C: usize, const H: usize, const W: usize> Summarize<(Const<N>,)>
    for Unflatten2D<C, H, W>
{
    type Output = Rank3<C, H, W>;
}
