//! Every loss of `typenet::losses`, written in f64 with the same dfdx ops as its f32 `Loss` impl,
//! passes the gradient check with respect to the predictions (64 cases each), and its f64 value
//! matches the f32 `Loss` impl's on the same data (which ties the two formulas together).
//!
//! `Loss` is f32-only (its `try_loss` is fixed to `f32`), so the gradients are checked on these
//! f64 twins through `gradcheck_fn`.

use proptest::prelude::*;
use typenet::gradcheck::strategy;
use typenet::prelude::*;

const B: usize = 4;
const N: usize = 3;
type Out = (usize, Const<N>);
type Taped = Tensor<Out, f64, Cpu, OwnedTape<f64, Cpu>>;
type Scalar = std::result::Result<Tensor<Rank0, f64, Cpu, OwnedTape<f64, Cpu>>, CpuError>;
type TestResult = std::result::Result<(), TestCaseError>;

fn batch(range: std::ops::Range<f64>) -> impl Strategy<Value = Tensor<Out, f64, Cpu>> {
    strategy::tensor_with_shape((B, Const::<N>), range)
}

fn to_f32(t: &Tensor<Out, f64, Cpu>) -> Tensor<Out, f32, Cpu> {
    Cpu::default().tensor_from_vec(t.as_vec().iter().map(|&v| v as f32).collect(), *t.shape())
}

/// The f32 `Loss` and its f64 twin agree on the value, then the twin passes the gradient check.
fn check<L: Loss<Out, Values<N>>>(
    loss: L,
    twin: impl Fn(Taped, &Tensor<Out, f64, Cpu>) -> Scalar,
    y: &Tensor<Out, f64, Cpu>,
    t: &Tensor<Out, f64, Cpu>,
) -> TestResult {
    let f32_value = loss.try_loss(to_f32(y), &to_f32(t))?.array() as f64;
    let f64_value = twin(y.leaky_trace(), t)?.array();
    prop_assert!(
        (f32_value - f64_value).abs() <= 1e-5 * (1.0 + f64_value.abs()),
        "{} vs {}",
        f32_value,
        f64_value
    );
    gradcheck_fn(|y| twin(y, t), y, &GradCheckConfig::default())?;
    Ok(())
}

fn mse(y: Taped, t: &Tensor<Out, f64, Cpu>) -> Scalar {
    y.try_sub(t.clone())?.try_square()?.try_mean()
}

fn mae(y: Taped, t: &Tensor<Out, f64, Cpu>) -> Scalar {
    y.try_sub(t.clone())?.try_abs()?.try_mean()
}

fn huber(y: Taped, t: &Tensor<Out, f64, Cpu>) -> Scalar {
    y.try_huber_error(t.clone(), 1.0)?.try_mean()
}

fn bce(y: Taped, t: &Tensor<Out, f64, Cpu>) -> Scalar {
    let p = y.try_clamp(1e-7, 1.0 - 1e-7)?;
    let one_minus_t = t.clone().try_negate()?.try_add(1.0)?;
    let pos = p.with_empty_tape().try_ln()?.try_mul(t.clone())?;
    let neg = p
        .try_negate()?
        .try_add(1.0)?
        .try_ln()?
        .try_mul(one_minus_t)?;
    pos.try_add(neg)?.try_mean()?.try_negate()
}

fn bce_logits(y: Taped, t: &Tensor<Out, f64, Cpu>) -> Scalar {
    y.try_bce_with_logits(t.clone())?.try_mean()
}

fn cce(y: Taped, t: &Tensor<Out, f64, Cpu>) -> Scalar {
    y.try_log_softmax::<Axis<1>>()?
        .try_mul(t.clone())?
        .try_sum::<(usize,), _>()?
        .try_mean()?
        .try_negate()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mean_squared_error(y in batch(-3.0..3.0), t in batch(-3.0..3.0)) {
        check(MeanSquaredError, mse, &y, &t)?;
    }

    /// `|y − t|` has a kink at 0: predictions are kept at least 0.01 from the targets.
    #[test]
    fn mean_absolute_error(t in batch(-3.0..3.0), d in strategy::tensor_away_from_zero::<Rank2<B, N>>(0.01..2.0)) {
        let y = t.clone() + Cpu::default().tensor_from_vec(d.as_vec(), (B, Const::<N>));
        check(MeanAbsoluteError, mae, &y, &t)?;
    }

    /// Huber's first derivative is continuous at |e| = δ (only the second jumps): no margin.
    #[test]
    fn huber_loss(y in batch(-3.0..3.0), t in batch(-3.0..3.0)) {
        check(Huber::default(), huber, &y, &t)?;
    }

    /// Probabilities inside the clamp `[1e-7, 1 − 1e-7]`, soft targets.
    #[test]
    fn binary_crossentropy(y in batch(0.02..0.98), t in batch(0.0..1.0)) {
        check(BinaryCrossentropy, bce, &y, &t)?;
    }

    #[test]
    fn binary_crossentropy_with_logits(y in batch(-5.0..5.0), t in batch(0.0..1.0)) {
        check(BinaryCrossentropyWithLogits, bce_logits, &y, &t)?;
    }

    #[test]
    fn categorical_crossentropy(y in batch(-4.0..4.0), raw in batch(-2.0..2.0)) {
        let t = raw.softmax::<Axis<1>>(); // soft targets: rows sum to 1
        check(CategoricalCrossentropy, cce, &y, &t)?;
    }

    #[test]
    fn sparse_categorical_crossentropy(y in batch(-4.0..4.0), labels in prop::collection::vec(0..N, B)) {
        let dev = Cpu::default();
        let idx = dev.tensor_from_vec(labels, (B,));
        let f32_value = SparseCategoricalCrossentropy.try_loss(to_f32(&y), &idx)?.array() as f64;
        let twin = |y: Taped| -> Scalar {
            y.try_log_softmax::<Axis<1>>()?.try_select(idx.clone())?.try_mean()?.try_negate()
        };
        let f64_value = twin(y.leaky_trace())?.array();
        prop_assert!((f32_value - f64_value).abs() <= 1e-5 * (1.0 + f64_value.abs()));
        gradcheck_fn(twin, &y, &GradCheckConfig::default())?;
    }
}
