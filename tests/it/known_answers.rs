//! The brief's formulas against numbers worked out by hand: sigmoid and ReLU (dfdx's ops) and
//! typenet's `MeanSquaredError` and `BinaryCrossentropy`, values and derivatives.

use typenet::prelude::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// σ(x) = 1 / (1 + e^{−x}), σ'(x) = σ(x)(1 − σ(x)).
/// x = 0:    σ = 1/2,                      σ' = 1/2 · 1/2 = 0.25.
/// x = ln 3: e^{−x} = 1/3, σ = 1/(4/3) = 0.75, σ' = 0.75 · 0.25 = 0.1875.
/// x = −ln 3 (symmetry σ(−x) = 1 − σ(x)): σ = 0.25, σ' = 0.1875.
#[test]
fn sigmoid_values_and_derivatives() {
    let dev = Cpu::default();
    let x = dev.tensor([0.0f64, 3f64.ln(), -(3f64.ln())]);
    let y = x.leaky_trace().sigmoid();
    let values = y.array();
    let grads = y.sum().backward();
    let dy = grads.get(&x).array();
    for (got, want) in values.iter().zip([0.5, 0.75, 0.25]) {
        assert!(close(*got, want, 1e-15), "σ = {got}, want {want}");
    }
    for (got, want) in dy.iter().zip([0.25, 0.1875, 0.1875]) {
        assert!(close(*got, want, 1e-15), "σ' = {got}, want {want}");
    }
}

/// relu(x) = max(x, 0); relu'(x) = 1 for x > 0, 0 for x < 0.
/// x = [−2, −0.5, 0.5, 3] → [0, 0, 0.5, 3], derivative [0, 0, 1, 1].
#[test]
fn relu_values_and_derivatives() {
    let dev = Cpu::default();
    let x = dev.tensor([-2.0f64, -0.5, 0.5, 3.0]);
    let y = x.leaky_trace().relu();
    assert_eq!(y.array(), [0.0, 0.0, 0.5, 3.0]);
    let grads = y.sum().backward();
    assert_eq!(grads.get(&x).array(), [0.0, 0.0, 1.0, 1.0]);
}

/// MSE = mean (y − t)². y = [[1, 2], [3, 4]], t = [[0, 4], [3, 2]]:
/// errors e = [1, −2, 0, 2], squares [1, 4, 0, 4], mean = 9/4 = 2.25.
/// ∂MSE/∂y = 2e/n = 2e/4 = e/2 = [0.5, −1, 0, 1].
#[test]
fn mean_squared_error_value_and_derivative() -> typenet::Result<()> {
    let dev = Cpu::default();
    let y = dev.tensor_from_vec(vec![1.0f32, 2.0, 3.0, 4.0], (2, Const::<2>));
    let t = dev.tensor_from_vec(vec![0.0f32, 4.0, 3.0, 2.0], (2, Const::<2>));
    let loss = MeanSquaredError.try_loss(y.leaky_trace(), &t)?;
    assert!(
        close(loss.array() as f64, 2.25, 1e-6),
        "MSE = {}",
        loss.array()
    );
    let grads = loss.backward();
    assert_eq!(grads.get(&y).as_vec(), vec![0.5, -1.0, 0.0, 1.0]);
    Ok(())
}

/// BCE = −mean [t ln p + (1 − t) ln(1 − p)]; ∂/∂p of one term: −t/p + (1 − t)/(1 − p).
/// p = [0.8, 0.25], t = [1, 0]:
///   terms: −ln 0.8 = 0.2231436, −ln 0.75 = 0.2876821; mean = 0.5108256 / 2 = 0.2554128.
///   derivatives: −1/0.8 = −1.25 and 1/(1 − 0.25) = 4/3, each divided by n = 2:
///   [−0.625, 0.6666667].
#[test]
fn binary_crossentropy_value_and_derivative() -> typenet::Result<()> {
    let dev = Cpu::default();
    let p = dev.tensor_from_vec(vec![0.8f32, 0.25], (1, Const::<2>));
    let t = dev.tensor_from_vec(vec![1.0f32, 0.0], (1, Const::<2>));
    let loss = BinaryCrossentropy.try_loss(p.leaky_trace(), &t)?;
    assert!(
        close(loss.array() as f64, 0.2554128, 1e-6),
        "BCE = {}",
        loss.array()
    );
    let grads = loss.backward();
    let dp = grads.get(&p).as_vec();
    assert!(close(dp[0] as f64, -0.625, 1e-6), "∂BCE/∂p0 = {}", dp[0]);
    assert!(close(dp[1] as f64, 2.0 / 3.0, 1e-6), "∂BCE/∂p1 = {}", dp[1]);
    Ok(())
}
