//! [`Parallel`]: one branch per input, side by side, for models with several inputs.

use super::summary::Summarize;
use super::Params;
use super::Shapes;
use dfdx::nn::modules::*;
use dfdx::prelude::*;

/// Runs branch `k` on input `k`: `Parallel<(A, B)>` maps `(x_a, x_b)` to `(A(x_a), B(x_b))`.
///
/// The middle of a model with several inputs, between [`Unpack`](super::Unpack) and
/// [`Concat`](super::Concat) (or dfdx's `AddInto`, which adds the branches instead). The
/// compiler checks each branch against its input. Parameters are named `0.0.…`, `0.1.…` as in
/// dfdx's `AddInto`.
///
/// ```
/// # use typenet::prelude::*;
/// let dev = Cpu::default();
/// let m = dev.build_module::<Parallel<(Linear<3, 2>, ReLU)>, f32>();
/// let x: Tensor<(usize, Const<3>), f32, _> = dev.zeros_like(&(4, Const));
/// let y: Tensor<(usize, Const<5>), f32, _> = dev.ones_like(&(4, Const));
/// let (a, b) = m.forward((x, y));
/// assert_eq!((*a.shape(), *b.shape()), ((4, Const::<2>), (4, Const::<5>)));
/// ```
///
/// **Keras equivalent**: one branch of layers per `Input` in a functional model.
#[derive(Debug, Default, Clone)]
pub struct Parallel<T>(pub T);

impl<T: BuildOnDevice<D, E>, D: Device<E>, E: Dtype> BuildOnDevice<D, E> for Parallel<T> {
    type Built = Parallel<T::Built>;
}

impl<E: Dtype, D: Device<E>, T: TensorCollection<E, D>> TensorCollection<E, D> for Parallel<T> {
    type To<E2: Dtype, D2: Device<E2>> = Parallel<T::To<E2, D2>>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(Self::module("0", |s| &s.0, |s| &mut s.0), Parallel)
    }
}

impl<T: Params> Params for Parallel<T> {
    const PARAMS: usize = T::PARAMS;
}

macro_rules! parallel_impls {
    ($([$m:ident $x:ident $o:ident]),+) => {
        impl<$($m: Module<$x, Error = Er>, $x,)+ Er: std::fmt::Debug> Module<($($x,)+)>
            for Parallel<($($m,)+)>
        {
            type Output = ($($m::Output,)+);
            type Error = Er;
            #[allow(non_snake_case)]
            fn try_forward(&self, x: ($($x,)+)) -> Result<Self::Output, Er> {
                let ($($m,)+) = &self.0;
                let ($($x,)+) = x;
                Ok(($($m.try_forward($x)?,)+))
            }
        }

        impl<$($m: ModuleMut<$x, Error = Er>, $x,)+ Er: std::fmt::Debug> ModuleMut<($($x,)+)>
            for Parallel<($($m,)+)>
        {
            type Output = ($($m::Output,)+);
            type Error = Er;
            #[allow(non_snake_case)]
            fn try_forward_mut(&mut self, x: ($($x,)+)) -> Result<Self::Output, Er> {
                let ($($m,)+) = &mut self.0;
                let ($($x,)+) = x;
                Ok(($($m.try_forward_mut($x)?,)+))
            }
        }

        /// In a summary the inputs, and the branches' outputs, are [`Shapes`].
        impl<$($x: ConstShape, $m: Summarize<$x>,)+> Summarize<Shapes<($($x,)+)>>
            for Parallel<($($m,)+)>
        where
            ($($m,)+): Params,
        {
            type Output = Shapes<($($m::Output,)+)>;
            const MACS: usize = 0 $(+ $m::MACS)+;
            const ACTIVATIONS: usize = 0 $(+ $m::ACTIVATIONS)+;
        }
    };
}

parallel_impls!([A XA OA], [B XB OB]);
parallel_impls!([A XA OA], [B XB OB], [C XC OC]);
parallel_impls!([A XA OA], [B XB OB], [C XC OC], [F XF OF]);
