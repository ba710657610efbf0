//! The bounds a model needs to be trained on a batch shape, named once.

use dfdx::prelude::*;

/// A model that takes batches of shape `In` on device `D` in the float type `E` (`f32` unless
/// named), in training mode (with a tape, via
/// `ModuleMut`, so dropout and batch-norm update) and in inference mode (via `Module`).
///
/// Blanket-implemented for every dfdx module, tuple and typenet layer that fits; user code never
/// implements it. A data set whose sample shape is not the model's input fails here at compile
/// time.
#[diagnostic::on_unimplemented(
    message = "the model `{Self}` cannot take a batch of shape `{In}`",
    label = "the data set's sample shape does not fit this model's input",
    note = "a data set of `Rank1<N>` samples batches as `(usize, Const<N>)`: the model's first layer must take N inputs"
)]
pub trait TrainModel<In: Shape, D: Device<E>, E: Dtype = f32>:
    TensorCollection<E, D>
    + ModuleMut<
        Tensor<In, E, D, OwnedTape<E, D>>,
        Output = Tensor<Self::Out, E, D, OwnedTape<E, D>>,
        Error = D::Err,
    > + Module<Tensor<In, E, D>, Output = Tensor<Self::Out, E, D>, Error = D::Err>
{
    /// The shape of a batch of outputs.
    type Out: Shape;
}

impl<M, In, D, E, Out> TrainModel<In, D, E> for M
where
    In: Shape,
    Out: Shape,
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>
        + ModuleMut<
            Tensor<In, E, D, OwnedTape<E, D>>,
            Output = Tensor<Out, E, D, OwnedTape<E, D>>,
            Error = D::Err,
        > + Module<Tensor<In, E, D>, Output = Tensor<Out, E, D>, Error = D::Err>,
{
    type Out = Out;
}
