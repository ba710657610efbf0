//! The Keras-style training loop: `compile`, `fit`, `evaluate`, `predict`.

use super::callback::{Callback, Context, Control};
use super::metrics::{metric, Metric};
use super::{clip_gradients, EpochLog, FitConfig, History, Progress, TrainModel};
use crate::data::{
    gather, gather_host, prefetch, upload, BatchOf, Dataset, HostBatch, Subset, Target,
};
use crate::losses::Loss;
use crate::nn::TrainingDevice;
use crate::optim::{LearningRate, OptimizerConfig};
use crate::{Error, Result};
use dfdx::optim::{Adam, Optimizer};
use dfdx::prelude::*;
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};
use std::collections::BTreeMap;
use std::time::Instant;

/// Mixed into the seed of the validation split so it differs from the epoch shuffles.
const SPLIT_SEED_SALT: u64 = 0x5eed_0f5b_1175;
/// Mixed into the seed of the augmentation generator so it differs from the epoch shuffles.
const AUGMENT_SEED_SALT: u64 = 0xa119_3e27;

/// The seed of epoch `epoch`'s generator: a function of `(seed, epoch)` only, so a resumed run
/// shuffles and augments as an uninterrupted one (SplitMix64 finaliser to spread nearby seeds).
fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    let mut z = seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Run by `fit` after every epoch, with the History of this call so far (checkpointing).
pub(super) type EpochHook<'h, M, O, L, D> =
    dyn FnMut(&mut Trainer<M, O, L, D>, &History, &mut [&mut dyn Callback<M>]) -> Result<()> + 'h;

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

impl<M, O, L, D: Device<f32>> Trainer<M, O, L, D> {
    /// Pairs `model` with an optimizer built from `optimizer`, a loss and metrics by name.
    ///
    /// # Errors
    /// [`Error::Config`] if a metric name is unknown.
    pub fn compile<C>(device: &D, model: M, optimizer: C, loss: L, metrics: &[&str]) -> Result<Self>
    where
        C: OptimizerConfig<M, D, Optimizer = O>,
    {
        let metrics = metrics
            .iter()
            .map(|m| metric(m))
            .collect::<Result<Vec<_>>>()?;
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

impl<M, O, L, D> Trainer<M, O, L, D>
where
    D: TrainingDevice,
    O: Optimizer<M, D, f32> + LearningRate,
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
        self.fit_with(train, None::<&Ds>, cfg, &mut [])
    }

    /// `fit` with optional validation data and [`Callback`]s (early stopping, checkpoints,
    /// loggers, schedules). `validation` takes precedence over `cfg.validation_split`.
    ///
    /// # Errors
    /// As [`Trainer::fit`], plus a callback's error (e.g. a monitored name this run does not log,
    /// reported before the first step).
    ///
    /// **Keras equivalent**: `model.fit(x, y, validation_data=…, callbacks=[…])`.
    pub fn fit_with<Ds, Vs>(
        &mut self,
        train: &Ds,
        validation: Option<&Vs>,
        cfg: &FitConfig,
        callbacks: &mut [&mut dyn Callback<M>],
    ) -> Result<History>
    where
        Ds: Dataset,
        Vs: Dataset<Sample = Ds::Sample, Target = Ds::Target>,
        M: TrainModel<BatchOf<Ds>, D>,
        L: Loss<M::Out, Ds::Target>,
    {
        self.fit_hooked(train, validation, cfg, callbacks, &mut |_, _, _| Ok(()))
    }

    /// [`Trainer::fit_with`] running `hook` after every epoch.
    pub(super) fn fit_hooked<Ds, Vs>(
        &mut self,
        train: &Ds,
        validation: Option<&Vs>,
        cfg: &FitConfig,
        callbacks: &mut [&mut dyn Callback<M>],
        hook: &mut EpochHook<'_, M, O, L, D>,
    ) -> Result<History>
    where
        Ds: Dataset,
        Vs: Dataset<Sample = Ds::Sample, Target = Ds::Target>,
        M: TrainModel<BatchOf<Ds>, D>,
        L: Loss<M::Out, Ds::Target>,
    {
        if let Some(val) = validation {
            return self.fit_inner(train, Some(val), cfg, callbacks, hook);
        }
        match cfg.validation_split {
            None => self.fit_inner(train, None::<&Ds>, cfg, callbacks, hook),
            Some(f) if (0.0..1.0).contains(&f) => {
                let mut idx: Vec<usize> = (0..train.len()).collect();
                idx.shuffle(&mut StdRng::seed_from_u64(cfg.seed ^ SPLIT_SEED_SALT));
                let n_val = ((train.len() as f64) * f).round() as usize;
                let val = Subset::new(train, idx[..n_val].to_vec());
                let tr = Subset::new(train, idx[n_val..].to_vec());
                self.fit_inner(&tr, Some(&val), cfg, callbacks, hook)
            }
            Some(f) => Err(Error::Config(format!(
                "validation_split {f} is not in [0, 1)"
            ))),
        }
    }

    /// Trains on `train` and reports `val_`-prefixed loss and metrics on `validation` every epoch.
    ///
    /// # Errors
    /// As [`Trainer::fit`].
    ///
    /// **Keras equivalent**: `model.fit(x, y, validation_data=(x_val, y_val))`.
    pub fn fit_validated<Ds, Vs>(
        &mut self,
        train: &Ds,
        validation: &Vs,
        cfg: &FitConfig,
    ) -> Result<History>
    where
        Ds: Dataset,
        Vs: Dataset<Sample = Ds::Sample, Target = Ds::Target>,
        M: TrainModel<BatchOf<Ds>, D>,
        L: Loss<M::Out, Ds::Target>,
    {
        self.fit_inner(train, Some(validation), cfg, &mut [], &mut |_, _, _| Ok(()))
    }

    fn fit_inner<Ds, Vs>(
        &mut self,
        train: &Ds,
        validation: Option<&Vs>,
        cfg: &FitConfig,
        callbacks: &mut [&mut dyn Callback<M>],
        hook: &mut EpochHook<'_, M, O, L, D>,
    ) -> Result<History>
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
        // logits losses split one-wide outputs at 0, probability losses at 0.5
        let threshold = Loss::<M::Out, Ds::Target>::binary_threshold(&self.loss);
        self.metrics
            .iter_mut()
            .for_each(|m| m.set_binary_threshold(threshold));
        if cfg.allocation_cache {
            self.device.try_enable_cache().map_err(Error::device)?;
        }
        let logged = self.logged_names(validation.is_some());
        let mut history = History::default();
        for cb in callbacks.iter_mut() {
            cb.on_train_begin(&mut self.context(&history, &logged))?;
        }
        for epoch in cfg.initial_epoch + 1..=cfg.epochs {
            let start = Instant::now();
            for cb in callbacks.iter_mut() {
                cb.on_epoch_begin(epoch, &mut self.context(&history, &logged))?;
            }
            let mut order: Vec<usize> = (0..train.len()).collect();
            if cfg.shuffle {
                order.shuffle(&mut StdRng::seed_from_u64(epoch_seed(cfg.seed, epoch)));
            }
            let mut augment_rng =
                StdRng::seed_from_u64(epoch_seed(cfg.seed ^ AUGMENT_SEED_SALT, epoch));
            self.metrics.iter_mut().for_each(|m| m.reset());
            let mut progress = Progress::new(cfg.verbosity, epoch, cfg.epochs, train.len());
            let mut run =
                |this: &mut Self, batches: &mut dyn Iterator<Item = HostBatch<Ds::Target>>| {
                    let (mut loss_sum, mut seen) = (0.0f64, 0usize);
                    for (b, host) in batches.enumerate() {
                        let n = host.targets.len();
                        let value = this.train_step::<Ds>(host, cfg, epoch, b + 1)?;
                        loss_sum += value * n as f64;
                        seen += n;
                        progress.batch(seen, loss_sum / seen as f64);
                    }
                    Ok::<_, Error>((loss_sum, seen))
                };
            // a second thread only pays when there is a next batch to read during a step
            let (loss_sum, seen) = if cfg.prefetch && order.len() > cfg.batch_size {
                // the next batch is read (and augmented) on another thread during this step
                prefetch(
                    train,
                    &order,
                    cfg.batch_size,
                    Some(&mut augment_rng),
                    |batches| run(self, batches),
                )?
            } else {
                let mut inline = order
                    .chunks(cfg.batch_size)
                    .map(|chunk| gather_host(train, chunk, Some(&mut augment_rng)));
                run(self, &mut inline)?
            };
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
            if cfg.allocation_cache {
                // what batches of other sizes (the last one, validation) left in the cache
                self.device.try_empty_cache().map_err(Error::device)?;
            }
            let log = EpochLog {
                epoch,
                values,
                seconds: start.elapsed().as_secs_f64(),
            };
            progress.finish(&log);
            let mut stop = false;
            for cb in callbacks.iter_mut() {
                stop |=
                    cb.on_epoch_end(&log, &mut self.context(&history, &logged))? == Control::Stop;
            }
            history.epochs.push(log);
            hook(self, &history, callbacks)?;
            if stop {
                break;
            }
        }
        for cb in callbacks.iter_mut() {
            cb.on_train_end(&mut self.context(&history, &logged))?;
        }
        Ok(history)
    }

    fn context<'a>(&'a mut self, history: &'a History, logged: &'a [String]) -> Context<'a, M> {
        Context {
            model: &mut self.model,
            lr: &mut self.optimizer,
            history,
            logged,
        }
    }

    /// Every name an epoch's log holds in this run.
    fn logged_names(&self, validating: bool) -> Vec<String> {
        let mut names = vec!["loss".to_string()];
        names.extend(self.metrics.iter().map(|m| m.name()));
        if validating {
            let val: Vec<String> = names.iter().map(|n| format!("val_{n}")).collect();
            names.extend(val);
        }
        names
    }

    /// One optimizer step on a host batch (forward in training mode, loss, backward, clipping,
    /// update); returns the batch's mean loss. `batch` is 1-based, for the NaN guard's message.
    fn train_step<Ds>(
        &mut self,
        host: HostBatch<Ds::Target>,
        cfg: &FitConfig,
        epoch: usize,
        batch: usize,
    ) -> Result<f64>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D>,
        L: Loss<M::Out, Ds::Target>,
    {
        let width = <Ds::Target as Target>::WIDTH;
        let batch_tensors = upload::<Ds, D>(&self.device, host)?;
        let grads = match self.grads.take() {
            Some(g) => g,
            None => self.model.try_alloc_grads().map_err(Error::device)?,
        };
        let out = self
            .model
            .try_forward_mut(batch_tensors.x.traced(grads))
            .map_err(Error::device)?;
        if !self.metrics.is_empty() {
            let values = out.retaped::<NoneTape>().as_vec();
            let view = Ds::Target::view(&batch_tensors.labels);
            self.metrics
                .iter_mut()
                .for_each(|m| m.update(&values, width, view));
        }
        let loss = self
            .loss
            .try_loss(out, &batch_tensors.y)
            .map_err(Error::device)?;
        let value = scalar(&loss);
        if !value.is_finite() {
            return Err(Error::NonFinite {
                what: "loss".into(),
                value,
                epoch,
                batch,
            });
        }
        let mut grads = loss.try_backward().map_err(Error::device)?;
        if let Some(clip) = cfg.clip {
            clip_gradients(&self.model, &mut grads, clip)?;
        }
        self.optimizer.update(&mut self.model, &grads)?;
        self.model
            .try_zero_grads(&mut grads)
            .map_err(Error::device)?;
        self.grads = Some(grads);
        Ok(value)
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
            return Err(Error::Config(
                "evaluate needs a non-empty data set and batch size".into(),
            ));
        }
        self.check_metrics(data)?;
        let width = <Ds::Target as Target>::WIDTH;
        let mut metrics: Vec<Box<dyn Metric>> = self
            .metrics
            .iter()
            .map(|m| metric(&m.name()))
            .collect::<Result<_>>()?;
        let threshold = Loss::<M::Out, Ds::Target>::binary_threshold(&self.loss);
        metrics
            .iter_mut()
            .for_each(|m| m.set_binary_threshold(threshold));
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        let all: Vec<usize> = (0..data.len()).collect();
        for chunk in all.chunks(batch_size) {
            let batch = gather(&self.device, data, chunk, None)?;
            let out = self.model.try_forward(batch.x).map_err(Error::device)?;
            if !metrics.is_empty() {
                let host = out.as_vec();
                let view = Ds::Target::view(&batch.labels);
                metrics
                    .iter_mut()
                    .for_each(|m| m.update(&host, width, view));
            }
            let loss = self.loss.try_loss(out, &batch.y).map_err(Error::device)?;
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
            let batch = gather(&self.device, data, chunk, None)?;
            let out = self.model.try_forward(batch.x).map_err(Error::device)?;
            values.extend(out.as_vec());
        }
        let width = if data.is_empty() {
            width
        } else {
            values.len() / data.len()
        };
        Ok(Predictions { values, width })
    }
}
