//! typenet against numbers recorded once from PyTorch (`scripts/pytorch_fixtures.py` wrote
//! `tests/fixtures/pytorch/*.json`, float32 on the CPU): every layer (output, and the gradients
//! of `sum(y · gy)` with respect to the input and each parameter), every loss (value and
//! gradient with respect to the outputs) and every optimizer (the weights after each of five
//! steps from fixed weights with fixed gradients).
//!
//! Each element must agree to `1e-5` relative: `|got − want| ≤ 1e-5 · max(|want|, m / 100)`,
//! where `m` is the largest magnitude in that tensor (so an element that cancels to near zero is
//! held to the tensor's scale rather than to its own). Optimizers are compared on the distance
//! moved from the initial weights, `w_k − w_0`, which is what the update rule decides.

use serde_json::Value;
use typenet::prelude::*;

const RELATIVE: f64 = 1e-5;

/// The records of fixture file `name`.
fn records(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/pytorch/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut file: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    match file["records"].take() {
        Value::Array(v) => v,
        other => panic!("{path}: `records` is {other}"),
    }
}

/// The record called `name`.
fn find<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no fixture `{name}`"))
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap_or_else(|| panic!("not a number: {x}")) as f32)
        .collect()
}

/// Asserts `got` equals `want` element by element to [`RELATIVE`], scaled as the module says.
fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(0.0f64, |m, &w| m.max((w as f64).abs())) / 100.0;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g as f64, w as f64);
        let tol = RELATIVE * w.abs().max(scale);
        assert!(
            (g - w).abs() <= tol,
            "{what}[{i}]: typenet {g:e}, PyTorch {w:e} (differ by {:e}, allowed {tol:e})",
            (g - w).abs()
        );
    }
}

type Traced<S> = Tensor<S, f32, Cpu, OwnedTape<f32, Cpu>>;

/// Runs `forward` on the record's input, checks the output and the input's gradient, and
/// returns the gradients for the parameters' checks.
fn check_layer<S, So>(
    rec: &Value,
    forward: impl FnOnce(Traced<S>) -> Traced<So>,
) -> (Gradients<f32, Cpu>, String)
where
    S: ConstShape,
    So: Shape,
{
    let dev = Cpu::default();
    let name = rec["name"].as_str().unwrap_or_default().to_string();
    let x: Tensor<S, f32, Cpu> = dev.tensor_from_vec(floats(&rec["x"]), S::default());
    let y = forward(x.leaky_trace());
    assert_close(&format!("{name}: y"), &y.as_vec(), &floats(&rec["y"]));
    let gy = dev.tensor_from_vec(floats(&rec["gy"]), *y.shape());
    let grads = (y * gy).sum().backward();
    let gx = grads.get(&x).as_vec();
    assert_close(&format!("{name}: ∂/∂x"), &gx, &floats(&rec["grad_x"]));
    (grads, name)
}

/// Sets `t` to the record's parameter `key` (PyTorch's name).
fn set<S: Shape>(t: &mut Tensor<S, f32, Cpu>, rec: &Value, key: &str) {
    t.copy_from(&floats(&rec["params"][key]));
}

fn check_grad<S: Shape>(
    grads: &Gradients<f32, Cpu>,
    t: &Tensor<S, f32, Cpu>,
    rec: &Value,
    key: &str,
) {
    let name = rec["name"].as_str().unwrap_or_default();
    let want = floats(&rec["grad_params"][key]);
    assert_close(&format!("{name}: ∂/∂{key}"), &grads.get(t).as_vec(), &want);
}

#[test]
fn linear_matches_pytorch() {
    let all = records("layers");
    let rec = find(&all, "linear");
    let mut m = Cpu::default().build_module::<Linear<5, 3>, f32>();
    set(&mut m.weight, rec, "weight");
    set(&mut m.bias, rec, "bias");
    let (g, _) = check_layer::<Rank2<4, 5>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.weight, rec, "weight");
    check_grad(&g, &m.bias, rec, "bias");
}

#[test]
fn conv2d_matches_pytorch_with_and_without_stride_and_padding() {
    let all = records("layers");
    let rec = find(&all, "conv2d");
    let mut m = Cpu::default().build_module::<Conv2D<2, 3, 3>, f32>();
    set(&mut m.weight, rec, "weight");
    set(&mut m.bias, rec, "bias");
    let (g, _) = check_layer::<Rank4<2, 2, 6, 6>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.weight, rec, "weight");
    check_grad(&g, &m.bias, rec, "bias");

    let rec = find(&all, "conv2d_stride2_pad1");
    let mut m = Cpu::default().build_module::<Conv2D<2, 3, 3, 2, 1>, f32>();
    set(&mut m.weight, rec, "weight");
    set(&mut m.bias, rec, "bias");
    let (g, _) = check_layer::<Rank4<2, 2, 7, 7>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.weight, rec, "weight");
    check_grad(&g, &m.bias, rec, "bias");
}

#[test]
fn pools_match_pytorch() {
    let all = records("layers");
    let dev = Cpu::default();
    let m = dev.build_module::<MaxPool2D<2, 2>, f32>();
    check_layer::<Rank4<2, 3, 6, 6>, _>(find(&all, "maxpool2d_k2_s2"), |x| m.forward(x));
    let m = dev.build_module::<MaxPool2D<3, 1, 1>, f32>();
    check_layer::<Rank4<2, 3, 5, 5>, _>(find(&all, "maxpool2d_k3_s1_p1"), |x| m.forward(x));
    let m = dev.build_module::<AvgPool2D<2, 2>, f32>();
    check_layer::<Rank4<2, 3, 6, 6>, _>(find(&all, "avgpool2d_k2_s2"), |x| m.forward(x));
    // PyTorch's count_include_pad=True: the divisor is kernel² at the border too
    let m = dev.build_module::<AvgPool2D<3, 2, 1>, f32>();
    check_layer::<Rank4<2, 3, 7, 7>, _>(find(&all, "avgpool2d_k3_s2_p1"), |x| m.forward(x));
}

#[test]
fn flatten_matches_pytorch() {
    let all = records("layers");
    let m = Cpu::default().build_module::<Flatten2D, f32>();
    check_layer::<Rank4<2, 3, 4, 4>, _>(find(&all, "flatten"), |x| m.forward(x));
}

#[test]
fn activations_match_pytorch() {
    let all = records("layers");
    type X = Rank2<3, 7>;
    check_layer::<X, _>(find(&all, "relu"), |x| ReLU.forward(x));
    check_layer::<X, _>(find(&all, "sigmoid"), |x| Sigmoid.forward(x));
    check_layer::<X, _>(find(&all, "tanh"), |x| Tanh.forward(x));
    // nn.GELU() is the exact (erf) form; approximate="tanh" is dfdx's FastGeLU
    check_layer::<X, _>(find(&all, "gelu"), |x| ExactGeLU.forward(x));
    check_layer::<X, _>(find(&all, "gelu_tanh"), |x| FastGeLU.forward(x));
    check_layer::<X, _>(find(&all, "leaky_relu_0.01"), |x| {
        LeakyReLU(0.01).forward(x)
    });
    check_layer::<X, _>(find(&all, "softmax"), |x| Softmax.forward(x));
    check_layer::<X, _>(find(&all, "log_softmax"), |x| LogSoftmax.forward(x));
}

/// dfdx's `AccurateGeLU` has PyTorch's values but not its gradient (its backward pass misses the
/// `1/√2` of `erf(x/√2)`'s derivative); [`ExactGeLU`] is the layer to use.
#[test]
fn dfdx_accurate_gelu_values_match_but_its_gradient_does_not() {
    let all = records("layers");
    let rec = find(&all, "gelu");
    let dev = Cpu::default();
    let x: Tensor<Rank2<3, 7>, f32, Cpu> =
        dev.tensor_from_vec(floats(&rec["x"]), Default::default());
    let y = AccurateGeLU.forward(x.leaky_trace());
    assert_close("gelu: y", &y.as_vec(), &floats(&rec["y"]));
    let gy = dev.tensor_from_vec(floats(&rec["gy"]), Default::default());
    let g = (y * gy).sum().backward().get(&x).as_vec();
    let want = floats(&rec["grad_x"]);
    let worst = g
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst > 0.01,
        "dfdx's AccurateGeLU gradient now matches PyTorch ({worst})"
    );
}

#[test]
fn batch_norm_in_training_matches_pytorch() {
    let all = records("layers");
    let rec = find(&all, "batchnorm1d_train");
    let mut m = Cpu::default().build_module::<BatchNorm1D<4>, f32>();
    set(&mut m.scale, rec, "weight");
    set(&mut m.bias, rec, "bias");
    let (g, _) = check_layer::<Rank2<6, 4>, _>(rec, |x| m.forward_mut(x));
    check_grad(&g, &m.scale, rec, "weight");
    check_grad(&g, &m.bias, rec, "bias");
    let name = "batchnorm1d_train";
    assert_close(
        &format!("{name}: running_mean"),
        &m.running_mean.as_vec(),
        &floats(&rec["running_mean"]),
    );
    assert_close(
        &format!("{name}: running_var"),
        &m.running_var.as_vec(),
        &floats(&rec["running_var"]),
    );
}

/// Checks loss `loss` on the record's outputs and value targets of width `N`.
fn check_value_loss<const N: usize, L: Loss<(usize, Const<N>), Values<N>>>(rec: &Value, loss: L) {
    let dev = Cpu::default();
    let out = floats(&rec["output"]);
    let rows = out.len() / N;
    let y = dev.tensor_from_vec(out, (rows, Const::<N>));
    let t = dev.tensor_from_vec(floats(&rec["target"]), (rows, Const::<N>));
    let value = loss.try_loss(y.leaky_trace(), &t).unwrap();
    finish_loss(rec, &y, value);
}

fn finish_loss<const N: usize>(
    rec: &Value,
    y: &Tensor<(usize, Const<N>), f32, Cpu>,
    value: Tensor<Rank0, f32, Cpu, OwnedTape<f32, Cpu>>,
) {
    let name = rec["name"].as_str().unwrap_or_default();
    let want = rec["loss"].as_f64().unwrap() as f32;
    assert_close(&format!("{name}: loss"), &[value.array()], &[want]);
    let grads = value.backward();
    assert_close(
        &format!("{name}: ∂loss/∂output"),
        &grads.get(y).as_vec(),
        &floats(&rec["grad"]),
    );
}

#[test]
fn class_losses_match_pytorch() {
    let all = records("losses");
    let dev = Cpu::default();
    let rec = find(&all, "sparse_categorical_crossentropy");
    let out = floats(&rec["output"]);
    let y = dev.tensor_from_vec(out, (5, Const::<4>));
    let labels: Vec<usize> = rec["target"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let t = dev.tensor_from_vec(labels, (5,));
    let value = SparseCategoricalCrossentropy
        .try_loss(y.leaky_trace(), &t)
        .unwrap();
    finish_loss(rec, &y, value);
    check_value_loss::<4, _>(
        find(&all, "categorical_crossentropy"),
        CategoricalCrossentropy,
    );
}

#[test]
fn regression_losses_match_pytorch() {
    let all = records("losses");
    check_value_loss::<3, _>(find(&all, "mean_squared_error"), MeanSquaredError);
    check_value_loss::<3, _>(find(&all, "mean_absolute_error"), MeanAbsoluteError);
    check_value_loss::<3, _>(find(&all, "huber_1"), Huber { delta: 1.0 });
    check_value_loss::<3, _>(find(&all, "huber_0.5"), Huber { delta: 0.5 });
}

#[test]
fn binary_losses_match_pytorch() {
    let all = records("losses");
    // away from saturation Keras's clip and PyTorch's clamp agree
    check_value_loss::<2, _>(find(&all, "binary_crossentropy"), BinaryCrossentropy);
    check_value_loss::<2, _>(find(&all, "binary_crossentropy"), BceLoss);
    // saturated: loss 100 per clamped log and gradients up to 1e12, as BCELoss
    check_value_loss::<2, _>(find(&all, "bce_loss_saturated"), BceLoss);
    check_value_loss::<2, _>(
        find(&all, "binary_crossentropy_with_logits"),
        BinaryCrossentropyWithLogits,
    );
}

/// Runs `cfg`'s optimizer through the record's steps and compares the distance moved.
fn check_optimizer<C>(rec: &Value, cfg: C)
where
    C: OptimizerConfig<Tensor<Rank1<8>, f32, Cpu>, Cpu>,
{
    let name = rec["name"].as_str().unwrap_or_default();
    let dev = Cpu::default();
    let w0 = floats(&rec["w0"]);
    let mut w: Tensor<Rank1<8>, f32, Cpu> = dev.zeros();
    w.copy_from(&w0);
    let mut opt = cfg.build(&w);
    let steps = rec["grads"].as_array().unwrap();
    let after = rec["after"].as_array().unwrap();
    assert_eq!(steps.len(), 5, "{name}: steps");
    for (k, (g, want)) in steps.iter().zip(after).enumerate() {
        let g: Tensor<Rank1<8>, f32, Cpu> = dev.tensor_from_vec(floats(g), Default::default());
        // ∂ sum(w · g) / ∂w = g exactly
        let grads = (w.leaky_trace() * g).sum().backward();
        opt.update(&mut w, &grads).unwrap();
        let moved = |v: &[f32]| -> Vec<f32> {
            v.iter()
                .zip(&w0)
                .map(|(&a, &b)| (a as f64 - b as f64) as f32)
                .collect()
        };
        assert_close(
            &format!("{name}: step {} moved", k + 1),
            &moved(&w.as_vec()),
            &moved(&floats(want)),
        );
    }
}

#[test]
fn sgd_matches_pytorch() {
    let all = records("optimizers");
    let sgd = |momentum, weight_decay| SgdConfig {
        lr: 0.1,
        momentum,
        weight_decay,
    };
    check_optimizer(find(&all, "sgd"), sgd(None, None));
    check_optimizer(
        find(&all, "sgd_momentum"),
        sgd(Some(Momentum::Classic(0.9)), None),
    );
    check_optimizer(
        find(&all, "sgd_nesterov"),
        sgd(Some(Momentum::Nesterov(0.9)), None),
    );
    check_optimizer(
        find(&all, "sgd_momentum_weight_decay"),
        sgd(Some(Momentum::Classic(0.9)), Some(WeightDecay::L2(0.01))),
    );
}

#[test]
fn adam_matches_pytorch() {
    let all = records("optimizers");
    let adam = AdamPrecise {
        lr: 0.01,
        ..Default::default()
    };
    check_optimizer(find(&all, "adam"), adam);
    check_optimizer(find(&all, "adam_defaults"), AdamPrecise::default());
    check_optimizer(
        find(&all, "adam_weight_decay"),
        AdamPrecise {
            weight_decay: Some(WeightDecay::L2(0.1)),
            ..adam
        },
    );
    check_optimizer(
        find(&all, "adamw"),
        AdamPrecise {
            weight_decay: Some(WeightDecay::Decoupled(0.1)),
            ..adam
        },
    );
    // resumable through the same rule
    check_optimizer(find(&all, "adam"), Resumable(adam));
}

#[test]
fn rmsprop_matches_pytorch() {
    let all = records("optimizers");
    check_optimizer(find(&all, "rmsprop"), RmsProp::default());
    check_optimizer(
        find(&all, "rmsprop_centered_momentum"),
        RmsProp {
            momentum: 0.9,
            centered: true,
            ..Default::default()
        },
    );
    check_optimizer(
        find(&all, "rmsprop_weight_decay"),
        RmsProp {
            alpha: 0.9,
            eps: 1e-6,
            weight_decay: Some(WeightDecay::L2(0.1)),
            ..Default::default()
        },
    );
}

/// Sets a batch norm's scale, bias and running statistics from the record (`*_0`: before the
/// pass); `check_stats` then compares the running statistics after it.
macro_rules! set_norm {
    ($m:expr, $rec:expr) => {{
        set(&mut $m.scale, $rec, "weight");
        set(&mut $m.bias, $rec, "bias");
        $m.running_mean.copy_from(&floats(&$rec["running_mean_0"]));
        $m.running_var.copy_from(&floats(&$rec["running_var_0"]));
    }};
}

fn check_stats<const C: usize>(
    rec: &Value,
    mean: &Tensor<Rank1<C>, f32, Cpu>,
    var: &Tensor<Rank1<C>, f32, Cpu>,
) {
    let name = rec["name"].as_str().unwrap_or_default();
    let (m, v) = (&rec["running_mean"], &rec["running_var"]);
    assert_close(&format!("{name}: running_mean"), &mean.as_vec(), &floats(m));
    assert_close(&format!("{name}: running_var"), &var.as_vec(), &floats(v));
}

/// Inference (dfdx's `forward`, no tape): the output from the running statistics, which stay
/// as they were. dfdx runs batch norm's inference only without a tape, so there is no gradient
/// to compare.
fn check_inference<S: ConstShape, So: Shape>(
    rec: &Value,
    forward: impl FnOnce(Tensor<S, f32, Cpu>) -> Tensor<So, f32, Cpu>,
) {
    let name = rec["name"].as_str().unwrap_or_default();
    let x = Cpu::default().tensor_from_vec(floats(&rec["x"]), S::default());
    assert_close(
        &format!("{name}: y"),
        &forward(x).as_vec(),
        &floats(&rec["y"]),
    );
    assert_eq!(rec["running_mean_0"], rec["running_mean"], "{name}");
}

#[test]
fn batch_norm_2d_matches_pytorch_in_training_and_inference() {
    let all = records("layers");
    let dev = Cpu::default();
    let rec = find(&all, "batchnorm2d_train");
    let mut m = dev.build_module::<BatchNorm2D<3>, f32>();
    set_norm!(m, rec);
    let (g, _) = check_layer::<Rank4<4, 3, 5, 5>, _>(rec, |x| m.forward_mut(x));
    check_grad(&g, &m.scale, rec, "weight");
    check_grad(&g, &m.bias, rec, "bias");
    check_stats(rec, &m.running_mean, &m.running_var);

    let rec = find(&all, "batchnorm2d_eval");
    let mut m = dev.build_module::<BatchNorm2D<3>, f32>();
    set_norm!(m, rec);
    check_inference::<Rank4<4, 3, 5, 5>, _>(rec, |x| m.forward(x));
    check_stats(rec, &m.running_mean, &m.running_var);

    let rec = find(&all, "batchnorm1d_eval");
    let mut m = dev.build_module::<BatchNorm1D<4>, f32>();
    set_norm!(m, rec);
    check_inference::<Rank2<6, 4>, _>(rec, |x| m.forward(x));
    check_stats(rec, &m.running_mean, &m.running_var);
}

#[test]
fn layer_norm_matches_pytorch() {
    let all = records("layers");
    let rec = find(&all, "layernorm1d");
    let mut m = Cpu::default().build_module::<LayerNorm1D<6>, f32>();
    set(&mut m.gamma, rec, "weight");
    set(&mut m.beta, rec, "bias");
    let (g, _) = check_layer::<Rank2<4, 6>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.gamma, rec, "weight");
    check_grad(&g, &m.beta, rec, "bias");
}

#[test]
fn unbiased_linear_prelu_and_bias2d_match_pytorch() {
    let all = records("layers");
    let dev = Cpu::default();
    let rec = find(&all, "unbiased_linear");
    let mut m = dev.build_module::<UnbiasedLinear<5, 3>, f32>();
    set(&mut m.weight, rec, "weight");
    let (g, _) = check_layer::<Rank2<4, 5>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.weight, rec, "weight");

    let rec = find(&all, "prelu");
    let mut m = dev.build_module::<PReLU, f32>();
    set(&mut m.a, rec, "weight");
    let (g, _) = check_layer::<Rank2<3, 7>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.a, rec, "weight");

    let rec = find(&all, "prelu1d");
    let mut m = dev.build_module::<PReLU1D<Const<5>>, f32>();
    set(&mut m.a, rec, "weight");
    let (g, _) = check_layer::<Rank2<4, 5>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.a, rec, "weight");

    let rec = find(&all, "bias2d");
    let mut m = dev.build_module::<Bias2D<3>, f32>();
    set(&mut m.bias, rec, "bias");
    let (g, _) = check_layer::<Rank4<2, 3, 2, 2>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.bias, rec, "bias");
}

#[test]
fn elementwise_layers_match_pytorch() {
    let all = records("layers");
    type X = Rank2<3, 7>;
    check_layer::<X, _>(find(&all, "sin"), |x| Sin.forward(x));
    check_layer::<X, _>(find(&all, "cos"), |x| Cos.forward(x));
    check_layer::<X, _>(find(&all, "exp"), |x| Exp.forward(x));
    check_layer::<X, _>(find(&all, "ln"), |x| Ln.forward(x));
    check_layer::<X, _>(find(&all, "sqrt"), |x| Sqrt.forward(x));
    check_layer::<X, _>(find(&all, "square"), |x| Square.forward(x));
    check_layer::<X, _>(find(&all, "abs"), |x| Abs.forward(x));
}

#[test]
fn global_pools_match_pytorch() {
    let all = records("layers");
    type X = Rank4<2, 3, 4, 5>;
    check_layer::<X, _>(find(&all, "avgpool_global"), |x| AvgPoolGlobal.forward(x));
    check_layer::<X, _>(find(&all, "maxpool_global"), |x| MaxPoolGlobal.forward(x));
    check_layer::<X, _>(find(&all, "minpool_global"), |x| MinPoolGlobal.forward(x));
}

#[test]
fn upscale_matches_pytorch_interpolate() {
    let all = records("layers");
    let dev = Cpu::default();
    type X = Rank4<2, 2, 3, 4>;
    let m = dev.build_module::<Upscale2D<6, 8>, f32>();
    check_layer::<X, _>(find(&all, "upscale2d_nearest_6x8"), |x| m.forward(x));
    let m = dev.build_module::<Upscale2D<5, 7>, f32>();
    check_layer::<X, _>(find(&all, "upscale2d_nearest_5x7"), |x| m.forward(x));
    // dfdx's bilinear is PyTorch's align_corners=True
    let m = dev.build_module::<Upscale2D<5, 7, Bilinear>, f32>();
    check_layer::<X, _>(find(&all, "upscale2d_bilinear_5x7"), |x| m.forward(x));
}

#[test]
fn unflatten_matches_pytorch() {
    let all = records("layers");
    let m = Cpu::default().build_module::<Unflatten2D<2, 3, 4>, f32>();
    check_layer::<Rank2<2, 24>, _>(find(&all, "unflatten"), |x| m.forward(x));
}

#[test]
fn residual_matches_pytorch() {
    let all = records("layers");
    let rec = find(&all, "residual");
    let mut m = Cpu::default().build_module::<Residual<(Linear<4, 4>, ReLU)>, f32>();
    set(&mut m.0 .0.weight, rec, "weight");
    set(&mut m.0 .0.bias, rec, "bias");
    let (g, _) = check_layer::<Rank2<3, 4>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.0 .0.weight, rec, "weight");
    check_grad(&g, &m.0 .0.bias, rec, "bias");
}

/// The key projection's bias adds `q·b` to every score of a query's row, which the softmax
/// cancels: its gradient is 0 in exact arithmetic, and both libraries give rounding noise
/// (different noise). Both must be at rounding level against the input's gradient.
fn key_bias_gradient_is_rounding<S: Shape>(
    grads: &Gradients<f32, Cpu>,
    t: &Tensor<S, f32, Cpu>,
    rec: &Value,
    key: &str,
) {
    let name = rec["name"].as_str().unwrap_or_default();
    let scale = floats(&rec["grad_x"])
        .iter()
        .fold(0.0f32, |m, g| m.max(g.abs()));
    let ours = grads.get(t).as_vec();
    let theirs = floats(&rec["grad_params"][key]);
    for (who, g) in [("typenet", &ours), ("PyTorch", &theirs)] {
        let worst = g.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            worst <= 1e-5 * scale,
            "{name}: {who}'s ∂/∂{key} reaches {worst:e}, not rounding against {scale:e}"
        );
    }
}

/// Sets (or, with `grads`, checks) dfdx's four attention projections from PyTorch's packed
/// in-projection, keys `{prefix}w_q.weight` and so on.
macro_rules! attention_params {
    ($attn:expr, $rec:expr, $prefix:literal $(, $grads:expr)?) => {{
        attention_params!(@one $attn.w_q, $rec, concat!($prefix, "w_q") $(, $grads)?);
        attention_params!(@one $attn.w_k, $rec, concat!($prefix, "w_k") $(, $grads)?);
        attention_params!(@one $attn.w_v, $rec, concat!($prefix, "w_v") $(, $grads)?);
        attention_params!(@one $attn.w_o, $rec, concat!($prefix, "w_o") $(, $grads)?);
    }};
    (@one $lin:expr, $rec:expr, $name:expr) => {{
        set(&mut $lin.weight, $rec, &format!("{}.weight", $name));
        set(&mut $lin.bias, $rec, &format!("{}.bias", $name));
    }};
    (@one $lin:expr, $rec:expr, $name:expr, $grads:expr) => {{
        check_grad($grads, &$lin.weight, $rec, &format!("{}.weight", $name));
        if $name.ends_with("w_k") {
            key_bias_gradient_is_rounding($grads, &$lin.bias, $rec, &format!("{}.bias", $name));
        } else {
            check_grad($grads, &$lin.bias, $rec, &format!("{}.bias", $name));
        }
    }};
}

#[test]
fn multi_head_attention_matches_pytorch() {
    let all = records("layers");
    let rec = find(&all, "multi_head_attention");
    let mut m = Cpu::default().build_module::<MultiHeadAttention<8, 2>, f32>();
    attention_params!(m, rec, "");
    let (g, _) = check_layer::<Rank3<2, 5, 8>, _>(rec, |x| m.forward(x));
    attention_params!(m, rec, "", &g);
}

/// dfdx's encoder block is PyTorch's `TransformerEncoderLayer` with post-norm, ReLU and no
/// dropout.
#[test]
fn transformer_encoder_block_matches_pytorch() {
    let all = records("layers");
    let rec = find(&all, "transformer_encoder_block");
    let mut m = Cpu::default().build_module::<TransformerEncoderBlock<8, 2, 16>, f32>();
    attention_params!(m.self_attn, rec, "self_attn.");
    set(&mut m.norm1.gamma, rec, "norm1.weight");
    set(&mut m.norm1.beta, rec, "norm1.bias");
    set(&mut m.norm2.gamma, rec, "norm2.weight");
    set(&mut m.norm2.beta, rec, "norm2.bias");
    set(&mut m.ff.0 .0.weight, rec, "ff.0.weight");
    set(&mut m.ff.0 .0.bias, rec, "ff.0.bias");
    set(&mut m.ff.0 .2.weight, rec, "ff.2.weight");
    set(&mut m.ff.0 .2.bias, rec, "ff.2.bias");
    let (g, _) = check_layer::<Rank3<2, 5, 8>, _>(rec, |x| m.forward(x));
    attention_params!(m.self_attn, rec, "self_attn.", &g);
    check_grad(&g, &m.norm1.gamma, rec, "norm1.weight");
    check_grad(&g, &m.norm1.beta, rec, "norm1.bias");
    check_grad(&g, &m.norm2.gamma, rec, "norm2.weight");
    check_grad(&g, &m.norm2.beta, rec, "norm2.bias");
    check_grad(&g, &m.ff.0 .0.weight, rec, "ff.0.weight");
    check_grad(&g, &m.ff.0 .0.bias, rec, "ff.0.bias");
    check_grad(&g, &m.ff.0 .2.weight, rec, "ff.2.weight");
    check_grad(&g, &m.ff.0 .2.bias, rec, "ff.2.bias");
}

/// Dropout's mask comes from an RNG PyTorch does not share, so what is checked is what PyTorch
/// guarantees (`nn.Dropout`): in training every output is either 0 or the input scaled by
/// `1/(1−p)`, as is the gradient, and the share of zeros is within five standard deviations of
/// the binomial's mean `n·p`; in inference the layer is the identity.
fn check_dropout<M>(mut m: M, p: f64)
where
    M: ModuleMut<Traced<Rank2<100, 100>>, Output = Traced<Rank2<100, 100>>>
        + Module<Tensor<Rank2<100, 100>, f32, Cpu>, Output = Tensor<Rank2<100, 100>, f32, Cpu>>,
{
    let dev = Cpu::seed_from_u64(17);
    let x: Tensor<Rank2<100, 100>, f32, Cpu> = dev.sample_normal::<Rank2<100, 100>>() + 3.0;
    let gy: Tensor<Rank2<100, 100>, f32, Cpu> = dev.sample_normal();
    let y = m.forward_mut(x.leaky_trace());
    let yv = y.as_vec();
    let gx = (y * gy.clone()).sum().backward().get(&x).as_vec();
    let scale = 1.0 / (1.0 - p);
    let mut zeros = 0usize;
    for (i, ((&xi, &yi), (&gi, &gyi))) in x
        .as_vec()
        .iter()
        .zip(&yv)
        .zip(gx.iter().zip(&gy.as_vec()))
        .enumerate()
    {
        if yi == 0.0 {
            zeros += 1;
            assert_eq!(gi, 0.0, "p = {p}: dropped element {i} has gradient {gi}");
        } else {
            let want = xi as f64 * scale;
            assert!(
                (yi as f64 - want).abs() <= 1e-6 * want.abs(),
                "p = {p}: kept element {i} is {yi}, want {xi}·{scale} = {want}"
            );
            let want = gyi as f64 * scale;
            assert!(
                (gi as f64 - want).abs() <= 1e-6 * want.abs().max(1e-3),
                "p = {p}: kept element {i} has gradient {gi}, want {want}"
            );
        }
    }
    let n = 10_000.0;
    let (mean, sd) = (n * p, (n * p * (1.0 - p)).sqrt());
    assert!(
        (zeros as f64 - mean).abs() <= 5.0 * sd,
        "p = {p}: {zeros} of {n} dropped, want {mean} ± {}",
        5.0 * sd
    );
    // inference: the identity, bit for bit
    assert_eq!(
        m.forward(x.clone()).as_vec(),
        x.as_vec(),
        "p = {p}: inference"
    );
}

#[test]
fn dropout_keeps_pytorchs_guarantees() {
    check_dropout(Dropout { p: 0.3 }, 0.3);
    check_dropout(Dropout { p: 0.5 }, 0.5);
    check_dropout(DropoutOneIn::<4>, 0.25);
}

/// dfdx's decoder block is PyTorch's `TransformerDecoderLayer` with post-norm, ReLU, no dropout
/// and no mask; the memory (the encoder's output) is a constant here.
#[test]
fn transformer_decoder_block_matches_pytorch() {
    let all = records("layers");
    let rec = find(&all, "transformer_decoder_block");
    let dev = Cpu::default();
    let mut m = dev.build_module::<TransformerDecoderBlock<8, 2, 16>, f32>();
    attention_params!(m.self_attn, rec, "self_attn.");
    attention_params!(m.mh_attn, rec, "mh_attn.");
    for (norm, key) in [
        (&mut m.norm1, "norm1"),
        (&mut m.norm2, "norm2"),
        (&mut m.norm3, "norm3"),
    ] {
        set(&mut norm.gamma, rec, &format!("{key}.weight"));
        set(&mut norm.beta, rec, &format!("{key}.bias"));
    }
    set(&mut m.ff.0 .0.weight, rec, "ff.0.weight");
    set(&mut m.ff.0 .0.bias, rec, "ff.0.bias");
    set(&mut m.ff.0 .2.weight, rec, "ff.2.weight");
    set(&mut m.ff.0 .2.bias, rec, "ff.2.bias");
    let mem: Tensor<Rank3<2, 5, 8>, f32, Cpu> =
        dev.tensor_from_vec(floats(&rec["mem"]), Default::default());
    let (g, _) = check_layer::<Rank3<2, 3, 8>, _>(rec, |x| m.forward((x, mem.clone())));
    attention_params!(m.self_attn, rec, "self_attn.", &g);
    attention_params!(m.mh_attn, rec, "mh_attn.", &g);
    for (norm, key) in [
        (&m.norm1, "norm1"),
        (&m.norm2, "norm2"),
        (&m.norm3, "norm3"),
    ] {
        check_grad(&g, &norm.gamma, rec, &format!("{key}.weight"));
        check_grad(&g, &norm.beta, rec, &format!("{key}.bias"));
    }
    check_grad(&g, &m.ff.0 .0.weight, rec, "ff.0.weight");
    check_grad(&g, &m.ff.0 .0.bias, rec, "ff.0.bias");
    check_grad(&g, &m.ff.0 .2.weight, rec, "ff.2.weight");
    check_grad(&g, &m.ff.0 .2.bias, rec, "ff.2.bias");
}

/// typenet's `Embedding` takes the ids as values of a `Vocab<V>` axis; the table's gradient is
/// PyTorch's scatter-add of the upstream rows.
#[test]
fn embedding_matches_pytorch() {
    let all = records("layers");
    let rec = find(&all, "embedding");
    let dev = Cpu::default();
    let mut m = dev.build_module::<Embedding<7, 3>, f32>();
    set(&mut m.weight, rec, "weight");
    let x: Tensor<(Const<2>, Const<4>, Vocab<7>), f32, Cpu> =
        dev.tensor_from_vec(floats(&rec["x"]), Default::default());
    let y = m.forward(x.leaky_trace());
    assert_close("embedding: y", &y.as_vec(), &floats(&rec["y"]));
    let gy = dev.tensor_from_vec(floats(&rec["gy"]), *y.shape());
    let g = (y * gy).sum().backward();
    check_grad(&g, &m.weight, rec, "weight");
}

#[test]
fn positional_embedding_and_sequence_pools_match_pytorch() {
    let all = records("layers");
    let rec = find(&all, "positional_embedding");
    let mut m = Cpu::default().build_module::<PositionalEmbedding<4, 3>, f32>();
    set(&mut m.weight, rec, "weight");
    let (g, _) = check_layer::<Rank3<2, 4, 3>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.weight, rec, "weight");
    type X = Rank3<2, 5, 3>;
    check_layer::<X, _>(find(&all, "seq_mean"), |x| SeqMean.forward(x));
    check_layer::<X, _>(find(&all, "seq_max"), |x| SeqMax.forward(x));
    check_layer::<X, _>(find(&all, "seq_first"), |x| SeqFirst.forward(x));
    check_layer::<X, _>(find(&all, "seq_last"), |x| SeqLast.forward(x));
}

#[typenet::network([2, 9, 9])]
type DilatedPlain = Conv2D<2, 3, 3, 1, 0, 2>;
#[typenet::network([2, 8, 7])]
type DilatedStridedPadded = Conv2D<2, 3, 3, 2, 2, 2>;
#[typenet::network([3, 6, 5])]
type DilatedEvenKernel = Conv2D<3, 2, 2, 1, 1, 3>;

#[test]
fn dilated_conv2d_matches_pytorch() {
    let all = records("conv_dilated");
    let dev = Cpu::default();

    let rec = find(&all, "conv2d_dilation2");
    let mut m = dev.build_module::<DilatedPlain, f32>();
    set(&mut m.weight, rec, "weight");
    set(&mut m.bias, rec, "bias");
    let (g, _) = check_layer::<Rank4<2, 2, 9, 9>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.weight, rec, "weight");
    check_grad(&g, &m.bias, rec, "bias");

    let rec = find(&all, "conv2d_stride2_pad2_dilation2");
    let mut m = dev.build_module::<DilatedStridedPadded, f32>();
    set(&mut m.weight, rec, "weight");
    set(&mut m.bias, rec, "bias");
    let (g, _) = check_layer::<Rank4<2, 2, 8, 7>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.weight, rec, "weight");
    check_grad(&g, &m.bias, rec, "bias");

    let rec = find(&all, "conv2d_k2_pad1_dilation3");
    let mut m = dev.build_module::<DilatedEvenKernel, f32>();
    set(&mut m.weight, rec, "weight");
    set(&mut m.bias, rec, "bias");
    let (g, _) = check_layer::<Rank4<1, 3, 6, 5>, _>(rec, |x| m.forward(x));
    check_grad(&g, &m.weight, rec, "weight");
    check_grad(&g, &m.bias, rec, "bias");
}
