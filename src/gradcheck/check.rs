//! The checker: analytic gradients from one backward pass, numeric ones from central differences.

use super::report::{GradCheckReport, TensorCheck};
use super::visit::{alloc_grads, read_grads, set_param};
use super::GradCheckConfig;
use crate::{Error, Result};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

/// A tensor of shape `S` on device `D` in f64, recording onto a tape.
type Taped<S, D> = Tensor<S, f64, D, OwnedTape<f64, D>>;

/// A model [`gradcheck`] can check on inputs of shape `S` on device `D` (the CPU unless named):
/// its parameters can be visited (`TensorCollection`) and its training-mode forward (`ModuleMut`
/// on a taped f64 tensor) returns a tensor.
///
/// Blanket-implemented for every dfdx module, tuple of modules and user layer that fits (built
/// with `dev.build_module::<M, f64>()`); user code never implements it.
#[diagnostic::on_unimplemented(
    message = "the model `{Self}` cannot be gradient-checked on inputs of shape `{S}`",
    label = "needs `TensorCollection<f64, {D}>` and `ModuleMut` on a taped f64 tensor of this shape",
    note = "build the model in f64 on the input's device: `Cpu::seed_from_u64(0).build_module::<Model, f64>()`"
)]
pub trait GradCheckModel<S: Shape, D: Device<f64> = Cpu>:
    TensorCollection<f64, D> + ModuleMut<Taped<S, D>, Output = Taped<Self::Out, D>, Error = D::Err>
{
    /// The shape of the model's output.
    type Out: Shape;
}

impl<M, S: Shape, O: Shape, D: Device<f64>> GradCheckModel<S, D> for M
where
    M: TensorCollection<f64, D> + ModuleMut<Taped<S, D>, Output = Taped<O, D>, Error = D::Err>,
{
    type Out = O;
}

/// Checks the gradients of `model` with respect to every trainable parameter and to `input`
/// against central finite differences of `L = Σ model(input) ⊙ W`, `W` a fixed random tensor.
///
/// The model runs in training mode (`forward_mut` on a taped input), so batch norm uses batch
/// statistics. Parameters are perturbed in place and restored exactly afterwards; running
/// statistics (batch norm) move as in any training-mode forward.
///
/// It runs on the input's device (any dfdx device with f64: the CPU, or CUDA to check a layer's
/// GPU path); every perturbation copies one tensor from the host.
///
/// Returns the per-tensor [`GradCheckReport`], or [`Error::GradCheck`](crate::Error::GradCheck)
/// naming the first tensor and element out of tolerance.
///
/// **PyTorch equivalent**: `torch.autograd.gradcheck(model, x, fast_mode=True)`.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::seed_from_u64(0);
/// let mut model = dev.build_module::<(Linear<3, 4>, Tanh, Linear<4, 2>), f64>();
/// let x: Tensor<Rank2<5, 3>, f64, _> = dev.sample_normal();
/// let report = gradcheck(&mut model, &x, &GradCheckConfig::default())?;
/// assert!(report.get("0.weight").is_some_and(|t| t.passed && t.checked == 12));
/// println!("{report}");
/// # Ok(()) }
/// ```
pub fn gradcheck<M: GradCheckModel<S, D>, S: Shape, D: Device<f64>>(
    model: &mut M,
    input: &Tensor<S, f64, D>,
    config: &GradCheckConfig,
) -> Result<GradCheckReport> {
    compare(model, input, |m, x| m.try_forward_mut(x), config)?.ensure()
}

/// Checks the gradient of any function of one f64 tensor (a loss, an activation, a composite
/// op) with respect to its input, as [`gradcheck`] does for a model.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::seed_from_u64(0);
/// let x: Tensor<Rank2<2, 3>, f64, _> = dev.sample_normal();
/// let target: Tensor<Rank2<2, 3>, f64, _> = dev.sample_normal();
/// // Mean squared error, written with dfdx ops.
/// let mse = |y: Tensor<Rank2<2, 3>, f64, Cpu, OwnedTape<f64, Cpu>>| {
///     y.try_sub(target.clone())?.try_square()?.try_mean::<Rank0, _>()
/// };
/// let report = gradcheck_fn(mse, &x, &GradCheckConfig::default())?;
/// assert!(report.passed());
/// # Ok(()) }
/// ```
pub fn gradcheck_fn<S, O, D, F>(
    mut f: F,
    input: &Tensor<S, f64, D>,
    config: &GradCheckConfig,
) -> Result<GradCheckReport>
where
    S: Shape,
    O: Shape,
    D: Device<f64>,
    F: FnMut(Taped<S, D>) -> std::result::Result<Taped<O, D>, D::Err>,
{
    compare(&mut (), input, |_, x| f(x), config)?.ensure()
}

/// The report, without judging it.
fn compare<M, S, O, D, F>(
    model: &mut M,
    input: &Tensor<S, f64, D>,
    mut forward: F,
    config: &GradCheckConfig,
) -> Result<GradCheckReport>
where
    M: TensorCollection<f64, D>,
    S: Shape,
    O: Shape,
    D: Device<f64>,
    F: FnMut(&mut M, Taped<S, D>) -> std::result::Result<Taped<O, D>, D::Err>,
{
    let dev = input.device().clone();
    let mut rng = StdRng::seed_from_u64(config.seed);
    // device errors become `Error::Device` with their text
    let de = |e: D::Err| Error::device(e);

    // Analytic: one backward pass. Leaky gradients keep the input's gradient (a non-parameter).
    let mut grads = Gradients::leaky();
    alloc_grads(model, &mut grads).map_err(de)?;
    grads.try_alloc_for(input).map_err(de)?;
    let y = forward(model, input.clone().traced(grads)).map_err(de)?;
    // |W| in [0.5, 1.5]: no output element is weighted (near) zero, which would hide its errors.
    let weights = (0..y.shape().num_elements())
        .map(|_| rng.gen_range(0.5..1.5) * if rng.r#gen::<bool>() { 1.0 } else { -1.0 })
        .collect();
    let w = dev.try_tensor_from_vec(weights, *y.shape()).map_err(de)?;
    let mut grads = y
        .try_mul(w.clone())
        .and_then(|l| l.try_sum::<Rank0, _>())
        .and_then(|l| l.try_backward())
        .map_err(de)?;
    // A parameter the tape never reached has no gradient: give it zeros so it reads (and fails).
    alloc_grads(model, &mut grads).map_err(de)?;
    grads.try_alloc_for(input).map_err(de)?;
    let params = read_grads(model, &grads).map_err(de)?;
    let input_grad = grads.get(input).as_vec();
    drop(grads);

    let mut objective = |m: &mut M, x: Tensor<S, f64, D>| -> Result<f64> {
        let l = forward(m, x.leaky_traced())
            .and_then(|y| y.try_mul(w.clone()))
            .and_then(|l| l.try_sum::<Rank0, _>())
            .map_err(de)?;
        // one element: its sum is its value
        Ok(l.as_vec().iter().sum())
    };
    let (eps, mut report) = (config.eps, GradCheckReport::default());

    for (k, p) in params.into_iter().enumerate() {
        let indices = sample(p.values.len(), config.max_elements, &mut rng);
        let mut numeric = Vec::with_capacity(indices.len());
        for &i in &indices {
            let v = p.values[i];
            set_param(model, k, i, v + eps).map_err(de)?;
            let plus = objective(model, input.clone())?;
            set_param(model, k, i, v - eps).map_err(de)?;
            let minus = objective(model, input.clone())?;
            set_param(model, k, i, v).map_err(de)?;
            numeric.push((plus - minus) / (2.0 * eps));
        }
        let analytic: Vec<f64> = indices.iter().map(|&i| p.grad[i]).collect();
        report.tensors.push(TensorCheck::compare(
            p.name, p.dims, &indices, &analytic, &numeric, config,
        ));
    }

    if config.check_input {
        let mut values = input.as_vec();
        let indices = sample(values.len(), config.max_elements, &mut rng);
        let mut numeric = Vec::with_capacity(indices.len());
        let shape = *input.shape();
        for &i in &indices {
            let v = values[i];
            values[i] = v + eps;
            let x = dev.try_tensor_from_vec(values.clone(), shape).map_err(de)?;
            let plus = objective(model, x)?;
            values[i] = v - eps;
            let x = dev.try_tensor_from_vec(values.clone(), shape).map_err(de)?;
            let minus = objective(model, x)?;
            values[i] = v;
            numeric.push((plus - minus) / (2.0 * eps));
        }
        let analytic: Vec<f64> = indices.iter().map(|&i| input_grad[i]).collect();
        let dims = input.shape().concrete().into();
        report.tensors.push(TensorCheck::compare(
            "input".into(),
            dims,
            &indices,
            &analytic,
            &numeric,
            config,
        ));
    }
    Ok(report)
}

/// All of `0..n`, or `max` of them drawn without replacement (in increasing order).
fn sample(n: usize, max: Option<usize>, rng: &mut StdRng) -> Vec<usize> {
    match max {
        Some(k) if k < n => {
            let mut picked = rand::seq::index::sample(rng, n, k).into_vec();
            picked.sort_unstable();
            picked
        }
        _ => (0..n).collect(),
    }
}
