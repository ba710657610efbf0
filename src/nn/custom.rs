//! Custom layers and operations with a hand-written derivative, without dfdx's tape plumbing:
//! the forward pass and the backward pass are plain functions on host slices, as in PyTorch's
//! `torch.autograd.Function`.
//!
//! - [`CustomOp`] and the layer [`Custom<Op>`](builder::Custom): a whole layer with one
//!   parameter tensor from a forward and a backward function: it builds, initialises, saves,
//!   trains with any optimizer and appears in [`summary`](super::summary) like a built-in layer;
//! - [`with_parameter`]: the same as a function on tensors, for a layer written by hand;
//! - [`elementwise`]: `y = f(x)` element by element, given `f` and its derivative.
//!
//! All record their backward pass when the input carries a tape and run on any
//! [`TrainingDevice`] (the CPU directly; CUDA through host copies of the tensors involved).
//! Check a new derivative with [`gradcheck`](crate::gradcheck::gradcheck) in `f64`.

use super::{Params, Summarize, TrainingDevice};
use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::prelude::*;
/// The float operations a [`CustomOp`] is written with (`exp`, `one`, …), for `f32` and `f64`.
pub use num_traits::Float;
use std::marker::PhantomData;

/// A layer's computation: a parameter tensor of shape [`Param`](CustomOp::Param), a forward
/// function and its backward function on host slices. [`Custom<Op>`](builder::Custom) makes it
/// a layer; its output has the input's shape.
///
/// # Example
/// Swish with a learnable slope per feature, `y = x · σ(β x)`, trained inside a model:
/// ```
/// # use typenet::prelude::*;
/// use typenet::nn::custom::{BackwardSlices, CustomOp, Float};
///
/// #[derive(Debug, Default, Clone, Copy)]
/// struct Swish<const N: usize>;
///
/// impl<const N: usize> CustomOp for Swish<N> {
///     type Param = Rank1<N>;
///     const INIT: f64 = 1.0;
///     fn forward<E: Float>(x: &[E], beta: &[E], y: &mut [E]) {
///         for i in 0..x.len() {
///             y[i] = x[i] * sigmoid(beta[i % N] * x[i]);
///         }
///     }
///     fn backward<E: Float>(b: BackwardSlices<'_, E>) {
///         for i in 0..b.x.len() {
///             let (x, beta) = (b.x[i], b.p[i % N]);
///             let s = sigmoid(beta * x);
///             let ds = s * (E::one() - s); // σ'(βx)
///             b.dx[i] = b.dy[i] * (s + x * beta * ds);
///             b.dp[i % N] = b.dp[i % N] + b.dy[i] * x * x * ds;
///         }
///     }
/// }
///
/// fn sigmoid<E: Float>(z: E) -> E {
///     E::one() / (E::one() + (-z).exp())
/// }
///
/// type Model = (Linear<4, 8>, Custom<Swish<8>>, Linear<8, 3>);
/// const _: () = assert!(<Model as Params>::PARAMS == 40 + 8 + 27);
/// let dev = Cpu::seed_from_u64(0);
/// let mut model = dev.build_module::<Model, f64>();
/// assert_eq!(model.1.param.array(), [1.0; 8]);
/// let x: Tensor<Rank2<6, 4>, f64, _> = dev.sample_normal();
/// assert!(gradcheck(&mut model, &x, &GradCheckConfig::default()).is_ok());
/// ```
pub trait CustomOp: Default + Clone + Copy + std::fmt::Debug + Send + Sync + 'static {
    /// The shape of the layer's parameter tensor (`Rank1<0>` for none).
    type Param: ConstShape;
    /// Every parameter's initial value (and the value a reset restores).
    const INIT: f64;
    /// Fills `y` (shaped like `x`) from the input `x` and the parameters `p`, row-major.
    fn forward<E: Float>(x: &[E], p: &[E], y: &mut [E]);
    /// Fills the gradients of the input and the parameters (see [`BackwardSlices`]).
    fn backward<E: Float>(b: BackwardSlices<'_, E>);
}

/// The layer builder: [`CustomOp`] `Op` as a layer of a model type.
pub mod builder {
    use std::marker::PhantomData;

    /// A layer computing [`CustomOp`](super::CustomOp) `Op`; the output has the input's shape.
    #[derive(Debug, Default, Clone, Copy)]
    pub struct Custom<Op>(PhantomData<Op>);
}

/// The built layer: `Op`'s parameter tensor on device `D`.
#[derive(Debug, Clone)]
pub struct Custom<Op: CustomOp, E: Dtype, D: Storage<E>> {
    /// The parameters, initialised to [`CustomOp::INIT`].
    pub param: Tensor<Op::Param, E, D>,
    op: PhantomData<Op>,
}

impl<Op: CustomOp, E: Dtype, D: Device<E>> BuildOnDevice<D, E> for builder::Custom<Op> {
    type Built = Custom<Op, E, D>;
}

fn reset<Op: CustomOp, E: Dtype, D: Device<E>>(
    t: &mut Tensor<Op::Param, E, D>,
) -> Result<(), D::Err> {
    let value = E::from_f64(Op::INIT).unwrap_or_default();
    t.copy_from(&vec![value; Op::Param::NUMEL]);
    Ok(())
}

impl<Op: CustomOp, E: Dtype, D: Device<E>> TensorCollection<E, D> for Custom<Op, E, D> {
    type To<E2: Dtype, D2: Device<E2>> = Custom<Op, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            Self::tensor(
                "param",
                |s| &s.param,
                |s| &mut s.param,
                TensorOptions::reset_with(reset::<Op, E, D>),
            ),
            |param| Custom {
                param,
                op: PhantomData,
            },
        )
    }
}

impl<S, Op, E, D, T> Module<Tensor<S, E, D, T>> for Custom<Op, E, D>
where
    S: Shape,
    Op: CustomOp,
    E: Dtype + Float,
    D: TrainingDevice<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        with_parameter(x, &self.param, Op::forward::<E>, Op::backward::<E>)
    }
}

/// Training mode is the same function: the layer has no state a forward pass updates.
impl<Op: CustomOp, E: Dtype, D: Storage<E>> NonMutableModule for Custom<Op, E, D> {}

impl<Op: CustomOp> Params for builder::Custom<Op> {
    const PARAMS: usize = <Op::Param as ConstShape>::NUMEL;
}

impl<In: ConstShape, Op: CustomOp> Summarize<In> for builder::Custom<Op> {
    type Output = In;
}

/// What the backward function of [`with_parameter`] receives: the forward pass's input `x`,
/// parameter `p` and output `y`, the gradient of the loss with respect to `y`, and zeroed buffers
/// to fill with the gradients with respect to `x` and `p` (typenet adds them to the gradients
/// already collected). All slices are in row-major order.
#[derive(Debug)]
pub struct BackwardSlices<'a, E> {
    /// The input of the forward pass.
    pub x: &'a [E],
    /// The parameter tensor of the forward pass.
    pub p: &'a [E],
    /// The output of the forward pass.
    pub y: &'a [E],
    /// ∂loss/∂y, shaped like `y`.
    pub dy: &'a [E],
    /// ∂loss/∂x to write, shaped like `x` (zeroed).
    pub dx: &'a mut [E],
    /// ∂loss/∂p to write, shaped like `p` (zeroed).
    pub dp: &'a mut [E],
}

/// `y = f(x)` element by element, with derivative `df(x, y) = f'(x)` (given the output too, since
/// many derivatives are cheapest in terms of it, as σ' = y(1 − y)).
///
/// # Example
/// A softplus activation written by hand, checked against finite differences:
/// ```
/// # use typenet::prelude::*;
/// use typenet::nn::custom;
/// let dev = Cpu::seed_from_u64(0);
/// let x: Tensor<Rank1<5>, f64, _> = dev.tensor([-2.0, -0.5, 0.0, 0.5, 2.0]);
/// let softplus = |x: Tensor<Rank1<5>, f64, _, OwnedTape<f64, Cpu>>| {
///     custom::elementwise(x, |x: f64| x.exp().ln_1p(), |x: f64, _y| 1.0 / (1.0 + (-x).exp()))
/// };
/// let report = gradcheck_fn(softplus, &x, &GradCheckConfig::default()).unwrap();
/// assert!(report.passed());
/// ```
///
/// # Errors
/// The device's error when a tensor cannot be copied to or from host memory.
pub fn elementwise<S, E, D, T>(
    x: Tensor<S, E, D, T>,
    f: impl Fn(E) -> E,
    df: impl Fn(E, E) -> E + 'static,
) -> Result<Tensor<S, E, D, T>, D::Err>
where
    S: Shape,
    E: Dtype,
    D: TrainingDevice<E>,
    T: Tape<E, D>,
{
    let none: Tensor<(Const<0>,), E, D> = x.device().try_zeros()?;
    with_parameter(
        x,
        &none,
        |x, _, y| y.iter_mut().zip(x).for_each(|(y, &x)| *y = f(x)),
        move |b| {
            for (((dx, &x), &y), &dy) in b.dx.iter_mut().zip(b.x).zip(b.y).zip(b.dy) {
                *dx = dy * df(x, y);
            }
        },
    )
}

/// `y = op(x, p)`, an output shaped like the input, from a layer's parameter tensor `p`:
/// `forward(x, p, y)` fills `y`, and `backward` fills the gradients (see [`BackwardSlices`]).
///
/// `x` may carry a tape (training) or not (inference: `backward` is never called); `p` is the
/// layer's own tensor, whose gradient the optimizer then finds under its id as for any built-in
/// layer.
///
/// # Example
/// A per-feature scale `y = x ⊙ s`, whose gradients are `dx = dy ⊙ s` and `ds = Σ_batch dy ⊙ x`:
/// ```
/// # use typenet::prelude::*;
/// use typenet::nn::custom;
/// let dev = Cpu::seed_from_u64(0);
/// let s: Tensor<Rank1<3>, f64, _> = dev.tensor([0.5, -1.0, 2.0]);
/// let x: Tensor<Rank2<2, 3>, f64, _> = dev.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
/// let y = custom::with_parameter(
///     x.leaky_trace(),
///     &s,
///     |x, s, y| (0..x.len()).for_each(|i| y[i] = x[i] * s[i % 3]),
///     |b| {
///         for i in 0..b.x.len() {
///             b.dx[i] = b.dy[i] * b.p[i % 3];
///             b.dp[i % 3] += b.dy[i] * b.x[i];
///         }
///     },
/// )
/// .unwrap();
/// assert_eq!(y.as_vec(), [0.5, -2.0, 6.0, 2.0, -5.0, 12.0]);
/// let grads = y.sum::<Rank0, _>().backward();
/// assert_eq!(grads.get(&s).array(), [5.0, 7.0, 9.0]);
/// assert_eq!(grads.get(&x).array(), [[0.5, -1.0, 2.0], [0.5, -1.0, 2.0]]);
/// ```
///
/// # Errors
/// The device's error when a tensor cannot be copied to or from host memory.
pub fn with_parameter<S, P, E, D, T>(
    x: Tensor<S, E, D, T>,
    p: &Tensor<P, E, D>,
    forward: impl FnOnce(&[E], &[E], &mut [E]),
    backward: impl FnOnce(BackwardSlices<'_, E>) + 'static,
) -> Result<Tensor<S, E, D, T>, D::Err>
where
    S: Shape,
    P: Shape,
    E: Dtype,
    D: TrainingDevice<E>,
    T: Tape<E, D>,
{
    let dev = x.device().clone();
    let shape = *x.shape();
    let x_host = x.as_vec();
    // (dfdx cannot read a tensor of no elements: a parameter-free op has none)
    let p_host = match p.shape().num_elements() {
        0 => Vec::new(),
        _ => p.as_vec(),
    };
    let mut y_host = vec![E::default(); x_host.len()];
    forward(&x_host, &p_host, &mut y_host);
    let (x, mut tape) = x.split_tape();
    // inference (no tape) records nothing: the output takes the buffer instead of a copy
    let y_values = match T::OWNS_TAPE {
        true => y_host.clone(),
        false => std::mem::take(&mut y_host),
    };
    let y = dev.try_tensor_from_vec(y_values, shape)?;
    let (x_ghost, p_ghost, y_ghost) = (x.ghost(), p.ghost(), y.ghost());
    tape.add_backward_op(move |grads| {
        grads.try_alloc_for(&y_ghost)?;
        let dy = grads.get(&y_ghost).as_vec();
        let mut dx = vec![E::default(); x_host.len()];
        let mut dp = vec![E::default(); p_host.len()];
        backward(BackwardSlices {
            x: &x_host,
            p: &p_host,
            y: &y_host,
            dy: &dy,
            dx: &mut dx,
            dp: &mut dp,
        });
        let accumulate = |into: &mut [E], from: &[E]| {
            into.iter_mut().zip(from).for_each(|(g, &d)| *g += d);
        };
        D::try_with_slice(grads.get_or_alloc_mut(&x_ghost)?, &mut |g| {
            accumulate(g, &dx)
        })?;
        if !dp.is_empty() {
            D::try_with_slice(grads.get_or_alloc_mut(&p_ghost)?, &mut |g| {
                accumulate(g, &dp)
            })?;
        }
        Ok(())
    });
    Ok(y.put_tape(tape))
}
