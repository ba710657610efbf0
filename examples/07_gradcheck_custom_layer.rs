//! Tutorial 7: a user-defined layer, declared as a type the way dfdx declares `Linear`, used in a
//! model tuple and gradient-checked: Swish with a learnable slope per feature, `y = x · σ(β ⊙ x)`
//! (Ramachandran et al. 2017; β = 1 is SiLU).
//!
//! ```text
//! cargo run --release --example 07_gradcheck_custom_layer
//! ```
//!
//! Result (measured, seed 0): every tensor `ok`, largest absolute error 5.9e-10:
//! ```text
//! tensor                elements   checked max abs err max rel err    worst index  status
//! 0.weight                    32        32   5.852e-10    9.362e-8         [6, 1]  ok
//! 0.bias                       8         8   2.601e-10    2.887e-8            [1]  ok
//! 1.beta                       8         8   5.701e-10    2.447e-8            [6]  ok
//! 2.weight                    24        24   4.748e-10    5.630e-8         [1, 4]  ok
//! 2.bias                       3         3   4.064e-10   4.093e-10            [1]  ok
//! input                       24        24   3.213e-10    8.722e-9         [1, 0]  ok
//!
//! gradient check passed for all 6 tensors
//! ```
//! A tensor outside the tolerances makes `gradcheck` return an error, and the run fails (exit
//! code 1).
use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use typenet::prelude::*;

/// The builder: a zero-sized type that names the layer in a model type.
pub mod builder {
    /// Swish with a learnable slope for each of `N` features.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Swish<const N: usize>;
}

/// The built layer: one parameter tensor, β.
#[derive(Debug, Clone)]
pub struct Swish<const N: usize, E: Dtype, D: Storage<E>> {
    /// The slope of each feature; initialised to 1 (SiLU).
    pub beta: Tensor<Rank1<N>, E, D>,
}

impl<const N: usize, E: Dtype, D: Device<E>> BuildOnDevice<D, E> for builder::Swish<N> {
    type Built = Swish<N, E, D>;
}

impl<const N: usize, E: Dtype, D: Device<E>> TensorCollection<E, D> for Swish<N, E, D> {
    type To<E2: Dtype, D2: Device<E2>> = Swish<N, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> std::result::Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            // The init rule sits next to the parameter: β = 1.
            Self::tensor(
                "beta",
                |s| &s.beta,
                |s| &mut s.beta,
                TensorOptions::reset_to_ones(),
            ),
            |beta| Swish { beta },
        )
    }
}

/// Batched forward, with or without a tape: `x · σ(β ⊙ x)`, β broadcast over the batch.
impl<B: Dim, const N: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>
    Module<Tensor<(B, Const<N>), E, D, T>> for Swish<N, E, D>
{
    type Output = Tensor<(B, Const<N>), E, D, T>;
    type Error = D::Err;

    fn try_forward(
        &self,
        x: Tensor<(B, Const<N>), E, D, T>,
    ) -> std::result::Result<Self::Output, D::Err> {
        let shape = *x.shape();
        let beta = self.beta.retaped::<T>().try_broadcast_like(&shape)?;
        let gate = x.with_empty_tape().try_mul(beta)?.try_sigmoid()?;
        x.try_mul(gate)
    }
}

/// Training mode is the same function: the layer has no state that a forward pass updates.
impl<const N: usize, E: Dtype, D: Device<E>> NonMutableModule for Swish<N, E, D> {}

/// The user's model: the custom layer between two dfdx layers.
type Model = (Linear<4, 8>, builder::Swish<8>, Linear<8, 3>);

fn main() -> typenet::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Model, f64>();
    // Start β away from 1 so its gradient is not a special case.
    model.1.beta = dev.sample_uniform::<Rank1<8>>() + 0.5;
    let x: Tensor<Rank2<6, 4>, f64, _> = dev.sample_normal();

    let report = gradcheck(&mut model, &x, &GradCheckConfig::default())?;
    println!("{report}");
    println!(
        "gradient check passed for all {} tensors",
        report.tensors.len()
    );
    Ok(())
}
