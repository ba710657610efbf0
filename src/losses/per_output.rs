//! [`Losses`]: one loss per output of a model with several outputs, with loss weights.

use super::Loss;
use crate::data::{BatchShape, Packed, Packing, PerOutput, Target};
use dfdx::prelude::*;

/// One loss per output, summed with weights: the loss of a model that ends in
/// [`Pack`](crate::nn::Pack) and trains on [`PerOutput`] targets.
///
/// `Losses::weighted((SparseCategoricalCrossentropy, MeanSquaredError), [1.0, 0.5])` is
/// `1.0 · crossentropy(output 0) + 0.5 · mse(output 1)`. The compiler pairs each loss with its
/// output and targets: a loss that does not fit its output is a compile error naming both.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> std::result::Result<(), CpuError> {
/// let dev = Cpu::default();
/// // one sample: logits for 2 classes, then one value
/// let y = dev.tensor_from_vec(vec![0.0f32, 0.0, 3.0], (1, Packed::<(Rank1<2>, Rank1<1>)>::new()));
/// let class = dev.tensor_from_vec(vec![1usize], (1,));
/// let value = dev.tensor_from_vec(vec![1.0f32], (1, Const::<1>));
/// let loss = Losses::weighted((SparseCategoricalCrossentropy, MeanSquaredError), [1.0, 0.5])
///     .try_loss(y, &(class, value))?;
/// // ln 2 for the uniform logits, 0.5 · (3 − 1)² for the value
/// assert!((loss.array() - (std::f32::consts::LN_2 + 2.0)).abs() < 1e-6);
/// # Ok(()) }
/// ```
///
/// **Keras equivalent**: `compile(loss=[…, …], loss_weights=[1.0, 0.5])`.
#[derive(Debug, Clone, Copy)]
pub struct Losses<L, const N: usize> {
    losses: L,
    weights: [f64; N],
}

impl<L, const N: usize> Losses<L, N> {
    /// The losses of the outputs, in order (a tuple), with their weights: `N` weights for `N`
    /// losses (`[1.0; N]` for a plain sum).
    pub fn weighted(losses: L, weights: [f64; N]) -> Self {
        Losses { losses, weights }
    }
    /// The weight of each output's loss, in order.
    pub fn weights(&self) -> [f64; N] {
        self.weights
    }
}

macro_rules! losses {
    ($n:literal; [$s0:ident $t0:ident $l0:ident $i0:tt] $(, [$s:ident $t:ident $l:ident $i:tt])+) => {
        impl<
            E: Dtype,
            $s0: BatchShape, $t0: Target, $l0: Loss<$s0::Batched, $t0, E>,
            $($s: BatchShape, $t: Target, $l: Loss<$s::Batched, $t, E>,)+
        > Loss<(usize, Packed<($s0, $($s,)+)>), PerOutput<($t0, $($t,)+)>, E>
            for Losses<($l0, $($l,)+), $n>
        {
            fn binary_threshold(&self) -> f32 {
                self.losses.0.binary_threshold()
            }
            fn output_threshold(&self, output: usize) -> f32 {
                let thresholds = [self.losses.$i0.binary_threshold(), $(self.losses.$i.binary_threshold(),)+];
                thresholds.get(output).copied().unwrap_or(0.5)
            }
            fn try_loss<D: Device<E>, Tp: Tape<E, D>>(
                &self,
                output: Tensor<(usize, Packed<($s0, $($s,)+)>), E, D, Tp>,
                targets: &<PerOutput<($t0, $($t,)+)> as Target>::Batch<E, D>,
            ) -> Result<Tensor<Rank0, E, D, Tp>, D::Err> {
                let parts = <($s0, $($s,)+) as Packing>::unpack(output)?;
                let weight = |k: usize| E::from_f64(self.weights[k]).unwrap_or_default();
                let total = self.losses.$i0.try_loss(parts.$i0, &targets.$i0)?.try_mul(weight($i0))?;
                $(
                    let term = self.losses.$i.try_loss(parts.$i, &targets.$i)?.try_mul(weight($i))?;
                    let total = total.try_add(term)?;
                )+
                Ok(total)
            }
        }
    };
}

losses!(2; [SA TA LA 0], [SB TB LB 1]);
losses!(3; [SA TA LA 0], [SB TB LB 1], [SC TC LC 2]);
losses!(4; [SA TA LA 0], [SB TB LB 1], [SC TC LC 2], [SF TF LF 3]);
