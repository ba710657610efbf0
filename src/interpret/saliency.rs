//! Vanilla saliency: the gradient of one class score with respect to the input.

use super::explainable::{class_gradients, Explainable};
use crate::data::BatchShape;
use crate::Result;
use dfdx::prelude::*;

/// The gradient `∂ f_class(x) / ∂ xᵢ` of output `class` with respect to each input value of the
/// sample `x`, in `x`'s row-major order (Simonyan et al. 2014).
///
/// A large magnitude marks an input value whose small change moves the class score most; the sign
/// says in which direction. Saliency maps usually show `|∂f/∂xᵢ|`. The model runs in inference
/// mode on a batch of one; for a classifier trained from logits, `class`'s score is its logit.
///
/// # Errors
/// [`Error::ClassOutOfRange`](crate::Error::ClassOutOfRange) if `class` is not below the model's
/// output width;
/// device errors.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::seed_from_u64(0);
/// let model = dev.build_module::<Linear<3, 2>, f32>();
/// let x: Tensor<Rank1<3>, f32, _> = dev.tensor([1.0, 2.0, 3.0]);
/// // a linear model's score 1 is w₁ · x + b₁: its gradient is row 1 of the weight matrix
/// let grad = saliency(&model, &x, 1)?;
/// assert_eq!(grad, model.weight.as_vec()[3..6]);
/// # Ok(()) }
/// ```
///
/// **PyTorch equivalent**: `x.requires_grad_(); model(x)[0, c].backward(); x.grad`
/// (Captum's `Saliency(model).attribute(x, target=c, abs=False)`).
pub fn saliency<S, M, D>(model: &M, x: &Tensor<S, f32, D>, class: usize) -> Result<Vec<f32>>
where
    S: BatchShape,
    D: Device<f32>,
    M: Explainable<S::Batched, D>,
{
    let g = class_gradients::<S, M, D>(model, x.device(), x.as_vec(), 1, class)?;
    Ok(g.gradients)
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn linear_saliency_is_the_weight_row() -> crate::Result<()> {
        let dev = Cpu::seed_from_u64(1);
        let model = dev.build_module::<Linear<3, 2>, f32>();
        let x: Tensor<Rank1<3>, f32, _> = dev.tensor([0.3, -0.7, 1.1]);
        let w = model.weight.as_vec();
        assert_eq!(saliency(&model, &x, 0)?, w[0..3]);
        assert_eq!(saliency(&model, &x, 1)?, w[3..6]);
        Ok(())
    }

    #[test]
    fn relu_gates_the_gradient() -> crate::Result<()> {
        // score = relu(x0 - x1): at x0 > x1 the gradient is (1, -1), at x0 < x1 it is (0, 0)
        let dev = Cpu::default();
        let mut model = dev.build_module::<(Linear<2, 1>, ReLU), f32>();
        model.0.weight = dev.tensor([[1.0, -1.0]]);
        model.0.bias = dev.tensor([0.0]);
        let up: Tensor<Rank1<2>, f32, _> = dev.tensor([2.0, 1.0]);
        let down: Tensor<Rank1<2>, f32, _> = dev.tensor([1.0, 2.0]);
        assert_eq!(saliency(&model, &up, 0)?, vec![1.0, -1.0]);
        assert_eq!(saliency(&model, &down, 0)?, vec![0.0, 0.0]);
        Ok(())
    }

    #[test]
    fn class_out_of_range_is_an_error() {
        let dev = Cpu::default();
        let model = dev.build_module::<Linear<2, 3>, f32>();
        let x: Tensor<Rank1<2>, f32, _> = dev.zeros();
        let err = saliency(&model, &x, 3).map(|_| ()).err();
        assert!(matches!(
            err,
            Some(Error::ClassOutOfRange {
                sample: None,
                class: 3,
                classes: 3
            })
        ));
    }
}
