//! Per-token cross-entropy: the loss of sequence outputs, one class per position, padding left
//! out.

use super::Loss;
use crate::data::{TokenClasses, IGNORE};
use dfdx::prelude::*;

/// Cross-entropy from per-token logits `(B, L, C)` and per-token classes
/// ([`TokenClasses<L, C>`]): `-mean log softmax(z_t)[y_t]` over the positions `t` whose class
/// is not [`IGNORE`] (padding). A batch with no counted position has loss 0.
///
/// A class outside `0..C` other than [`IGNORE`] is only possible in a tensor built by hand (data
/// sets check their targets); it is left out like [`IGNORE`].
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> std::result::Result<(), CpuError> {
/// let dev = Cpu::default();
/// // one sequence of 2 positions over 2 classes: uniform logits, then padding
/// let logits = dev.tensor_from_vec(vec![0.0f32, 0.0, 5.0, -5.0], (1, Const::<2>, Const::<2>));
/// let targets = dev.tensor_from_vec(vec![1usize, IGNORE], (1, Const::<2>));
/// let loss = TokenCrossentropy.try_loss(logits, &targets)?;
/// assert!((loss.array() - std::f32::consts::LN_2).abs() < 1e-6);
/// # Ok(()) }
/// ```
///
/// **PyTorch equivalent**: `nn.CrossEntropyLoss(ignore_index=…)` on `logits.view(-1, C)`.
/// **Keras equivalent**: `SparseCategoricalCrossentropy(from_logits=True)` with a mask.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenCrossentropy;

impl<E: Dtype, const L: usize, const C: usize>
    Loss<(usize, Const<L>, Const<C>), TokenClasses<L, C>, E> for TokenCrossentropy
{
    fn try_loss<D: Device<E>, Tp: Tape<E, D>>(
        &self,
        output: Tensor<(usize, Const<L>, Const<C>), E, D, Tp>,
        targets: &Tensor<(usize, Const<L>), usize, D>,
    ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err> {
        let n = output.shape().0 * L;
        let classes = targets.as_vec();
        let counted = |c: usize| c != IGNORE && c < C;
        let total = classes.iter().filter(|&&c| counted(c)).count();
        let share = if total == 0 { 0.0 } else { 1.0 / total as f64 };
        let weights: Vec<E> = classes
            .iter()
            .map(|&c| E::from_f64(if counted(c) { share } else { 0.0 }).unwrap_or_default())
            .collect();
        let index: Vec<usize> = classes
            .iter()
            .map(|&c| if counted(c) { c } else { 0 })
            .collect();
        let dev = output.device().clone();
        let index = dev.try_tensor_from_vec(index, (n,))?;
        let weights = dev.try_tensor_from_vec(weights, (n,))?;
        output
            .try_reshape_like(&(n, Const::<C>))?
            .try_log_softmax::<Axis<1>>()?
            .try_select(index)?
            .try_mul(weights)?
            .try_sum()?
            .try_negate()
    }
}
