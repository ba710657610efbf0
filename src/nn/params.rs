//! Parameter counts known at compile time.

use dfdx::nn::builders::*;

/// The number of trainable parameters of a model type, as a constant.
///
/// Implemented for dfdx's layer builders, typenet's layers and tuples of them (nested to any
/// depth), so a model's size can be checked where it is declared:
///
/// ```
/// # use typenet::prelude::*;
/// type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);
/// const _: () = assert!(<Mlp as Params>::PARAMS == 101_770);
/// ```
///
/// Counts follow Keras's "trainable params": batch-norm running statistics are not counted.
///
/// **Keras equivalent**: `model.count_params()`.
pub trait Params {
    /// Trainable parameters (weights and biases) of the layer or model.
    const PARAMS: usize;
}

impl<const I: usize, const O: usize> Params for Linear<I, O> {
    const PARAMS: usize = I * O + O;
}
impl<const I: usize, const O: usize> Params for UnbiasedLinear<I, O> {
    const PARAMS: usize = I * O;
}
impl<const M: usize> Params for LayerNorm1D<M> {
    const PARAMS: usize = 2 * M;
}
impl<const C: usize> Params for BatchNorm1D<C> {
    const PARAMS: usize = 2 * C;
}
impl<const C: usize> Params for BatchNorm2D<C> {
    const PARAMS: usize = 2 * C;
}
impl<const C: usize> Params for Bias2D<C> {
    const PARAMS: usize = C;
}
impl<const V: usize, const M: usize> Params for Embedding<V, M> {
    const PARAMS: usize = V * M;
}
impl<F: Params> Params for Residual<F> {
    const PARAMS: usize = F::PARAMS;
}
impl<F: Params, R: Params> Params for GeneralizedResidual<F, R> {
    const PARAMS: usize = F::PARAMS + R::PARAMS;
}
impl<T: Params> Params for AddInto<T> {
    const PARAMS: usize = T::PARAMS;
}
impl<T: Params> Params for SplitInto<T> {
    const PARAMS: usize = T::PARAMS;
}
impl<T: Params, const N: usize> Params for Repeated<T, N> {
    const PARAMS: usize = T::PARAMS * N;
}

macro_rules! zero_params {
    ($($t:ty),* $(,)?) => {$(impl Params for $t { const PARAMS: usize = 0; })*};
}
zero_params!(
    ReLU,
    Sigmoid,
    Tanh,
    FastGeLU,
    AccurateGeLU,
    Softmax,
    LogSoftmax,
    Sin,
    Cos,
    Ln,
    Exp,
    Square,
    Sqrt,
    Abs,
    Dropout
);
#[allow(deprecated)]
impl Params for GeLU {
    const PARAMS: usize = 0;
}
impl<E: dfdx::prelude::Dtype> Params for LeakyReLU<E> {
    const PARAMS: usize = 0;
}
impl<S: dfdx::prelude::ConstShape> Params for Reshape<S> {
    const PARAMS: usize = 0;
}
/// One learned slope.
impl Params for PReLU {
    const PARAMS: usize = 1;
}
/// One learned slope per channel.
impl<C: dfdx::prelude::ConstDim> Params for PReLU1D<C> {
    const PARAMS: usize = C::SIZE;
}
/// Query and key projections `M → K`, value `M → V` and output `V → M`, each with a bias.
impl<const M: usize, const H: usize, const K: usize, const V: usize> Params
    for MultiHeadAttention<M, H, K, V>
{
    const PARAMS: usize = 2 * (M * K + K) + (M * V + V) + (V * M + M);
}
impl<const OH: usize, const OW: usize, M: dfdx::prelude::UpscaleMethod> Params
    for Upscale2D<OH, OW, M>
{
    const PARAMS: usize = 0;
}
impl<const N: usize> Params for DropoutOneIn<N> {
    const PARAMS: usize = 0;
}
impl Params for () {
    const PARAMS: usize = 0;
}

macro_rules! tuple_params {
    ($($t:ident),+) => {
        impl<$($t: Params),+> Params for ($($t,)+) {
            const PARAMS: usize = 0 $(+ $t::PARAMS)+;
        }
    };
}
tuple_params!(A);
tuple_params!(A, B);
tuple_params!(A, B, C);
tuple_params!(A, B, C, D);
tuple_params!(A, B, C, D, E);
tuple_params!(A, B, C, D, E, F);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_counts_weights_and_biases() {
        assert_eq!(<Linear<784, 128> as Params>::PARAMS, 784 * 128 + 128);
        assert_eq!(<UnbiasedLinear<3, 2> as Params>::PARAMS, 6);
    }

    #[test]
    fn nested_tuples_sum_their_layers() {
        type Block = (
            Linear<8, 8>,
            ReLU,
            (LayerNorm1D<8>, Residual<(Linear<8, 8>, Tanh)>),
        );
        assert_eq!(<Block as Params>::PARAMS, 72 + 16 + 72);
        type Deep = ((Block, Block), Linear<8, 2>);
        assert_eq!(<Deep as Params>::PARAMS, 2 * 160 + 18);
    }
}
