//! proptest strategies for gradient checks: f64 tensors of any shape, inputs kept away from the
//! kinks of piecewise functions, and models initialised from a seed.
//!
//! The short forms build on the CPU; [`tensor_on`] and [`model_on`] take the device (e.g. `Cuda`
//! with the `cuda` feature), so the same property tests run on a GPU.
//!
//! # Example
//! ```
//! # use typenet::prelude::*;
//! use proptest::prelude::*;
//! use typenet::gradcheck::strategy;
//!
//! proptest! {
//!     #![proptest_config(ProptestConfig::with_cases(8))]
//!     fn relu_layer_has_right_gradients(
//!         mut model in strategy::model::<(Linear<3, 2>, ReLU)>(),
//!         x in strategy::tensor::<Rank2<4, 3>>(-1.0..1.0),
//!     ) {
//!         gradcheck(&mut model, &x, &GradCheckConfig::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
//!     }
//! }
//! # fn main() { relu_layer_has_right_gradients(); }
//! ```

use dfdx::prelude::*;
use proptest::prelude::*;
use std::ops::Range;

/// An f64 tensor of the constant shape `S`, each element uniform in `range`.
pub fn tensor<S: ConstShape>(range: Range<f64>) -> impl Strategy<Value = Tensor<S, f64, Cpu>> {
    tensor_with_shape(S::default(), range)
}

/// An f64 tensor of the (possibly runtime) shape `shape`, each element uniform in `range`.
pub fn tensor_with_shape<S: Shape>(
    shape: S,
    range: Range<f64>,
) -> impl Strategy<Value = Tensor<S, f64, Cpu>> {
    from_values(shape, prop::collection::vec(range, shape.num_elements()))
}

/// An f64 tensor of shape `S` whose elements have magnitude in `magnitude` and either sign: with
/// `magnitude.start > 0` it stays that far from the kink at 0 of ReLU and `abs`.
pub fn tensor_away_from_zero<S: ConstShape>(
    magnitude: Range<f64>,
) -> impl Strategy<Value = Tensor<S, f64, Cpu>> {
    let element = (magnitude, any::<bool>()).prop_map(|(m, neg)| if neg { -m } else { m });
    from_values(S::default(), prop::collection::vec(element, S::NUMEL))
}

/// An f64 tensor of shape `S` with elements in `range` and no near-ties: any two elements differ
/// by at least `gap` (as long as `gap · N ≤ range` width for `N` elements; else by width / N), so
/// `max`-like ops have a unique, stable winner within a finite-difference step.
pub fn tensor_distinct<S: ConstShape>(
    range: Range<f64>,
    gap: f64,
) -> impl Strategy<Value = Tensor<S, f64, Cpu>> {
    let n = S::NUMEL.max(1);
    let step = (range.end - range.start) / n as f64;
    let jitter = (step - gap).max(0.0);
    let start = range.start;
    // Slot i holds one value in [start + i·step, start + i·step + jitter]; then shuffle the slots.
    let values = prop::collection::vec(0.0..=jitter, S::NUMEL)
        .prop_map(move |j| {
            j.iter()
                .enumerate()
                .map(|(i, dj)| start + i as f64 * step + dj)
                .collect::<Vec<_>>()
        })
        .prop_shuffle();
    from_values(S::default(), values)
}

/// A seed for `Cpu::seed_from_u64`, so a failing case shrinks to and reports a seed.
pub fn seed() -> impl Strategy<Value = u64> {
    any::<u64>()
}

/// A model of type `M` built in f64 on a `Cpu` seeded from a random seed (dfdx's own
/// initialisation for each layer).
pub fn model<M>() -> impl Strategy<Value = M::Built>
where
    M: BuildOnDevice<Cpu, f64>,
    M::Built: std::fmt::Debug,
{
    model_on::<M, Cpu>(Cpu::seed_from_u64)
}

/// An f64 tensor of shape `shape` on `dev`, each element uniform in `range` ([`tensor_with_shape`]
/// on any device).
pub fn tensor_on<S: Shape, D: Device<f64>>(
    dev: D,
    shape: S,
    range: Range<f64>,
) -> impl Strategy<Value = Tensor<S, f64, D>>
where
    Tensor<S, f64, D>: std::fmt::Debug,
{
    from_values_on(
        dev,
        shape,
        prop::collection::vec(range, shape.num_elements()),
    )
}

/// A model of type `M` built in f64 on the device `device(seed)` returns for a random seed
/// ([`model`] on any device: `model_on::<M, _>(Cuda::seed_from_u64)`).
pub fn model_on<M, D>(device: impl Fn(u64) -> D) -> impl Strategy<Value = M::Built>
where
    D: Device<f64> + DeviceBuildExt,
    M: BuildOnDevice<D, f64>,
    M::Built: std::fmt::Debug,
{
    seed().prop_filter_map("the model could not be built", move |s| {
        device(s).try_build_module::<M, f64>().ok()
    })
}

fn from_values<S: Shape>(
    shape: S,
    values: impl Strategy<Value = Vec<f64>>,
) -> impl Strategy<Value = Tensor<S, f64, Cpu>> {
    from_values_on(Cpu::default(), shape, values)
}

fn from_values_on<S: Shape, D: Device<f64>>(
    dev: D,
    shape: S,
    values: impl Strategy<Value = Vec<f64>>,
) -> impl Strategy<Value = Tensor<S, f64, D>>
where
    Tensor<S, f64, D>: std::fmt::Debug,
{
    values.prop_filter_map("the tensor could not be allocated", move |v| {
        dev.try_tensor_from_vec(v, shape).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn device_strategies_build_on_the_given_device() {
        let mut runner = TestRunner::deterministic();
        let t = tensor_on(Cpu::default(), (3usize, Const::<2>), -1.0..1.0)
            .new_tree(&mut runner)
            .expect("a value")
            .current();
        assert_eq!(t.shape().concrete(), [3, 2]);
        assert!(t.as_vec().iter().all(|v| (-1.0..1.0).contains(v)));
        let m = model_on::<crate::prelude::Linear<2, 3>, _>(Cpu::seed_from_u64)
            .new_tree(&mut runner)
            .expect("a model")
            .current();
        assert_eq!(m.weight.shape().concrete(), [3, 2]);
    }
}
