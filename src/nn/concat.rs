//! [`Concat<N>`]: several batches of features side by side, `N` features in all.

use super::summary::Summarize;
use super::Params;
use super::Shapes;
use dfdx::prelude::*;

/// Joins a tuple of feature batches `(batch, A)`, `(batch, B)`, … into one `(batch, N)` batch,
/// each row `[a…, b…, …]`, where `N = A + B + …`: how the branches of a model with several
/// inputs meet again (after [`Parallel`](super::Parallel)).
///
/// `N` is written out because stable Rust cannot add const generics in a type. A wrong `N`
/// fails the build with "`Concat<N>` takes branches whose widths add up to N" (`cargo build`,
/// `cargo test`; `cargo check` stops before that check).
///
/// ```
/// # use typenet::prelude::*;
/// let dev = Cpu::default();
/// let a = dev.tensor([[1.0f32, 2.0]]).realize::<(usize, Const<2>)>();
/// let b = dev.tensor([[3.0f32]]).realize::<(usize, Const<1>)>();
/// let ab: Tensor<(usize, Const<3>), f32, _> = Concat::<3>.forward((a, b));
/// assert_eq!(ab.as_vec(), [1.0, 2.0, 3.0]);
/// ```
///
/// **PyTorch equivalent**: `torch.cat([a, b], dim=1)`. **Keras equivalent**: `Concatenate()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Concat<const N: usize>;

impl<const N: usize> ZeroSizedModule for Concat<N> {}
impl<const N: usize> NonMutableModule for Concat<N> {}

impl<const N: usize> Params for Concat<N> {
    const PARAMS: usize = 0;
}

/// The build-time check that the widths (unused ones 0) add up to `N`.
struct Adds<const A: usize, const B: usize, const C: usize, const F: usize, const N: usize>;

impl<const A: usize, const B: usize, const C: usize, const F: usize, const N: usize>
    Adds<A, B, C, F, N>
{
    const CHECKED: () = assert!(
        A + B + C + F == N,
        "Concat<N> takes branches whose widths add up to N"
    );
}

macro_rules! concat_impls {
    ([$w0:ident $x0:ident] $(, [$w:ident $x:ident])+ ; $($zero:literal),*) => {
        impl<const N: usize, const $w0: usize, $(const $w: usize,)+ E: Dtype, D: Device<E>, T: Tape<E, D>>
            Module<(Tensor<(usize, Const<$w0>), E, D, T>, $(Tensor<(usize, Const<$w>), E, D, T>,)+)>
            for Concat<N>
        {
            type Output = Tensor<(usize, Const<N>), E, D, T>;
            type Error = D::Err;
            fn try_forward(
                &self,
                ($x0, $($x,)+): (Tensor<(usize, Const<$w0>), E, D, T>, $(Tensor<(usize, Const<$w>), E, D, T>,)+),
            ) -> Result<Self::Output, D::Err> {
                let () = Adds::<$w0, $($w,)+ $($zero,)* N>::CHECKED;
                let n = $x0.shape().0;
                let joined = $x0.try_reshape_like(&(n, $w0))?;
                $(
                    let joined = (joined, $x.try_reshape_like(&(n, $w))?).try_concat_along(Axis::<1>)?;
                )+
                joined.try_reshape_like(&(n, Const::<N>))
            }
        }

        /// In a summary the branches arrive as [`Shapes`].
        impl<const N: usize, const $w0: usize, $(const $w: usize,)+>
            Summarize<Shapes<(Rank1<$w0>, $(Rank1<$w>,)+)>> for Concat<N>
        {
            type Output = Rank1<N>;
            const ACTIVATIONS: usize = 0;
        }
    };
}

concat_impls!([A a], [B b]; 0, 0);
concat_impls!([A a], [B b], [C c]; 0);
concat_impls!([A a], [B b], [C c], [F f];);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_joined_in_branch_order_and_gradients_split_back() {
        let dev = Cpu::default();
        let a = dev
            .tensor([[1.0f32, 2.0], [3.0, 4.0]])
            .realize::<(usize, Const<2>)>();
        let b = dev.tensor([[5.0f32], [6.0]]).realize::<(usize, Const<1>)>();
        let c = dev.tensor([[7.0f32], [8.0]]).realize::<(usize, Const<1>)>();
        let y = Concat::<4>.forward((
            a.leaky_trace(),
            b.put_tape(Default::default()),
            c.put_tape(Default::default()),
        ));
        assert_eq!(y.as_vec(), [1., 2., 5., 7., 3., 4., 6., 8.]);
        // d/da of sum(y · w) is w's first two columns
        let w = dev
            .tensor([[1.0f32, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
            .realize::<(usize, Const<4>)>();
        let g = (y * w).sum::<Rank0, _>().backward();
        assert_eq!(g.get(&a).as_vec(), [1., 2., 5., 6.]);
    }
}
