//! The Keras-style training loop: `compile`, `fit`, `evaluate`, `predict`.

use super::clip::{
    check_features, check_loss, diverged, non_finite_gradient, non_finite_parameter,
};
use super::metrics::{MetricList, Metrics};
use super::{clip_gradients, FitConfig, GradClip, TrainModel};
use crate::data::{for_each_batch, Batch, BatchOf, Dataset, HostBatch};
use crate::losses::Loss;
use crate::nn::TrainingDevice;
use crate::optim::{LearningRate, OptimizerConfig};
use crate::{Error, Result};
use dfdx::optim::{Adam, Optimizer};
use dfdx::prelude::*;
use std::collections::BTreeMap;

/// A model with its optimizer, loss and metrics: Keras's compiled `Model`.
///
/// Generic over the built model `M`, the optimizer `O`, the loss `L` and the device `D`. The
/// compiler checks that a data set's samples fit the model's input and its targets fit the
/// model's output and the loss, at every `fit`, `evaluate` and `predict` call.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// type Mlp = (Linear<2, 8>, Tanh, Linear<8, 2>);
/// let dev = Cpu::seed_from_u64(0);
/// // XOR as a 2-class problem
/// let xor = InMemory::<Rank1<2>, Classes<2>>::new(
///     vec![0., 0., 0., 1., 1., 0., 1., 1.],
///     vec![0, 1, 1, 0],
/// )?;
/// let mut model = Trainer::compile(
///     &dev,
///     dev.build_module::<Mlp, f32>(),
///     AdamConfig { lr: 0.05, ..Default::default() },
///     SparseCategoricalCrossentropy,
///     &["accuracy"],
/// )?;
/// let cfg = FitConfig { epochs: 300, batch_size: 4, verbosity: Verbosity::Silent, ..Default::default() };
/// model.fit(&xor, &cfg)?;
/// assert_eq!(model.evaluate(&xor)?.metrics["accuracy"], 1.0);
/// # Ok(()) }
/// ```
///
/// **Keras equivalent**: `model.compile(optimizer, loss, metrics)`.
pub struct Trainer<M, O, L, D: Device<E> = Cpu, E: Dtype = f32> {
    /// The model being trained.
    pub model: M,
    /// The optimizer updating it.
    pub optimizer: O,
    /// The loss it minimises.
    pub loss: L,
    /// Samples per batch in [`Trainer::evaluate`] and [`Trainer::predict`]. Default `256`.
    pub eval_batch_size: usize,
    pub(super) metrics: Metrics,
    pub(super) device: D,
    pub(super) grads: Option<Gradients<E, D>>,
}

/// The module that model type `M` builds into on device `D` in `f32`, e.g.
/// `Built<(Linear<2, 3>, ReLU)>` is `(modules::Linear<2, 3, f32, Cpu>, ReLU)`.
pub type Built<M, D = Cpu> = <M as BuildOnDevice<D, f32>>::Built;

/// A [`Trainer`] of model type `M` with Adam and loss `L`, the type of
/// `Trainer::compile(&dev, dev.build_module::<M, f32>(), AdamConfig { … }, loss, …)`.
pub type AdamTrainer<M, L, D = Cpu> = Trainer<Built<M, D>, Adam<Built<M, D>, f32, D>, L, D>;

/// Loss and metrics of a model on a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Mean loss per sample.
    pub loss: f64,
    /// Each compiled metric by name.
    pub metrics: BTreeMap<String, f64>,
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "loss {:.4}", self.loss)?;
        for (k, v) in &self.metrics {
            write!(f, " - {k} {v:.4}")?;
        }
        Ok(())
    }
}

/// Model outputs for a data set, row-major, `width` per sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// The raw outputs (logits for a classifier without a softmax layer).
    pub values: Vec<f32>,
    /// Outputs per sample.
    pub width: usize,
}

impl Predictions {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.values.len() / self.width.max(1)
    }
    /// Whether there are no predictions.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// The outputs of sample `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.width..(i + 1) * self.width]
    }
    /// The arg-max class of each sample.
    pub fn classes(&self) -> Vec<usize> {
        self.values
            .chunks_exact(self.width)
            .map(|r| {
                r.iter()
                    .enumerate()
                    .fold(0, |b, (i, &v)| if v > r[b] { i } else { b })
            })
            .collect()
    }
    /// Softmax of each row (class probabilities when the outputs are logits).
    pub fn probabilities(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.values.len());
        for r in self.values.chunks_exact(self.width) {
            let m = r.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let s: f32 = r.iter().map(|v| (v - m).exp()).sum();
            out.extend(r.iter().map(|v| (v - m).exp() / s));
        }
        out
    }
}

impl<M, O, L, D: Device<E>, E: Dtype> Trainer<M, O, L, D, E> {
    /// Pairs `model` with an optimizer built from `optimizer`, a loss and metrics: names
    /// (`&["accuracy"]`, see [`metric`](super::metric)) or metric objects, yours included
    /// (`vec![Box::new(MyMetric) as Box<dyn Metric>, metric("mae")?]`).
    ///
    /// # Errors
    /// [`Error::UnknownMetric`] if a metric name is unknown.
    pub fn compile<C>(
        device: &D,
        model: M,
        optimizer: C,
        loss: L,
        metrics: impl Into<MetricList>,
    ) -> Result<Self>
    where
        C: OptimizerConfig<M, D, E, Optimizer = O>,
    {
        Ok(Trainer {
            optimizer: optimizer.build(&model),
            model,
            loss,
            eval_batch_size: 256,
            metrics: Metrics::new(metrics.into().build()?),
            device: device.clone(),
            grads: None,
        })
    }
}

/// The value of a scalar tensor (NaN if it somehow holds none, which the NaN guard then reports).
pub(super) fn scalar<E: Dtype, D: Device<E>, T>(t: &Tensor<Rank0, E, D, T>) -> f64 {
    t.as_vec()
        .first()
        .and_then(|v| v.to_f64())
        .unwrap_or(f64::NAN)
}

/// Outputs as `f32`, what metrics and [`Predictions`] hold: the same vector for an `f32` model
/// (no copy), converted otherwise.
pub(super) fn to_f32<E: Dtype>(values: Vec<E>) -> Vec<f32> {
    let mut slot = Some(values);
    if let Some(same) = (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<Vec<f32>>>() {
        return same.take().unwrap_or_default();
    }
    slot.unwrap_or_default()
        .into_iter()
        .map(|v| v.to_f32().unwrap_or(f32::NAN))
        .collect()
}

impl<M, O, L, D, E> Trainer<M, O, L, D, E>
where
    E: Dtype,
    D: TrainingDevice<E>,
    O: Optimizer<M, D, E> + LearningRate,
{
    /// One optimizer step on a host batch (forward in training mode, loss, backward, clipping,
    /// update); returns the batch's mean loss. `batch` is 1-based, for the NaN guard's message.
    pub(super) fn train_step<Ds>(
        &mut self,
        host: HostBatch<Ds::Target>,
        cfg: &FitConfig,
        epoch: usize,
        batch: usize,
    ) -> Result<f64>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D, E>,
        L: Loss<M::Out, Ds::Target, E>,
    {
        check_features(&host.features, host.targets.len(), (epoch, batch))?;
        let batch_tensors = Batch::<Ds, D, E>::upload(&self.device, host)?;
        let grads = match self.grads.take() {
            Some(g) => g,
            None => self.model.try_alloc_grads().map_err(Error::device)?,
        };
        let out = self
            .model
            .try_forward_mut(batch_tensors.x.traced(grads))
            .map_err(Error::device)?;
        if !self.metrics.is_empty() {
            let values = to_f32(out.retaped::<NoneTape>().as_vec());
            self.metrics
                .update_outputs::<Ds::Target>(&values, &batch_tensors.labels);
        }
        let loss = self
            .loss
            .try_loss(out, &batch_tensors.y)
            .map_err(Error::device)?;
        let value = scalar(&loss);
        check_loss(value, (epoch, batch))?;
        let grads = loss.try_backward().map_err(Error::device)?;
        self.finish_step(grads, cfg, epoch, batch)?;
        Ok(value)
    }

    /// The end of a step, once `grads` holds its gradient: clipping, the non-finite guards, the
    /// optimizer's update; the zeroed gradients are kept for the next step.
    pub(super) fn finish_step(
        &mut self,
        mut grads: Gradients<E, D>,
        cfg: &FitConfig,
        epoch: usize,
        batch: usize,
    ) -> Result<()>
    where
        M: TensorCollection<E, D>,
    {
        // gradients checked before value clipping (which would turn ±∞ into the bound); norm
        // clipping's global norm already covers every gradient, so they are searched only if
        // it is not finite
        let norm = match cfg.clip {
            Some(clip @ GradClip::Norm(_)) => clip_gradients(&self.model, &mut grads, clip)?,
            _ => f64::NAN,
        };
        if !norm.is_finite()
            && let Some((name, v)) = non_finite_gradient(&self.model, &mut grads)?
        {
            let what = format!("the gradient of {name}");
            return Err(diverged(what, Some(&name), v, (epoch, batch)));
        }
        if let Some(clip @ GradClip::Value(_)) = cfg.clip {
            clip_gradients(&self.model, &mut grads, clip)?;
        }
        self.optimizer.update(&mut self.model, &grads)?;
        if let Some((name, v)) = non_finite_parameter(&self.model, &mut grads)? {
            let what = format!("parameter {name} after the optimizer step");
            return Err(diverged(what, Some(&name), v, (epoch, batch)));
        }
        self.model
            .try_zero_grads(&mut grads)
            .map_err(Error::device)?;
        self.grads = Some(grads);
        Ok(())
    }
}

impl<M, O, L, D: Device<E>, E: Dtype> Trainer<M, O, L, D, E> {
    /// Checks, before the first batch, that every metric fits the data set's targets and the
    /// loss, and tells them where the loss splits one-wide outputs.
    pub(super) fn prepare_metrics<Ds>(&mut self, data: &Ds) -> Result<()>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D, E>,
        L: Loss<M::Out, Ds::Target, E>,
    {
        self.metrics
            .check_outputs::<Ds::Target>(&[data.target(0)])?;
        // logits losses split one-wide outputs at 0, probability losses at 0.5
        let loss = &self.loss;
        self.metrics
            .set_binary_thresholds(|k| Loss::<M::Out, Ds::Target, E>::output_threshold(loss, k));
        Ok(())
    }

    /// Mean loss and metrics on `data`, in inference mode, [`Trainer::eval_batch_size`]
    /// samples per batch.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty data set or a batch size of 0; a metric that
    /// does not fit the targets; device errors.
    ///
    /// **Keras equivalent**: `model.evaluate(x, y)`.
    pub fn evaluate<Ds>(&mut self, data: &Ds) -> Result<Evaluation>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D, E>,
        L: Loss<M::Out, Ds::Target, E>,
    {
        self.evaluate_in_batches(data, self.eval_batch_size)
    }

    /// [`Trainer::evaluate`] with `batch_size` samples per batch (`fit`'s validation uses
    /// `FitConfig::eval_batch_size`).
    pub(super) fn evaluate_in_batches<Ds>(
        &mut self,
        data: &Ds,
        batch_size: usize,
    ) -> Result<Evaluation>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D, E>,
        L: Loss<M::Out, Ds::Target, E>,
    {
        if data.is_empty() {
            return Err(Error::Empty {
                what: "data set",
                operation: "evaluate",
            });
        }
        check_batch_size("eval_batch_size", batch_size)?;
        self.prepare_metrics(data)?;
        self.metrics.reset();
        let order: Vec<usize> = (0..data.len()).collect();
        let (loss_sum, seen) = for_each_batch(
            data,
            &order,
            batch_size,
            None,
            false,
            |batches| -> Result<(f64, usize)> {
                let (mut loss_sum, mut seen) = (0.0f64, 0usize);
                for host in batches {
                    let n = host.targets.len();
                    let batch = Batch::<Ds, D, E>::upload(&self.device, host)?;
                    let out = self.model.try_forward(batch.x).map_err(Error::device)?;
                    if !self.metrics.is_empty() {
                        let values = to_f32(out.as_vec());
                        self.metrics
                            .update_outputs::<Ds::Target>(&values, &batch.labels);
                    }
                    let loss = self.loss.try_loss(out, &batch.y).map_err(Error::device)?;
                    loss_sum += scalar(&loss) * n as f64;
                    seen += n;
                }
                Ok((loss_sum, seen))
            },
        )?;
        Ok(Evaluation {
            loss: loss_sum / seen as f64,
            metrics: self.metrics.values(),
        })
    }

    /// The model's outputs for every sample of `data`, in inference mode,
    /// [`Trainer::eval_batch_size`] samples per batch. Labels are not read: a set of features
    /// alone is an `InMemory<_, NoLabels>` (see [`NoLabels`](crate::data::NoLabels)).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a batch size of 0; device errors.
    ///
    /// **Keras equivalent**: `model.predict(x)`.
    pub fn predict<Ds>(&self, data: &Ds) -> Result<Predictions>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D, E>,
    {
        check_batch_size("eval_batch_size", self.eval_batch_size)?;
        let order: Vec<usize> = (0..data.len()).collect();
        let (values, width) = for_each_batch(
            data,
            &order,
            self.eval_batch_size,
            None,
            false,
            |batches| -> Result<(Vec<f32>, usize)> {
                let (mut values, mut width) = (Vec::new(), 0);
                for host in batches {
                    let n = host.targets.len();
                    let batch = Batch::<Ds, D, E>::upload(&self.device, host)?;
                    let out = self.model.try_forward(batch.x).map_err(Error::device)?;
                    let out = to_f32(out.as_vec());
                    width = out.len() / n.max(1);
                    values.extend(out);
                }
                Ok((values, width))
            },
        )?;
        Ok(Predictions { values, width })
    }
}

/// An error unless `size` is at least 1.
pub(super) fn check_batch_size(what: &'static str, size: usize) -> Result<()> {
    if size == 0 {
        return Err(Error::InvalidArgument {
            what,
            value: "0".into(),
            expected: "at least 1".into(),
        });
    }
    Ok(())
}
