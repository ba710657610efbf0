//! The checker can fail: a layer whose backward is 1% off and a layer that drops one
//! parameter's gradient are rejected on every random case, and the error names the tensor.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use proptest::prelude::*;
use typenet::gradcheck::strategy;
use typenet::prelude::*;

const CORRECT: u8 = 0;
/// Forward unchanged, every gradient through the layer ×1.01: `y' = 1.01 y − 0.01 stop_grad(y)`.
const BACKWARD_TIMES_1_01: u8 = 1;
/// The shift is added without its tape, so its gradient never arrives.
const DROPS_SHIFT_GRADIENT: u8 = 2;

/// `y = x ⊙ scale + shift` per feature, with a deliberate bug chosen by `BUG`.
#[derive(Debug, Clone)]
struct ScaleShift<const N: usize, const BUG: u8, E: Dtype, D: Storage<E>> {
    scale: Tensor<Rank1<N>, E, D>,
    shift: Tensor<Rank1<N>, E, D>,
}

impl<const N: usize, const BUG: u8> TensorCollection<f64, Cpu> for ScaleShift<N, BUG, f64, Cpu> {
    type To<E2: Dtype, D2: Device<E2>> = ScaleShift<N, BUG, E2, D2>;
    fn iter_tensors<V: ModuleVisitor<Self, f64, Cpu>>(
        visitor: &mut V,
    ) -> std::result::Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "scale",
                    |s| &s.scale,
                    |s| &mut s.scale,
                    TensorOptions::reset_to_ones(),
                ),
                Self::tensor(
                    "shift",
                    |s| &s.shift,
                    |s| &mut s.shift,
                    TensorOptions::reset_to_zeros(),
                ),
            ),
            |(scale, shift)| ScaleShift { scale, shift },
        )
    }
}

type Taped<S> = Tensor<S, f64, Cpu, OwnedTape<f64, Cpu>>;

impl<const B: usize, const N: usize, const BUG: u8> ModuleMut<Taped<Rank2<B, N>>>
    for ScaleShift<N, BUG, f64, Cpu>
{
    type Output = Taped<Rank2<B, N>>;
    type Error = CpuError;
    fn try_forward_mut(
        &mut self,
        x: Taped<Rank2<B, N>>,
    ) -> std::result::Result<Self::Output, CpuError> {
        let scale = self
            .scale
            .retaped::<OwnedTape<f64, Cpu>>()
            .try_broadcast()?;
        let mut y = x.try_mul(scale)?;
        if BUG == BACKWARD_TIMES_1_01 {
            let frozen = y.retaped::<NoneTape>().try_mul(0.01)?;
            y = y.try_mul(1.01)?.try_sub(frozen)?;
        }
        if BUG == DROPS_SHIFT_GRADIENT {
            // A copy with a new id: `clone`, `retaped` and `broadcast` keep the id, and with it
            // the route of the gradient back to `shift`.
            let copy = Cpu::default().try_tensor_from_vec(self.shift.as_vec(), (Const::<N>,))?;
            y.try_add(copy.try_broadcast()?)
        } else {
            y.try_add(
                self.shift
                    .retaped::<OwnedTape<f64, Cpu>>()
                    .try_broadcast()?,
            )
        }
    }
}

/// `(Linear<3, 4>, ScaleShift<4, BUG>)` from a seed, scale and shift drawn from N(0, 1).
fn model<const BUG: u8>(
    seed: u64,
) -> (
    modules::Linear<3, 4, f64, Cpu>,
    ScaleShift<4, BUG, f64, Cpu>,
) {
    let dev = Cpu::seed_from_u64(seed);
    let linear = dev.build_module::<Linear<3, 4>, f64>();
    (
        linear,
        ScaleShift {
            scale: dev.sample_normal(),
            shift: dev.sample_normal(),
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn correct_layer_passes(seed in strategy::seed(), x in strategy::tensor::<Rank2<5, 3>>(-2.0..2.0)) {
        gradcheck(&mut model::<CORRECT>(seed), &x, &GradCheckConfig::default())?;
    }

    #[test]
    fn backward_off_by_one_percent_is_rejected(seed in strategy::seed(), x in strategy::tensor::<Rank2<5, 3>>(-2.0..2.0)) {
        let result = gradcheck(&mut model::<BACKWARD_TIMES_1_01>(seed), &x, &GradCheckConfig::default());
        // Everything upstream of the bug is scaled too: the first tensor visited already fails.
        match result {
            Err(Error::GradCheck { tensor, analytic, numeric, .. }) => {
                prop_assert_eq!(tensor, "0.weight");
                prop_assert!((analytic / numeric - 1.01).abs() < 1e-4, "{} vs {}", analytic, numeric);
            }
            other => prop_assert!(false, "expected a gradient-check failure, got {:?}", other),
        }
    }

    #[test]
    fn dropped_parameter_gradient_is_rejected(seed in strategy::seed(), x in strategy::tensor::<Rank2<5, 3>>(-2.0..2.0)) {
        let result = gradcheck(&mut model::<DROPS_SHIFT_GRADIENT>(seed), &x, &GradCheckConfig::default());
        match result {
            Err(Error::GradCheck { tensor, analytic, .. }) => {
                prop_assert_eq!(tensor, "1.shift");
                prop_assert_eq!(analytic, 0.0);
            }
            other => prop_assert!(false, "expected a gradient-check failure, got {:?}", other),
        }
    }
}

#[test]
fn error_message_names_tensor_and_index() {
    let x = Cpu::seed_from_u64(1).sample_normal::<Rank2<5, 3>>();
    let err = gradcheck(
        &mut model::<DROPS_SHIFT_GRADIENT>(0),
        &x,
        &GradCheckConfig::default(),
    );
    let message = err.map(|_| ()).unwrap_err().to_string();
    assert!(
        message.starts_with("gradient check failed: 1.shift["),
        "{message}"
    );
    assert!(message.contains("the tape's gradient is 0e0"), "{message}");
}
