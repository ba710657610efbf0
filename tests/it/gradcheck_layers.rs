//! dfdx layers, dropout with a fixed mask, residual blocks and whole models pass the gradient
//! check, for random seeds and inputs (64 cases each).

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use proptest::prelude::*;
use typenet::gradcheck::strategy;
use typenet::prelude::*;

type TestResult = std::result::Result<(), TestCaseError>;

fn check<M: GradCheckModel<S>, S: Shape>(model: &mut M, x: &Tensor<S, f64, Cpu>) -> TestResult {
    gradcheck(model, x, &GradCheckConfig::default())?;
    Ok(())
}

/// dfdx's real `Dropout` (p = 0.5) with the same mask on every forward pass: the input is moved
/// (on its tape) onto a device seeded with `SEED`, from which `dropout` draws its mask seed.
#[derive(Debug, Clone, Copy, Default)]
struct SeededDropout<const SEED: u64>;

impl<const SEED: u64> TensorCollection<f64, Cpu> for SeededDropout<SEED> {
    type To<E2: Dtype, D2: Device<E2>> = SeededDropout<SEED>;
    fn iter_tensors<V: ModuleVisitor<Self, f64, Cpu>>(
        visitor: &mut V,
    ) -> std::result::Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields((), |()| SeededDropout)
    }
}

impl<const SEED: u64, S: Shape> ModuleMut<Tensor<S, f64, Cpu, OwnedTape<f64, Cpu>>>
    for SeededDropout<SEED>
{
    type Output = Tensor<S, f64, Cpu, OwnedTape<f64, Cpu>>;
    type Error = CpuError;
    fn try_forward_mut(
        &mut self,
        x: Tensor<S, f64, Cpu, OwnedTape<f64, Cpu>>,
    ) -> std::result::Result<Self::Output, CpuError> {
        let (x, tape) = x.split_tape();
        let zeros = Cpu::seed_from_u64(SEED).try_zeros_like(x.shape())?;
        // dfdx's CPU add writes into whichever operand's buffer is unshared, and the result keeps
        // that operand's device; holding a second handle on `x` makes it write into `zeros`, so
        // the sum lives on the seeded device. The tape still leads back to `x`.
        let shared = x.clone();
        let moved = zeros.put_tape(tape).try_add(x)?;
        drop(shared);
        Dropout { p: 0.5 }.try_forward_mut(moved)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn linear(mut m in strategy::model::<Linear<5, 3>>(), x in strategy::tensor::<Rank2<4, 5>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn linear_single_sample(mut m in strategy::model::<Linear<5, 3>>(), x in strategy::tensor::<Rank1<5>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn layer_norm(mut m in strategy::model::<(Linear<4, 6>, LayerNorm1D<6>)>(), x in strategy::tensor::<Rank2<3, 4>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn batch_norm_training_mode(mut m in strategy::model::<(Linear<4, 5>, BatchNorm1D<5>)>(), x in strategy::tensor::<Rank2<6, 4>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn batch_norm_2d_training_mode(mut m in strategy::model::<(Conv2D<2, 3, 3>, BatchNorm2D<3>)>(), x in strategy::tensor::<Rank4<3, 2, 4, 5>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn dropout_with_fixed_mask(seed in strategy::seed(), x in strategy::tensor::<Rank2<4, 6>>(-2.0..2.0)) {
        let dev = Cpu::seed_from_u64(seed);
        let mut m = (dev.build_module::<Linear<6, 6>, f64>(), SeededDropout::<7>, dev.build_module::<Linear<6, 2>, f64>());
        check(&mut m, &x)?;
    }

    #[test]
    fn residual_block(mut m in strategy::model::<(Linear<4, 4>, Residual<(Linear<4, 4>, Tanh)>, Linear<4, 2>)>(), x in strategy::tensor::<Rank2<3, 4>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }

    /// The 784-128-10 MLP, narrowed so every coordinate is checked.
    #[test]
    fn small_mlp(mut m in strategy::model::<(Linear<12, 8>, ReLU, Linear<8, 3>)>(), x in strategy::tensor::<Rank2<4, 12>>(-1.0..1.0)) {
        check(&mut m, &x)?;
    }

    /// Softmax and cross-entropy-shaped heads on a deeper stack.
    #[test]
    fn deep_stack(mut m in strategy::model::<(Linear<5, 6>, Sigmoid, (Linear<6, 6>, FastGeLU), LayerNorm1D<6>, Linear<6, 3>, LogSoftmax)>(), x in strategy::tensor::<Rank2<2, 5>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The 784-128-10 MLP at real size (101,770 parameters): 16 sampled coordinates per tensor.
    #[test]
    fn real_size_mlp_sampled(mut m in strategy::model::<(Linear<784, 128>, ReLU, Linear<128, 10>)>(), x in strategy::tensor::<Rank2<2, 784>>(0.0..1.0), seed in strategy::seed()) {
        let config = GradCheckConfig { max_elements: Some(16), seed, ..Default::default() };
        let report = gradcheck(&mut m, &x, &config)?;
        prop_assert_eq!(report.tensors.len(), 5);
        prop_assert_eq!(report.get("0.weight").map(|t| (t.elements, t.checked)), Some((784 * 128, 16)));
    }
}

#[test]
fn report_names_every_parameter_then_the_input() -> typenet::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let mut m = dev.build_module::<(Linear<3, 4>, ReLU, (Linear<4, 4>, BatchNorm1D<4>)), f64>();
    let x: Tensor<Rank2<5, 3>, f64, _> = dev.sample_normal();
    let report = gradcheck(&mut m, &x, &GradCheckConfig::default())?;
    let names: Vec<_> = report.tensors.iter().map(|t| t.name.as_str()).collect();
    // Batch norm's running statistics are not trainable, so they are not checked.
    assert_eq!(
        names,
        [
            "0.weight",
            "0.bias",
            "2.0.weight",
            "2.0.bias",
            "2.1.scale",
            "2.1.bias",
            "input"
        ]
    );
    println!("{report}");
    Ok(())
}
