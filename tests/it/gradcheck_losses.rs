//! Every loss of `typenet::losses`, the shipped `Loss` impl run in f64, passes the gradient check
//! with respect to the predictions (64 cases each; central differences are the oracle). On the
//! same data its f32 value matches its f64 value up to f32 rounding, and on a fixed input both
//! match a value computed by hand.

use proptest::prelude::*;
use typenet::data::Target;
use typenet::gradcheck::strategy;
use typenet::prelude::*;

const B: usize = 4;
const N: usize = 3;
type Out = (usize, Const<N>);
type TestResult = std::result::Result<(), TestCaseError>;

fn batch(range: std::ops::Range<f64>) -> impl Strategy<Value = Tensor<Out, f64, Cpu>> {
    strategy::tensor_with_shape((B, Const::<N>), range)
}

fn to_f32(t: &Tensor<Out, f64, Cpu>) -> Tensor<Out, f32, Cpu> {
    Cpu::default().tensor_from_vec(t.as_vec().iter().map(|&v| v as f32).collect(), *t.shape())
}

/// The loss's value on `y` in f32 and in f64 (targets `t32` and `t64`: the same targets in each
/// float type).
fn values<T: Target, L>(
    loss: &L,
    y: &Tensor<Out, f64, Cpu>,
    t32: &T::Batch<f32, Cpu>,
    t64: &T::Batch<f64, Cpu>,
) -> std::result::Result<(f64, f64), CpuError>
where
    L: Loss<Out, T, f32> + Loss<Out, T, f64>,
{
    let f32_value = Loss::<Out, T, f32>::try_loss(loss, to_f32(y), t32)?.array() as f64;
    let f64_value = Loss::<Out, T, f64>::try_loss(loss, y.clone(), t64)?.array();
    Ok((f32_value, f64_value))
}

/// The loss's f32 and f64 values agree, then its f64 gradient passes the gradient check.
fn check<T: Target, L>(
    loss: L,
    y: &Tensor<Out, f64, Cpu>,
    t32: &T::Batch<f32, Cpu>,
    t64: &T::Batch<f64, Cpu>,
) -> TestResult
where
    L: Loss<Out, T, f32> + Loss<Out, T, f64>,
{
    let (f32_value, f64_value) = values::<T, L>(&loss, y, t32, t64)?;
    prop_assert!(
        (f32_value - f64_value).abs() <= 1e-5 * (1.0 + f64_value.abs()),
        "{} vs {}",
        f32_value,
        f64_value
    );
    gradcheck_fn(
        |y| Loss::<Out, T, f64>::try_loss(&loss, y, t64),
        y,
        &GradCheckConfig::default(),
    )?;
    Ok(())
}

/// [`check`] for a loss on real-valued targets.
fn check_values<L>(loss: L, y: &Tensor<Out, f64, Cpu>, t: &Tensor<Out, f64, Cpu>) -> TestResult
where
    L: Loss<Out, Values<N>, f32> + Loss<Out, Values<N>, f64>,
{
    check::<Values<N>, L>(loss, y, &to_f32(t), t)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mean_squared_error(y in batch(-3.0..3.0), t in batch(-3.0..3.0)) {
        check_values(MeanSquaredError, &y, &t)?;
    }

    /// `|y − t|` has a kink at 0: predictions are kept at least 0.01 from the targets.
    #[test]
    fn mean_absolute_error(t in batch(-3.0..3.0), d in strategy::tensor_away_from_zero::<Rank2<B, N>>(0.01..2.0)) {
        let y = t.clone() + Cpu::default().tensor_from_vec(d.as_vec(), (B, Const::<N>));
        check_values(MeanAbsoluteError, &y, &t)?;
    }

    /// Huber's first derivative is continuous at |e| = δ (only the second jumps): no margin.
    #[test]
    fn huber_loss(y in batch(-3.0..3.0), t in batch(-3.0..3.0)) {
        check_values(Huber::default(), &y, &t)?;
    }

    /// Probabilities inside the clamp `[1e-7, 1 − 1e-7]`, soft targets.
    #[test]
    fn binary_crossentropy(y in batch(0.02..0.98), t in batch(0.0..1.0)) {
        check_values(BinaryCrossentropy, &y, &t)?;
    }

    #[test]
    fn binary_crossentropy_with_logits(y in batch(-5.0..5.0), t in batch(0.0..1.0)) {
        check_values(BinaryCrossentropyWithLogits, &y, &t)?;
    }

    #[test]
    fn categorical_crossentropy(y in batch(-4.0..4.0), raw in batch(-2.0..2.0)) {
        let t = raw.softmax::<Axis<1>>(); // soft targets: rows sum to 1
        check_values(CategoricalCrossentropy, &y, &t)?;
    }

    #[test]
    fn sparse_categorical_crossentropy(y in batch(-4.0..4.0), labels in prop::collection::vec(0..N, B)) {
        let idx = Cpu::default().tensor_from_vec(labels, (B,));
        check::<Classes<N>, _>(SparseCategoricalCrossentropy, &y, &idx, &idx)?;
    }
}

/// Asserts that `loss` gives `expected` (computed by hand) on `y`, in f64 (to 1e-9) and in f32
/// (up to f32 rounding, 1e-6 relative).
fn assert_fixed<T: Target, L>(
    loss: L,
    y: [f64; 2 * N],
    t32: &T::Batch<f32, Cpu>,
    t64: &T::Batch<f64, Cpu>,
    expected: f64,
) where
    L: Loss<Out, T, f32> + Loss<Out, T, f64> + std::fmt::Debug,
{
    let y = Cpu::default().tensor_from_vec(y.to_vec(), (2, Const::<N>));
    let (f32_value, f64_value) = values::<T, L>(&loss, &y, t32, t64).unwrap();
    assert!(
        (f64_value - expected).abs() <= 1e-9,
        "{loss:?} in f64: {f64_value}, by hand {expected}"
    );
    assert!(
        (f32_value - expected).abs() <= 1e-6 * (1.0 + expected),
        "{loss:?} in f32: {f32_value}, by hand {expected}"
    );
}

/// [`assert_fixed`] for a loss on real-valued targets `t`.
fn assert_fixed_values<L>(loss: L, y: [f64; 2 * N], t: [f64; 2 * N], expected: f64)
where
    L: Loss<Out, Values<N>, f32> + Loss<Out, Values<N>, f64> + std::fmt::Debug,
{
    let t = Cpu::default().tensor_from_vec(t.to_vec(), (2, Const::<N>));
    assert_fixed::<Values<N>, L>(loss, y, &to_f32(&t), &t, expected);
}

#[test]
fn every_loss_gives_the_hand_computed_value_in_f32_and_f64() {
    // y = [[1, 2, 0], [0.5, −1, 3]], t = [[0, 2, 1], [0.5, 1, 1]]: errors e = y − t =
    // [1, 0, −1, 0, −2, 2].
    let (y, t) = (
        [1.0, 2.0, 0.0, 0.5, -1.0, 3.0],
        [0.0, 2.0, 1.0, 0.5, 1.0, 1.0],
    );
    // MSE: squares [1, 0, 1, 0, 4, 4], sum 10, mean 10/6.
    assert_fixed_values(MeanSquaredError, y, t, 10.0 / 6.0);
    // MAE: |e| = [1, 0, 1, 0, 2, 2], sum 6, mean 1.
    assert_fixed_values(MeanAbsoluteError, y, t, 1.0);
    // Huber, δ = 1: ½e² for |e| < 1, else |e| − ½: [½, 0, ½, 0, 3/2, 3/2], sum 4, mean 4/6.
    assert_fixed_values(Huber::default(), y, t, 4.0 / 6.0);

    // BCE: p = [[0.8, 0.25, 0.5], [0.5, 0.9, 0.1]], t = [[1, 0, 1], [0, 0, 1]]; each term is
    // −ln p (t = 1) or −ln(1 − p) (t = 0): −ln 0.8 = 0.2231436, −ln 0.75 = 0.2876821,
    // −ln 0.5 = 0.6931472 (twice), −ln 0.1 = 2.3025851 (twice); sum 6.5022902, mean 1.0837150.
    let bce = (-(0.8f64.ln() + 0.75f64.ln() + 2.0 * 0.5f64.ln() + 2.0 * 0.1f64.ln())) / 6.0;
    assert!((bce - 1.0837150).abs() < 1e-7);
    assert_fixed_values(
        BinaryCrossentropy,
        [0.8, 0.25, 0.5, 0.5, 0.9, 0.1],
        [1.0, 0.0, 1.0, 0.0, 0.0, 1.0],
        bce,
    );

    // BCE from logits, one term max(z, 0) − z t + ln(1 + e^−|z|):
    // z = 0, t = 1: ln 2 = 0.6931472;        z = 2, t = 0: 2 + ln(1 + e^−2) = 2.1269280;
    // z = −1, t = 1: 1 + ln(1 + e^−1) = 1.3132617 (max(z, 0) − z t = 0 + 1);
    // z = 1, t = ½: 1 − ½ + ln(1 + e^−1) = 0.8132617;  z = −3, t = 0: ln(1 + e^−3) = 0.0485874;
    // z = ½, t = ¼: ½ − ⅛ + ln(1 + e^−½) = 0.8490770; sum 5.8442629, mean 0.9740438.
    let softplus = |z: f64| (1.0 + (-z.abs()).exp()).ln();
    let bce_logits = (2.0f64.ln()
        + 2.0
        + softplus(2.0)
        + 1.0
        + softplus(1.0)
        + 0.5
        + softplus(1.0)
        + softplus(3.0)
        + 0.375
        + softplus(0.5))
        / 6.0;
    assert!((bce_logits - 0.9740438).abs() < 1e-7);
    assert_fixed_values(
        BinaryCrossentropyWithLogits,
        [0.0, 2.0, -1.0, 1.0, -3.0, 0.5],
        [1.0, 0.0, 1.0, 0.5, 0.0, 0.25],
        bce_logits,
    );

    // Logits [[0, 0, 0], [2, 0, 0]]: log softmax of row 0 is −ln 3 everywhere; of row 1,
    // [2 − ln(e² + 2), −ln(e² + 2), −ln(e² + 2)], with ln(e² + 2) = 2.2395448.
    let logits = [0.0, 0.0, 0.0, 2.0, 0.0, 0.0];
    let lse = (2.0f64.exp() + 2.0).ln();
    assert!((lse - 2.2395448).abs() < 1e-7);
    // Sparse CCE, labels [1, 0]: (ln 3 + (ln(e² + 2) − 2)) / 2 = (1.0986123 + 0.2395448) / 2
    // = 0.6690785.
    let labels = Cpu::default().tensor_from_vec(vec![1usize, 0], (2,));
    let scce = (3.0f64.ln() + lse - 2.0) / 2.0;
    assert!((scce - 0.6690785).abs() < 1e-7);
    assert_fixed::<Classes<N>, _>(
        SparseCategoricalCrossentropy,
        logits,
        &labels,
        &labels,
        scce,
    );
    // CCE, targets [[0.2, 0.3, 0.5], [0, 1, 0]]: row 0 gives ln 3 (the targets sum to 1), row 1
    // ln(e² + 2); mean (1.0986123 + 2.2395448) / 2 = 1.6690785.
    let cce = (3.0f64.ln() + lse) / 2.0;
    assert!((cce - 1.6690785).abs() < 1e-7);
    assert_fixed_values(
        CategoricalCrossentropy,
        logits,
        [0.2, 0.3, 0.5, 0.0, 1.0, 0.0],
        cce,
    );
}
