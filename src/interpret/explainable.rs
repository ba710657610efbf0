//! The bound a model needs for gradient-based attribution, named once, and the one backward pass
//! every method shares.

use crate::data::BatchShape;
use crate::{Error, Result};
use dfdx::prelude::*;

/// A model that takes batches of shape `In` on device `D` and records its forward pass on a tape
/// in inference mode (`Module`, not `ModuleMut`: dropout is off, batch-norm uses its running
/// statistics), so gradients can flow back to the input.
///
/// Blanket-implemented for every dfdx module, tuple and typenet layer that fits; user code never
/// implements it.
#[diagnostic::on_unimplemented(
    message = "the model `{Self}` cannot explain a batch of shape `{In}`",
    label = "the sample's shape does not fit this model's input",
    note = "a `Rank1<N>` sample batches as `(usize, Const<N>)`: the model's first layer must take N inputs"
)]
pub trait Explainable<In: Shape, D: Device<f32>>:
    Module<
    Tensor<In, f32, D, OwnedTape<f32, D>>,
    Output = Tensor<Self::Out, f32, D, OwnedTape<f32, D>>,
    Error = D::Err,
>
{
    /// The shape of a batch of outputs.
    type Out: Shape;
}

impl<M, In, Out, D> Explainable<In, D> for M
where
    In: Shape,
    Out: Shape,
    D: Device<f32>,
    M: Module<
        Tensor<In, f32, D, OwnedTape<f32, D>>,
        Output = Tensor<Out, f32, D, OwnedTape<f32, D>>,
        Error = D::Err,
    >,
{
    type Out = Out;
}

/// Per-row class scores and their gradients with respect to each row of a batch.
pub(crate) struct ClassGradients {
    /// `rows × S::NUMEL` gradient values, row-major.
    pub gradients: Vec<f32>,
    /// The class score of each row.
    pub scores: Vec<f32>,
}

/// Runs `rows` samples (`inputs`, row-major) through `model` as one batch and returns
/// `∂ score_class / ∂ input` for each row, from one backward pass of the summed scores.
///
/// Rows do not interact in inference mode, so the gradient of the sum with respect to row `r`
/// is the gradient of row `r`'s own score.
pub(crate) fn class_gradients<S, M, D>(
    model: &M,
    device: &D,
    inputs: Vec<f32>,
    rows: usize,
    class: usize,
) -> Result<ClassGradients>
where
    S: BatchShape,
    D: Device<f32>,
    M: Explainable<S::Batched, D>,
{
    let x = device
        .try_tensor_from_vec(inputs, S::batched(rows))
        .map_err(Error::device)?;
    let out = model.try_forward(x.leaky_trace()).map_err(Error::device)?;
    let shape = *out.shape();
    let width = shape.num_elements() / rows.max(1);
    if class >= width {
        return Err(Error::ClassOutOfRange {
            sample: None,
            class,
            classes: width,
        });
    }
    let outputs = out.retaped::<NoneTape>().as_vec();
    let scores = outputs.iter().skip(class).step_by(width).copied().collect();
    // one-hot mask: the summed masked output is the sum of each row's class score
    let mut mask = vec![0.0f32; outputs.len()];
    mask.iter_mut()
        .skip(class)
        .step_by(width)
        .for_each(|m| *m = 1.0);
    let mask = device
        .try_tensor_from_vec(mask, shape)
        .map_err(Error::device)?;
    let total = out
        .try_mul(mask)
        .and_then(|t| t.try_sum::<Rank0, _>())
        .map_err(Error::device)?;
    let grads = total.try_backward().map_err(Error::device)?;
    Ok(ClassGradients {
        gradients: grads.get(&x).as_vec(),
        scores,
    })
}
