//! Gradient clipping between backward and the optimizer step, and the guard that finds
//! non-finite gradients, parameters and inputs during training.

use crate::nn::TrainingDevice;
use crate::{Error, Result};
use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorName, ViewTensorRef,
};
use dfdx::prelude::*;
use std::any::Any;
use std::cell::RefCell;

/// How to clip gradients before each optimizer step.
///
/// **Keras equivalent**: the optimizer arguments `global_clipnorm` and `clipvalue`.
/// **PyTorch equivalent**: `clip_grad_norm_` and `clip_grad_value_`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GradClip {
    /// Scale all gradients together so their global L2 norm is at most this.
    Norm(f32),
    /// Clamp every gradient element to `[-v, v]`.
    Value(f32),
}

struct Visit<'g, E: Dtype, D: Device<E>> {
    grads: &'g mut Gradients<E, D>,
    /// The first copy error, reported after the walk.
    failed: Option<Error>,
    clip: GradClip,
    /// Pass 1 of `Norm`: sum of squares. Pass 2: the scale factor to apply.
    sum_sq: f64,
    scale: Option<E>,
}

/// `v` in the float type `E` (every float type holds an `f32`).
pub(super) fn float<E: Dtype>(v: f64) -> E {
    E::from_f64(v).unwrap_or_default()
}

impl<E: Dtype, D: TrainingDevice<E>> TensorVisitor<E, D> for Visit<'_, E, D> {
    type Viewer = ViewTensorRef;
    type Err = D::Err;
    type E2 = E;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, E, D>,
        t: &Tensor<S, E, D>,
    ) -> std::result::Result<Option<Tensor<S, E, D>>, D::Err> {
        if !opts.do_gradient_update {
            return Ok(None);
        }
        let buf = self.grads.get_or_alloc_mut(t)?;
        let mut sum_sq = 0.0;
        let done = match (self.clip, self.scale) {
            (GradClip::Value(v), _) => {
                let (lo, hi) = (float::<E>(-v as f64), float::<E>(v as f64));
                D::with_slice(buf, &mut |g| {
                    for x in g.iter_mut() {
                        if *x > hi {
                            *x = hi;
                        } else if *x < lo {
                            *x = lo;
                        }
                    }
                })
            }
            (GradClip::Norm(_), None) => D::with_slice(buf, &mut |g| {
                sum_sq = g
                    .iter()
                    .map(|&x| x.to_f64().unwrap_or(f64::NAN).powi(2))
                    .sum()
            }),
            (GradClip::Norm(_), Some(k)) => {
                D::with_slice(buf, &mut |g| g.iter_mut().for_each(|x| *x *= k))
            }
        };
        self.sum_sq += sum_sq;
        if let Err(e) = done {
            self.failed.get_or_insert(e);
        }
        Ok(None)
    }
}

/// Clips `grads` of `model`'s trainable tensors in place and returns the global norm before
/// clipping (for `Norm`; `NaN` for `Value`). A non-finite norm (a NaN or infinite gradient) is
/// returned without scaling anything.
///
/// # Errors
/// [`Error::InvalidArgument`] for a non-positive or non-finite threshold; device errors.
pub fn clip_gradients<E: Dtype, M: TensorCollection<E, D>, D: TrainingDevice<E>>(
    model: &M,
    grads: &mut Gradients<E, D>,
    clip: GradClip,
) -> Result<f64> {
    let limit = match clip {
        GradClip::Norm(v) | GradClip::Value(v) => v,
    };
    if !(limit > 0.0 && limit.is_finite()) {
        return Err(Error::InvalidArgument {
            what: "gradient clip threshold",
            value: limit.to_string(),
            expected: "positive and finite".into(),
        });
    }
    let mut visit = Visit {
        grads,
        failed: None,
        clip,
        sum_sq: 0.0,
        scale: None,
    };
    M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut visit,
    })
    .map_err(Error::device)?;
    let GradClip::Norm(max_norm) = clip else {
        return match visit.failed {
            Some(e) => Err(e),
            None => Ok(f64::NAN),
        };
    };
    let norm = visit.sum_sq.sqrt();
    if norm.is_finite() && norm > max_norm as f64 {
        visit.scale = Some(float::<E>(max_norm as f64 / norm));
        M::iter_tensors(&mut RecursiveWalker {
            m: model,
            f: &mut visit,
        })
        .map_err(Error::device)?;
    }
    match visit.failed {
        Some(e) => Err(e),
        None => Ok(norm),
    }
}

/// The error for a non-finite `value` found in training step (`epoch`, `batch`): `what` in words,
/// `tensor` the parameter's path or `input` (`None` for the loss).
pub(crate) fn diverged(
    what: String,
    tensor: Option<&str>,
    value: f64,
    (epoch, batch): (usize, usize),
) -> Error {
    Error::NonFinite {
        what,
        tensor: tensor.map(str::to_string),
        value,
        epoch,
        batch,
    }
}

/// Checks a batch's features (`rows` samples, row-major) before a training step: the first
/// NaN or infinity is an error naming its row and feature.
pub(crate) fn check_features(features: &[f32], rows: usize, at: (usize, usize)) -> Result<()> {
    match first_non_finite(features) {
        None => Ok(()),
        Some((i, value)) => {
            let per_row = (features.len() / rows.max(1)).max(1);
            let what = format!(
                "input feature {} of row {} of the batch",
                i % per_row,
                i / per_row
            );
            Err(diverged(what, Some("input"), value, at))
        }
    }
}

/// Checks a step's loss: NaN or an infinity is an error.
pub(crate) fn check_loss(value: f64, at: (usize, usize)) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(diverged("loss".into(), None, value, at))
    }
}

/// The first element of `v` that is NaN or infinite, as `f64`.
pub(crate) fn first_non_finite<E: Dtype>(v: &[E]) -> Option<(usize, f64)> {
    let value = |x: &E| x.to_f64().unwrap_or(f64::NAN);
    // a branch-free pass first (it vectorises); the search only when something is wrong
    if v.iter().fold(true, |ok, x| ok & value(x).is_finite()) {
        return None;
    }
    v.iter()
        .map(value)
        .enumerate()
        .find(|(_, x)| !x.is_finite())
}

/// Finds the first trainable tensor (in the model's order) whose gradient holds a NaN or an
/// infinity, or (with `values`) the first tensor whose value does.
struct Guard<'g, E: Dtype, D: Device<E>> {
    grads: &'g mut Gradients<E, D>,
    values: bool,
    /// The tensor's path (e.g. `0.1.weight`) and the first bad value.
    found: Option<(String, f64)>,
    /// The first copy error, reported after the walk.
    failed: Option<Error>,
}

thread_local! {
    /// The guard's host copy of a parameter, kept between steps (as large as the largest
    /// parameter read on this thread): a fresh buffer each step costs its page faults, and
    /// `as_vec` reads element by element through the shape's strides.
    static SCRATCH: RefCell<Box<dyn Any>> = RefCell::new(Box::new(()));
}

/// Runs `f` on a scratch slice of `n` elements of `E` (contents unspecified).
fn with_scratch<E: Dtype, R>(n: usize, f: impl FnOnce(&mut [E]) -> R) -> R {
    SCRATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        if !slot.is::<Vec<E>>() {
            *slot = Box::new(Vec::<E>::new());
        }
        match slot.downcast_mut::<Vec<E>>() {
            Some(v) => {
                if v.len() < n {
                    v.resize(n, E::default());
                }
                f(&mut v[..n])
            }
            // not reached: the slot was just made a `Vec<E>`
            None => f(&mut vec![E::default(); n]),
        }
    })
}

impl<E: Dtype, D: TrainingDevice<E>> TensorVisitor<E, D> for Guard<'_, E, D> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;
    type E2 = E;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, E, D>,
        (t, name): (&Tensor<S, E, D>, String),
    ) -> std::result::Result<Option<Tensor<S, E, D>>, D::Err> {
        if self.found.is_some() {
            return Ok(None);
        }
        let bad = match (self.values, opts.do_gradient_update) {
            (false, false) => None,
            // statistics such as batch norm's: small, read as they are
            (true, false) => first_non_finite(&t.as_vec()),
            (values, true) => {
                let mut bad = None;
                let buf = self.grads.get_or_alloc_mut(t)?;
                // the gradient buffer has the length of the parameter's stored buffer, which
                // is what `copy_into` copies
                let read = D::with_slice(buf, &mut |g| {
                    bad = if values {
                        with_scratch(g.len(), |s| {
                            t.copy_into(s);
                            first_non_finite(s)
                        })
                    } else {
                        first_non_finite(g)
                    };
                });
                if let Err(e) = read {
                    self.failed.get_or_insert(e);
                }
                bad
            }
        };
        if let Some((_, value)) = bad {
            self.found = Some((name, value));
        }
        Ok(None)
    }
}

/// Walks `model` with the guard: the first tensor whose gradient (or with `values`, whose
/// value) holds a NaN or an infinity, as `(path, value)`.
fn find_non_finite<E: Dtype, M: TensorCollection<E, D>, D: TrainingDevice<E>>(
    model: &M,
    grads: &mut Gradients<E, D>,
    values: bool,
) -> Result<Option<(String, f64)>> {
    let mut guard = Guard {
        grads,
        values,
        found: None,
        failed: None,
    };
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut guard,
    })
    .map_err(Error::device)?;
    match guard.failed {
        Some(e) => Err(e),
        None => Ok(guard.found),
    }
}

/// The first trainable tensor of `model` whose gradient in `grads` holds a NaN or an infinity:
/// its path (e.g. `0.1.weight`) and the value.
///
/// # Errors
/// Device errors.
pub(crate) fn non_finite_gradient<E: Dtype, M: TensorCollection<E, D>, D: TrainingDevice<E>>(
    model: &M,
    grads: &mut Gradients<E, D>,
) -> Result<Option<(String, f64)>> {
    find_non_finite(model, grads, false)
}

/// The first tensor of `model` (parameters and statistics such as batch norm's) holding a NaN
/// or an infinity: its path and the value. `grads` are the model's gradients (their buffers
/// give each parameter's stored length; their values are not read).
///
/// # Errors
/// Device errors.
pub(crate) fn non_finite_parameter<E: Dtype, M: TensorCollection<E, D>, D: TrainingDevice<E>>(
    model: &M,
    grads: &mut Gradients<E, D>,
) -> Result<Option<(String, f64)>> {
    find_non_finite(model, grads, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::{modules, Linear};

    type Net = (modules::Linear<2, 2, f32, Cpu>,);

    fn grads_of(m: &Net, dev: &Cpu) -> Gradients<f32, Cpu> {
        let x = dev.tensor([[3.0f32, -4.0]]);
        let out = m.forward(x.trace(m.alloc_grads()));
        out.sum().backward()
    }

    #[test]
    fn norm_clipping_scales_to_the_threshold() {
        let dev = Cpu::seed_from_u64(0);
        let m = dev.build_module::<(Linear<2, 2>,), f32>();
        let mut g = grads_of(&m, &dev);
        // d(sum)/dW = x for each output row: rows (3, -4) twice; d/db = 1, 1 → ‖g‖² = 25·2 + 2
        let norm = clip_gradients(&m, &mut g, GradClip::Norm(1.0)).unwrap();
        assert!((norm - 52f64.sqrt()).abs() < 1e-5);
        let after = clip_gradients(&m, &mut g, GradClip::Norm(10.0)).unwrap();
        assert!((after - 1.0).abs() < 1e-5, "{after}");
    }

    #[test]
    fn value_clipping_clamps_elements() {
        let dev = Cpu::seed_from_u64(0);
        let m = dev.build_module::<(Linear<2, 2>,), f32>();
        let mut g = grads_of(&m, &dev);
        clip_gradients(&m, &mut g, GradClip::Value(2.0)).unwrap();
        assert_eq!(g.get(&m.0.weight).as_vec(), vec![2.0, -2.0, 2.0, -2.0]);
        assert!(clip_gradients(&m, &mut g, GradClip::Value(0.0)).is_err());
    }
}
