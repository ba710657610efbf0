//! Gradient clipping between backward and the optimizer step.

use crate::{Error, Result};
use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorRef,
};
use dfdx::prelude::*;

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

/// A device the [`Trainer`](super::Trainer) trains on: it can read and write gradient buffers
/// (for clipping: the CPU in place, CUDA through a copy to the host and back) and has dfdx's
/// allocation cache (which `fit` turns on, see [`FitConfig::allocation_cache`](super::FitConfig)),
/// and kernels for [`Linear`](crate::prelude::Linear) and the conv layers (so code generic over
/// the device can name models with `Linear`, `Conv2D` and pooling layers without a further bound).
pub trait TrainingDevice:
    Device<f32> + Cache + crate::nn::LinearDevice<f32> + crate::nn::ConvDevice<f32>
{
    /// Runs `f` on the gradient buffer `v` as a slice of host memory.
    ///
    /// # Errors
    /// A device error's text if copying to or from the device fails.
    fn with_slice(
        v: &mut <Self as Storage<f32>>::Vec,
        f: &mut dyn FnMut(&mut [f32]),
    ) -> std::result::Result<(), String>;
}

impl TrainingDevice for Cpu {
    fn with_slice(
        v: &mut <Self as Storage<f32>>::Vec,
        f: &mut dyn FnMut(&mut [f32]),
    ) -> std::result::Result<(), String> {
        f(v);
        Ok(())
    }
}

#[cfg(feature = "cuda")]
impl TrainingDevice for Cuda {
    fn with_slice(
        v: &mut <Self as Storage<f32>>::Vec,
        f: &mut dyn FnMut(&mut [f32]),
    ) -> std::result::Result<(), String> {
        let dev = v.device();
        let mut host = dev.dtoh_sync_copy(&**v).map_err(|e| e.to_string())?;
        f(&mut host);
        dev.htod_sync_copy_into(&host, &mut **v)
            .map_err(|e| e.to_string())
    }
}

struct Visit<'g, D: Device<f32>> {
    grads: &'g mut Gradients<f32, D>,
    /// The first copy error, reported after the walk.
    failed: Option<String>,
    clip: GradClip,
    /// Pass 1 of `Norm`: sum of squares. Pass 2: the scale factor to apply.
    sum_sq: f64,
    scale: Option<f32>,
}

impl<D: TrainingDevice> TensorVisitor<f32, D> for Visit<'_, D> {
    type Viewer = ViewTensorRef;
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        t: &Tensor<S, f32, D>,
    ) -> std::result::Result<Option<Tensor<S, f32, D>>, D::Err> {
        if !opts.do_gradient_update {
            return Ok(None);
        }
        let buf = self.grads.get_or_alloc_mut(t)?;
        let mut sum_sq = 0.0;
        let done = match (self.clip, self.scale) {
            (GradClip::Value(v), _) => {
                D::with_slice(buf, &mut |g| g.iter_mut().for_each(|x| *x = x.clamp(-v, v)))
            }
            (GradClip::Norm(_), None) => D::with_slice(buf, &mut |g| {
                sum_sq = g.iter().map(|&x| (x as f64) * (x as f64)).sum()
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
/// clipping (for `Norm`; `NaN` for `Value`).
///
/// # Errors
/// [`Error::Config`] for a non-positive or non-finite threshold; device errors.
pub fn clip_gradients<M: TensorCollection<f32, D>, D: TrainingDevice>(
    model: &M,
    grads: &mut Gradients<f32, D>,
    clip: GradClip,
) -> Result<f64> {
    let limit = match clip {
        GradClip::Norm(v) | GradClip::Value(v) => v,
    };
    if !(limit > 0.0 && limit.is_finite()) {
        return Err(Error::Config(format!(
            "gradient clip threshold {limit} must be positive and finite"
        )));
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
            Some(e) => Err(Error::device(e)),
            None => Ok(f64::NAN),
        };
    };
    let norm = visit.sum_sq.sqrt();
    if norm > max_norm as f64 {
        visit.scale = Some((max_norm as f64 / norm) as f32);
        M::iter_tensors(&mut RecursiveWalker {
            m: model,
            f: &mut visit,
        })
        .map_err(Error::device)?;
    }
    match visit.failed {
        Some(e) => Err(Error::device(e)),
        None => Ok(norm),
    }
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
