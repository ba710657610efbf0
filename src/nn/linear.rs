//! [`Linear`]: the dense layer, `y = x · Wᵀ + b`, with a fused CPU kernel.
//!
//! It replaces dfdx's `Linear` in [`crate::prelude`] under the same name, generics, fields and
//! initialisation, so model types, checkpoints and optimizers read and work as before. It runs
//! [`LayerKernels::try_linear`]: on the CPU its forward pass is one AVX-512 GEMM with the bias in
//! the accumulator, and its backward pass two GEMMs written straight into dfdx's gradients
//! (dfdx's own costs a matmul, a broadcast, an add and their backward ops, each allocating).

use super::device::LayerKernels;
use super::init::uniform_fan_in;
use super::shape::Features;
use super::summary::Summarize;
use super::Params;
use dfdx::prelude::*;

/// The builder type (what model type aliases name).
pub mod builder {
    /// A dense layer from `I` to `O` features: `y = x · Wᵀ + b` over the last axis of the input.
    ///
    /// Weight `(O, I)` and bias `(O,)` start uniform in `±1/√I` (PyTorch's default, as dfdx's
    /// `Linear`); [`glorot_uniform`](crate::nn::glorot_uniform) gives Keras's instead. Inputs of
    /// shape `(I,)`, `(B, I)` and `(B, S, I)` for any batch dimensions `B`, `S`.
    ///
    /// # Example
    /// ```
    /// # use typenet::prelude::*;
    /// let dev = Cpu::default();
    /// type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);
    /// let model = dev.build_module::<Mlp, f32>();
    /// let one: Tensor<Rank1<10>, f32, _> = model.forward(dev.zeros::<Rank1<784>>());
    /// let batch = dev.zeros_like(&(32, Const::<784>));
    /// let logits: Tensor<(usize, Const<10>), f32, _> = model.forward(batch);
    /// const _: () = assert!(<Linear<784, 128> as Params>::PARAMS == 784 * 128 + 128);
    /// ```
    ///
    /// **PyTorch equivalent**: `nn.Linear(I, O)`. **Keras equivalent**: `Dense(O)` on `I` inputs.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Linear<const I: usize, const O: usize>;
}

/// A built [`builder::Linear`] on device `D` with element type `E`.
#[derive(Debug, Clone)]
pub struct Linear<const I: usize, const O: usize, E: Dtype, D: Storage<E>> {
    /// Weight matrix, shape `(O, I)` (PyTorch's layout; `y = x · weightᵀ + bias`).
    pub weight: Tensor<Rank2<O, I>, E, D>,
    /// Bias, shape `(O,)`.
    pub bias: Tensor<Rank1<O>, E, D>,
}

impl<const I: usize, const O: usize, E: Dtype, D: Device<E>> BuildOnDevice<D, E>
    for builder::Linear<I, O>
where
    Linear<I, O, E, D>: BuildModule<D, E>,
{
    type Built = Linear<I, O, E, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        Self::Built::try_build(device)
    }
}

impl<const I: usize, const O: usize, E, D> TensorCollection<E, D> for Linear<I, O, E, D>
where
    E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = Linear<I, O, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        // dfdx's (and PyTorch's) init: uniform in ±1/sqrt(I) for weight and bias.
        visitor.visit_fields(
            (
                Self::tensor(
                    "weight",
                    |s| &s.weight,
                    |s| &mut s.weight,
                    uniform_fan_in::<I, 1, _, _, _>(),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    uniform_fan_in::<I, 1, _, _, _>(),
                ),
            ),
            |(weight, bias)| Linear { weight, bias },
        )
    }
}

impl<const I: usize, const O: usize, E: Dtype, D: Storage<E>> NonMutableModule
    for Linear<I, O, E, D>
{
}

impl<const I: usize, const O: usize, X, E, D, T> Module<Tensor<(X,), E, D, T>>
    for Linear<I, O, E, D>
where
    X: Features<I>,
    E: Dtype,
    D: LayerKernels<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<Rank1<O>, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(X,), E, D, T>) -> Result<Self::Output, D::Err> {
        D::try_linear(x, &self.weight, &self.bias, 1, (Const,))
    }
}

impl<const I: usize, const O: usize, B, X, E, D, T> Module<Tensor<(B, X), E, D, T>>
    for Linear<I, O, E, D>
where
    B: Dim,
    X: Features<I>,
    E: Dtype,
    D: LayerKernels<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<(B, Const<O>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, X), E, D, T>) -> Result<Self::Output, D::Err> {
        let (b, _) = *x.shape();
        D::try_linear(x, &self.weight, &self.bias, b.size(), (b, Const))
    }
}

impl<const I: usize, const O: usize, B, S, X, E, D, T> Module<Tensor<(B, S, X), E, D, T>>
    for Linear<I, O, E, D>
where
    B: Dim,
    S: Dim,
    X: Features<I>,
    E: Dtype,
    D: LayerKernels<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<(B, S, Const<O>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, S, X), E, D, T>) -> Result<Self::Output, D::Err> {
        let (b, s, _) = *x.shape();
        let rows = b.size() * s.size();
        D::try_linear(x, &self.weight, &self.bias, rows, (b, s, Const))
    }
}

impl<const I: usize, const O: usize> Params for builder::Linear<I, O> {
    const PARAMS: usize = I * O + O;
}

impl<const I: usize, const O: usize, X: Features<I> + ConstDim> Summarize<(X,)>
    for builder::Linear<I, O>
{
    type Output = (Const<O>,);
    const MACS: usize = I * O;
}
