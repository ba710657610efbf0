//! Re-initialising a built model's weights with Keras's defaults.

use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut,
};
use dfdx::prelude::*;
use rand_distr::Uniform;

/// Sets every trainable weight matrix to Glorot-uniform values
/// `U(±√(6 / (fan_in + fan_out)))` and every trainable vector (biases) to zero — Keras's
/// `Dense` defaults (`glorot_uniform`, `zeros`). Layers with other vector parameters, such as
/// normalisation scales, keep their own initialisation.
///
/// dfdx initialises `Linear` like PyTorch (`U(±1/√fan_in)` for weights and biases); both train
/// the 784-128-10 MLP of the tutorial, and this gives the Keras recipe its Keras starting point. The values come
/// from the model's device RNG, so a seeded device gives a reproducible model.
///
/// # Errors
/// Device errors.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::seed_from_u64(0);
/// let mut model = dev.build_module::<(Linear<784, 128>, ReLU, Linear<128, 10>), f32>();
/// glorot_uniform(&mut model)?;
/// let limit = (6.0f32 / (784.0 + 128.0)).sqrt();
/// assert!(model.0.weight.as_vec().iter().all(|w| w.abs() <= limit));
/// assert!(model.0.bias.as_vec().iter().all(|&b| b == 0.0));
/// # Ok(()) }
/// ```
///
/// **Keras equivalent**: `Dense(kernel_initializer="glorot_uniform", bias_initializer="zeros")`.
pub fn glorot_uniform<M: TensorCollection<f32, D>, D: Device<f32>>(
    model: &mut M,
) -> crate::Result<()> {
    M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut Glorot,
    })
    .map_err(crate::Error::device)?;
    Ok(())
}

struct Glorot;

impl<D: Device<f32>> TensorVisitor<f32, D> for Glorot {
    type Viewer = ViewTensorMut;
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        t: &mut Tensor<S, f32, D>,
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        if !opts.do_gradient_update {
            return Ok(None);
        }
        let dims: Vec<usize> = t.shape().concrete().into();
        match dims.as_slice() {
            // dfdx stores Linear's weight as (out, in)
            [fan_out, fan_in] => {
                let limit = (6.0 / (fan_in + fan_out) as f32).sqrt();
                t.try_fill_with_distr(Uniform::new(-limit, limit))?;
            }
            // A vector whose default initialisation is random is a dense bias (Keras: zeros);
            // constant ones (normalisation scales and shifts) keep their values.
            [_] if !is_constant(t) => t.try_fill_with_zeros()?,
            _ => {}
        }
        Ok(None)
    }
}

fn is_constant<S: Shape, D: Device<f32>>(t: &Tensor<S, f32, D>) -> bool {
    let v = t.as_vec();
    v.windows(2).all(|w| w[0] == w[1])
}

/// The initialisation of a built layer's tensor in dfdx and PyTorch (`nn.Linear`, `nn.Conv2d`):
/// uniform in `±1/√fan_in`, where the fan-in is `IN · K · K` (`K = 1` for a dense layer), for
/// the weight and the bias alike.
pub(crate) fn uniform_fan_in<const IN: usize, const K: usize, S, E, D>() -> TensorOptions<S, E, D>
where
    S: ConstShape,
    E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
    D: Device<E>,
{
    TensorOptions::reset_with(|t| {
        let fan_in = E::from_usize((IN * K * K).max(1)).unwrap_or_else(E::one);
        let b = E::one() / fan_in.sqrt();
        t.try_fill_with_distr(Uniform::new(-b, b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroes_dense_biases_but_keeps_norm_scales() {
        let dev = Cpu::seed_from_u64(1);
        let mut m = dev.build_module::<(Linear<4, 3>, LayerNorm1D<3>), f32>();
        glorot_uniform(&mut m).unwrap();
        assert!(m.0.bias.as_vec().iter().all(|&b| b == 0.0));
        assert!(m.1.gamma.as_vec().iter().all(|&g| g == 1.0));
        assert!(m.1.beta.as_vec().iter().all(|&b| b == 0.0));
        let limit = (6.0f32 / 7.0).sqrt();
        let w = m.0.weight.as_vec();
        assert!(w.iter().all(|v| v.abs() <= limit) && w.iter().any(|v| v.abs() > 0.5));
    }
}
