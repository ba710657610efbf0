//! The Keras-style training loop: `compile`, `fit`, `evaluate`, `predict`.

use super::metrics::{metric, Metric};
use super::{EpochLog, FitConfig, History, OptimizerConfig, Progress, TrainModel};
use crate::data::{BatchShape, Dataset, Subset, Target};
use crate::losses::Loss;
use crate::{Error, Result};
use dfdx::optim::Optimizer;
use dfdx::prelude::*;
use rand::{seq::SliceRandom, SeedableRng};
use std::collections::BTreeMap;
use std::time::Instant;

/// Mixed into the seed of the validation split so it differs from the epoch shuffles.
const SPLIT_SEED_SALT: u64 = 0x5eed_0f5b_1175;
/// Mixed into the seed of the augmentation generator so it differs from the epoch shuffles.
const AUGMENT_SEED_SALT: u64 = 0xa119_3e27;

/// The batch shape of a data set's samples.
type BatchOf<Ds> = <<Ds as Dataset>::Sample as BatchShape>::Batched;

/// A gathered batch: features on the device, targets on the host.
type Gathered<Ds, D> = (Tensor<BatchOf<Ds>, f32, D>, Vec<<<Ds as Dataset>::Target as Target>::Item>);

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
pub struct Trainer<M, O, L, D: Device<f32> = Cpu> {
    /// The model being trained.
    pub model: M,
    /// The optimizer updating it.
    pub optimizer: O,
    /// The loss it minimises.
    pub loss: L,
    metrics: Vec<Box<dyn Metric>>,
    device: D,
    grads: Option<Gradients<f32, D>>,
}

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

impl<M, O, L, D: Device<f32>> Trainer<M, O, L, D> {
    /// Pairs `model` with an optimizer built from `optimizer`, a loss and metrics by name.
    ///
    /// # Errors
    /// [`Error::Config`] if a metric name is unknown.
    pub fn compile<C>(device: &D, model: M, optimizer: C, loss: L, metrics: &[&str]) -> Result<Self>
    where
        C: OptimizerConfig<M, D, Optimizer = O>,
    {
        let metrics = metrics.iter().map(|m| metric(m)).collect::<Result<Vec<_>>>()?;
        Ok(Trainer {
            optimizer: optimizer.build(&model),
            model,
            loss,
            metrics,
            device: device.clone(),
            grads: None,
        })
    }

    /// The device the model trains on.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// Names of the compiled metrics.
    pub fn metric_names(&self) -> Vec<String> {
        self.metrics.iter().map(|m| m.name()).collect()
    }
}

/// The value of a scalar tensor (NaN if it somehow holds none, which the NaN guard then reports).
fn scalar<D: Device<f32>, T>(t: &Tensor<Rank0, f32, D, T>) -> f64 {
    t.as_vec().first().map_or(f64::NAN, |&v| v as f64)
}

/// Reads samples `indices` of `data` into a batch: features on the device, targets on the host.
/// With `train_rng` (training steps only) samples are read through
/// [`Dataset::write_train_features`], which augments them if the data set does.
fn gather<Ds: Dataset, D: Device<f32>>(
    device: &D,
    data: &Ds,
    indices: &[usize],
    mut train_rng: Option<&mut rand::rngs::StdRng>,
) -> Result<Gathered<Ds, D>> {
    let numel = <Ds::Sample as ConstShape>::NUMEL;
    let mut x = vec![0.0f32; indices.len() * numel];
    for (row, &i) in x.chunks_exact_mut(numel).zip(indices) {
        match train_rng.as_deref_mut() {
            Some(rng) => data.write_train_features(i, row, rng),
            None => data.write_features(i, row),
        }
    }
    let y = indices.iter().map(|&i| data.target(i)).collect();
    let x = device
        .try_tensor_from_vec(x, Ds::Sample::batched(indices.len()))
        .map_err(Error::device)?;
    Ok((x, y))
}

impl<M, O, L, D> Trainer<M, O, L, D>
where
    D: Device<f32>,
    O: Optimizer<M, D, f32>,
{
    /// Trains for `cfg.epochs` epochs and returns the [`History`].
    ///
    /// Each epoch reshuffles (seeded), runs one optimizer step per batch in training mode (dropout
    /// on, batch-norm statistics updated), then evaluates the validation split if one is set.
    ///
    /// # Errors
    /// [`Error::Config`] for a zero batch size or epoch count, an empty data set or a metric that
    /// does not fit the targets (checked before the first step); [`Error::NonFinite`] naming the
    /// epoch and batch if the loss becomes NaN or infinite; device and optimizer errors.
    ///
    /// **Keras equivalent**: `model.fit(x, y, epochs=…, batch_size=…, validation_split=…)`.
    pub fn fit<Ds>(&mut self, train: &Ds, cfg: &FitConfig) -> Result<History>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D>,
        L: Loss<M::Out, Ds::Target>,
    {
        match cfg.validation_split {
            None => self.fit_inner(train, None::<&Ds>, cfg),
            Some(f) if (0.0..1.0).contains(&f) => {
                let mut idx: Vec<usize> = (0..train.len()).collect();
                idx.shuffle(&mut rand::rngs::StdRng::seed_from_u64(cfg.seed ^ SPLIT_SEED_SALT));
                let n_val = ((train.len() as f64) * f).round() as usize;
                let val = Subset::new(train, idx[..n_val].to_vec());
                let tr = Subset::new(train, idx[n_val..].to_vec());
                self.fit_inner(&tr, Some(&val), cfg)
            }
            Some(f) => Err(Error::Config(format!("validation_split {f} is not in [0, 1)"))),
        }
    }

    /// Trains on `train` and reports `val_`-prefixed loss and metrics on `validation` every epoch.
    ///
    /// # Errors
    /// As [`Trainer::fit`].
    ///
    /// **Keras equivalent**: `model.fit(x, y, validation_data=(x_val, y_val))`.
    pub fn fit_validated<Ds, Vs>(&mut self, train: &Ds, validation: &Vs, cfg: &FitConfig) -> Result<History>
    where
        Ds: Dataset,
        Vs: Dataset<Sample = Ds::Sample, Target = Ds::Target>,
        M: TrainModel<BatchOf<Ds>, D>,
        L: Loss<M::Out, Ds::Target>,
    {
        self.fit_inner(train, Some(validation), cfg)
    }

    fn fit_inner<Ds, Vs>(&mut self, train: &Ds, validation: Option<&Vs>, cfg: &FitConfig) -> Result<History>
    where
        Ds: Dataset,
        Vs: Dataset<Sample = Ds::Sample, Target = Ds::Target>,
        M: TrainModel<BatchOf<Ds>, D>,
        L: Loss<M::Out, Ds::Target>,
    {
        if cfg.batch_size == 0 || cfg.eval_batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        if train.is_empty() {
            return Err(Error::Config("the training set is empty".into()));
        }
        self.check_metrics(train)?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
        let mut augment_rng = rand::rngs::StdRng::seed_from_u64(cfg.seed ^ AUGMENT_SEED_SALT);
        let mut order: Vec<usize> = (0..train.len()).collect();
        let mut history = History::default();
        let width = <Ds::Target as Target>::WIDTH;
        for epoch in 1..=cfg.epochs {
            let start = Instant::now();
            if cfg.shuffle {
                order.shuffle(&mut rng);
            }
            self.metrics.iter_mut().for_each(|m| m.reset());
            let mut progress = Progress::new(cfg.verbosity, epoch, cfg.epochs, train.len());
            let (mut loss_sum, mut seen) = (0.0f64, 0usize);
            for (b, chunk) in order.chunks(cfg.batch_size).enumerate() {
                let (x, y) = gather(&self.device, train, chunk, Some(&mut augment_rng))?;
                let y_dev = Ds::Target::to_device(&self.device, &y)?;
                let grads = match self.grads.take() {
                    Some(g) => g,
                    None => self.model.try_alloc_grads().map_err(Error::device)?,
                };
                let out = self.model.try_forward_mut(x.traced(grads)).map_err(Error::device)?;
                if !self.metrics.is_empty() {
                    let host = out.retaped::<NoneTape>().as_vec();
                    let view = Ds::Target::view(&y);
                    self.metrics.iter_mut().for_each(|m| m.update(&host, width, view));
                }
                let loss = self.loss.try_loss(out, &y_dev).map_err(Error::device)?;
                let value = scalar(&loss);
                if !value.is_finite() {
                    return Err(Error::NonFinite { what: "loss".into(), value, epoch, batch: b + 1 });
                }
                let mut grads = loss.try_backward().map_err(Error::device)?;
                self.optimizer.update(&mut self.model, &grads)?;
                self.model.try_zero_grads(&mut grads).map_err(Error::device)?;
                self.grads = Some(grads);
                loss_sum += value * chunk.len() as f64;
                seen += chunk.len();
                progress.batch(seen, loss_sum / seen as f64);
            }
            let mut values = BTreeMap::new();
            values.insert("loss".to_string(), loss_sum / seen as f64);
            for m in &self.metrics {
                values.insert(m.name(), m.compute());
            }
            if let Some(val) = validation {
                let ev = self.evaluate_batched(val, cfg.eval_batch_size)?;
                values.insert("val_loss".to_string(), ev.loss);
                for (k, v) in ev.metrics {
                    values.insert(format!("val_{k}"), v);
                }
            }
            let log = EpochLog { epoch, values, seconds: start.elapsed().as_secs_f64() };
            progress.finish(&log);
            history.epochs.push(log);
        }
        Ok(history)
    }

    fn check_metrics<Ds: Dataset>(&self, data: &Ds) -> Result<()> {
        let y = [data.target(0)];
        for m in &self.metrics {
            m.check(<Ds::Target as Target>::WIDTH, Ds::Target::view(&y))?;
        }
        Ok(())
    }

    /// Mean loss and metrics on `data`, in inference mode, 256 samples per batch.
    ///
    /// # Errors
    /// [`Error::Config`] for an empty data set or a metric that does not fit; device errors.
    ///
    /// **Keras equivalent**: `model.evaluate(x, y)`.
    pub fn evaluate<Ds>(&mut self, data: &Ds) -> Result<Evaluation>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D>,
        L: Loss<M::Out, Ds::Target>,
    {
        self.evaluate_batched(data, 256)
    }

    /// [`Trainer::evaluate`] with `batch_size` samples per batch.
    ///
    /// # Errors
    /// As [`Trainer::evaluate`].
    pub fn evaluate_batched<Ds>(&mut self, data: &Ds, batch_size: usize) -> Result<Evaluation>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D>,
        L: Loss<M::Out, Ds::Target>,
    {
        if data.is_empty() || batch_size == 0 {
            return Err(Error::Config("evaluate needs a non-empty data set and batch size".into()));
        }
        self.check_metrics(data)?;
        let width = <Ds::Target as Target>::WIDTH;
        let mut metrics: Vec<Box<dyn Metric>> =
            self.metrics.iter().map(|m| metric(&m.name())).collect::<Result<_>>()?;
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        let all: Vec<usize> = (0..data.len()).collect();
        for chunk in all.chunks(batch_size) {
            let (x, y) = gather(&self.device, data, chunk, None)?;
            let y_dev = Ds::Target::to_device(&self.device, &y)?;
            let out = self.model.try_forward(x).map_err(Error::device)?;
            if !metrics.is_empty() {
                let host = out.as_vec();
                let view = Ds::Target::view(&y);
                metrics.iter_mut().for_each(|m| m.update(&host, width, view));
            }
            let loss = self.loss.try_loss(out, &y_dev).map_err(Error::device)?;
            loss_sum += scalar(&loss) * chunk.len() as f64;
            seen += chunk.len();
        }
        Ok(Evaluation {
            loss: loss_sum / seen as f64,
            metrics: metrics.iter().map(|m| (m.name(), m.compute())).collect(),
        })
    }

    /// The model's outputs for every sample of `data`, in inference mode.
    ///
    /// # Errors
    /// Device errors.
    ///
    /// **Keras equivalent**: `model.predict(x)`.
    pub fn predict<Ds>(&self, data: &Ds) -> Result<Predictions>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D>,
    {
        let width = <Ds::Target as Target>::WIDTH;
        let mut values = Vec::with_capacity(data.len() * width);
        let all: Vec<usize> = (0..data.len()).collect();
        for chunk in all.chunks(256) {
            let (x, _) = gather(&self.device, data, chunk, None)?;
            let out = self.model.try_forward(x).map_err(Error::device)?;
            values.extend(out.as_vec());
        }
        let width = if data.is_empty() { width } else { values.len() / data.len() };
        Ok(Predictions { values, width })
    }
}
