//! The tutorial's formulas against numbers worked out by hand, values and derivatives: sigmoid
//! and ReLU after typenet's `Linear` (its fused kernel, forward and backward, with the weight 1
//! and the bias 0, so the layer passes the activation's numbers through), and typenet's
//! `MeanSquaredError` and `BinaryCrossentropy`.

use typenet::prelude::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// `(Linear<1, 1>, A)` in f64 with weight 1 and bias 0: its output is `A(x)`.
fn identity_then<A: BuildOnDevice<Cpu, f64>>(
    dev: &Cpu,
) -> (typenet::nn::modules::Linear<1, 1, f64, Cpu>, A::Built) {
    let mut m = dev.build_module::<(Linear<1, 1>, A), f64>();
    m.0.weight = dev.tensor([[1.0]]);
    m.0.bias = dev.tensor([0.0]);
    m
}

/// σ(x) = 1 / (1 + e^{−x}), σ'(x) = σ(x)(1 − σ(x)).
/// x = 0:    σ = 1/2,                      σ' = 1/2 · 1/2 = 0.25.
/// x = ln 3: e^{−x} = 1/3, σ = 1/(4/3) = 0.75, σ' = 0.75 · 0.25 = 0.1875.
/// x = −ln 3 (symmetry σ(−x) = 1 − σ(x)): σ = 0.25, σ' = 0.1875.
/// Through the layer, with L = Σ σ(w·x + b) at w = 1, b = 0: ∂L/∂x = σ'(x) · w = σ'(x),
/// ∂L/∂b = Σ σ'(x) = 0.25 + 0.1875 + 0.1875 = 0.625, ∂L/∂w = Σ σ'(x) · x = 0 (the ±ln 3 terms
/// cancel and x = 0 adds nothing).
#[test]
fn sigmoid_values_and_derivatives() {
    let dev = Cpu::default();
    let m = identity_then::<Sigmoid>(&dev);
    let x = dev.tensor([[0.0f64], [3f64.ln()], [-(3f64.ln())]]);
    let y = m.forward(x.leaky_trace());
    let values = y.array();
    let grads = y.sum().backward();
    let dy = grads.get(&x).array();
    for (got, want) in values.iter().zip([0.5, 0.75, 0.25]) {
        assert!(close(got[0], want, 1e-15), "σ = {}, want {want}", got[0]);
    }
    for (got, want) in dy.iter().zip([0.25, 0.1875, 0.1875]) {
        assert!(close(got[0], want, 1e-15), "σ' = {}, want {want}", got[0]);
    }
    let db = grads.get(&m.0.bias).array()[0];
    assert!(close(db, 0.625, 1e-15), "∂L/∂b = {db}");
    let dw = grads.get(&m.0.weight).array()[0][0];
    assert!(close(dw, 0.0, 1e-15), "∂L/∂w = {dw}");
}

/// relu(x) = max(x, 0); relu'(x) = 1 for x > 0, 0 for x < 0.
/// x = [−2, −0.5, 0.5, 3] → [0, 0, 0.5, 3], derivative [0, 0, 1, 1].
/// Through the layer (w = 1, b = 0, L = Σ relu(w·x + b)): ∂L/∂b = Σ relu'(x) = 2 and
/// ∂L/∂w = Σ relu'(x) · x = 0.5 + 3 = 3.5, all exact in binary floating point.
#[test]
fn relu_values_and_derivatives() {
    let dev = Cpu::default();
    let m = identity_then::<ReLU>(&dev);
    let x = dev.tensor([[-2.0f64], [-0.5], [0.5], [3.0]]);
    let y = m.forward(x.leaky_trace());
    assert_eq!(y.array(), [[0.0], [0.0], [0.5], [3.0]]);
    let grads = y.sum().backward();
    assert_eq!(grads.get(&x).array(), [[0.0], [0.0], [1.0], [1.0]]);
    assert_eq!(grads.get(&m.0.bias).array(), [2.0]);
    assert_eq!(grads.get(&m.0.weight).array(), [[3.5]]);
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
