//! proptest strategies for gradient checks: f64 tensors of any shape, inputs kept away from the
//! kinks of piecewise functions, and models initialised from a seed.
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
    seed().prop_filter_map("the model could not be built", |s| {
        Cpu::seed_from_u64(s).try_build_module::<M, f64>().ok()
    })
}

fn from_values<S: Shape>(
    shape: S,
    values: impl Strategy<Value = Vec<f64>>,
) -> impl Strategy<Value = Tensor<S, f64, Cpu>> {
    values.prop_filter_map("the tensor could not be allocated", move |v| {
        Cpu::default().try_tensor_from_vec(v, shape).ok()
    })
}
