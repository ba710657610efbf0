//! `fit`: the training loop, and the builder for its optional parts (validation data,
//! callbacks, backup and resume).

use super::accumulate::Step;
use super::callbacks::base::{ModelStore, OptimizerRef, StatefulOptimizer};
use super::callbacks::{BackupAndRestore, ProgressLogger};
use super::trainer::check_batch_size;
use super::{
    BatchLog, Callback, Context, Control, EpochLog, FitConfig, History, TrainModel, TrainState,
    Trainer,
};
use crate::checkpoint::{load_model, save_model, Snapshot};
use crate::data::{for_each_batch, split_indices, BatchOf, Dataset, Subset};
use crate::distributed::{epoch_shard, samples_of_rank, Communicator, Single};
use crate::losses::Loss;
use crate::nn::TrainingDevice;
use crate::optim::LearningRate;
use crate::optim::OptimizerState;
use crate::{Error, Result};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::optim::Optimizer;
use dfdx::shapes::Dtype;
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
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

/// Where a [`Fit`] backs the run up, and how it reaches the optimizer's state.
struct Backup<O> {
    dir: PathBuf,
    resume: bool,
    state: for<'x> fn(&'x mut O) -> &'x mut dyn StatefulOptimizer,
}

fn stateful<O: LearningRate + OptimizerState>(o: &mut O) -> &mut dyn StatefulOptimizer {
    o
}

/// A `fit` call being set up: the training data, then optional validation data, callbacks and
/// a backup directory, then [`Fit::run`]. Built by [`Trainer::fitting`];
/// [`Trainer::fit`] is `fitting(train).run(cfg)`.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::seed_from_u64(0);
/// let xor = InMemory::<Rank1<2>, Classes<2>>::new(vec![0., 0., 0., 1., 1., 0., 1., 1.], vec![0, 1, 1, 0])?;
/// let mut model = Trainer::compile(
///     &dev,
///     dev.build_module::<(Linear<2, 8>, Tanh, Linear<8, 2>), f32>(),
///     Resumable(AdamConfig { lr: 0.05, ..Default::default() }),
///     SparseCategoricalCrossentropy,
///     &["accuracy"],
/// )?;
/// let dir = std::env::temp_dir().join(format!("typenet-doc-fit-{}", std::process::id()));
/// let mut stop = EarlyStopping { monitor: "val_accuracy".into(), patience: 20, ..Default::default() };
/// let history = model
///     .fitting(&xor)
///     .validation(&xor)
///     .callback(&mut stop)
///     .backup(&dir, true) // saved every epoch; a rerun resumes where this one stopped
///     .run(&FitConfig { epochs: 300, batch_size: 4, verbosity: Verbosity::Silent, ..Default::default() })?;
/// assert_eq!(history.last("val_accuracy"), Some(1.0));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok(()) }
/// ```
///
/// **Keras equivalent**: `model.fit(x, y, validation_data=…, callbacks=[…, BackupAndRestore(dir)])`.
#[must_use = "a Fit does nothing until `run`"]
pub struct Fit<'r, M, O, L, D: TrainingDevice<E>, Ds, Vs = Ds, E: Dtype = f32> {
    trainer: &'r mut Trainer<M, O, L, D, E>,
    train: &'r Ds,
    validation: Option<&'r Vs>,
    callbacks: Vec<Box<dyn Callback<M> + 'r>>,
    backup: Option<Backup<O>>,
    comm: Option<&'r dyn Communicator>,
}

impl<M, O, L, D: TrainingDevice<E>, E: Dtype> Trainer<M, O, L, D, E> {
    /// Starts setting up a `fit` on `train`; see [`Fit`].
    pub fn fitting<'r, Ds: Dataset>(&'r mut self, train: &'r Ds) -> Fit<'r, M, O, L, D, Ds, Ds, E> {
        Fit {
            trainer: self,
            train,
            validation: None,
            callbacks: Vec::new(),
            backup: None,
            comm: None,
        }
    }
}

impl<'r, M, O, L, D: TrainingDevice<E>, E: Dtype, Ds: Dataset, Vs> Fit<'r, M, O, L, D, Ds, Vs, E> {
    /// Reports `val_`-prefixed loss and metrics on `validation` after every epoch (in place of
    /// `FitConfig::validation_split`).
    pub fn validation<V2>(self, validation: &'r V2) -> Fit<'r, M, O, L, D, Ds, V2, E>
    where
        V2: Dataset<Sample = Ds::Sample, Target = Ds::Target>,
    {
        Fit {
            trainer: self.trainer,
            train: self.train,
            validation: Some(validation),
            callbacks: self.callbacks,
            backup: self.backup,
            comm: self.comm,
        }
    }

    /// Trains data-parallel on the ranks of `comm`: every rank runs this same `fit` (same
    /// model seed, data and settings); each reads its shard of every epoch, the gradients of
    /// all ranks are summed in rank order before every step (see
    /// [`distributed`](crate::distributed)), and validation is shared among the ranks, so
    /// every rank ends with the same weights and the same global [`History`]. One step takes
    /// `ranks · accumulation_steps · batch_size` samples.
    ///
    /// Rank 0 alone prints progress and writes the backup; every rank reads the backup to
    /// resume (a file system they share), and a backup is resumed with the same number of
    /// ranks only. Callbacks run on every rank (early stopping and schedules must, to keep
    /// the ranks in step): give those that write files on rank 0 only.
    ///
    /// **PyTorch equivalent**: `DistributedDataParallel` with a `DistributedSampler`.
    pub fn distributed(mut self, comm: &'r dyn Communicator) -> Self {
        self.comm = Some(comm);
        self
    }

    /// Adds a callback (early stopping, checkpoints, loggers, schedules, yours); callbacks run
    /// in the order they are added.
    pub fn callback(mut self, callback: &'r mut (impl Callback<M> + ?Sized)) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// Saves the run to `dir` after every epoch (model, optimizer state, History, every
    /// callback's state, in `dir/epoch-NNNN`, each written completely or not at all) and, with
    /// `resume`, first continues from the newest state in `dir` if there is one: the run then
    /// ends exactly where an uninterrupted one would (same parameters, same History figures;
    /// only the measured seconds differ). A run that a callback stopped (early stopping) is
    /// over: resuming it trains no further and only ends it, as the uninterrupted run ended.
    ///
    /// The run holds `dir`'s [`DirLock`](crate::checkpoint::DirLock) (a second run on `dir`
    /// fails at once, naming the first), records its settings with each state (resuming with
    /// others is refused, naming the setting), keeps the newest two states, and `dir/latest`
    /// names the newest. Resuming from a directory that holds remains of states but no usable
    /// one is an error, not a fresh start.
    ///
    /// The optimizer must save its state: compile with [`Resumable`](crate::optim::Resumable).
    /// The device's random generator (dropout masks) is dfdx's and is not saved: a model with
    /// dropout resumes with different masks.
    ///
    /// **Keras equivalent**: `callbacks=[BackupAndRestore(dir)]`.
    pub fn backup(mut self, dir: impl Into<PathBuf>, resume: bool) -> Self
    where
        O: LearningRate + OptimizerState,
    {
        self.backup = Some(Backup {
            dir: dir.into(),
            resume,
            state: stateful::<O>,
        });
        self
    }
}

/// Saves and loads the model for callbacks, on device `D` in the float type `E`.
struct Store<D, E>(PhantomData<(D, E)>);

impl<M: TensorCollection<E, D>, D: TrainingDevice<E>, E: Dtype> ModelStore<M> for Store<D, E> {
    fn save(&self, model: &M, path: &Path) -> Result<()> {
        save_model(model, path)
    }
    fn load(&self, model: &mut M, path: &Path) -> Result<()> {
        load_model(model, path)
    }
    fn snapshot(&self, model: &M) -> Result<Snapshot> {
        Snapshot::of(model)
    }
    fn restore(&self, model: &mut M, snapshot: &Snapshot) -> Result<()> {
        snapshot.restore(model)
    }
}

/// Everything the loop hands a callback besides the model and optimizer.
struct Shared {
    history: History,
    logged: Vec<String>,
    directions: BTreeMap<String, bool>,
    resume: Option<TrainState>,
    states: Vec<Option<serde_json::Value>>,
    stopping: bool,
}

impl<'r, M, O, L, D, E, Ds, Vs> Fit<'r, M, O, L, D, Ds, Vs, E>
where
    E: Dtype,
    D: TrainingDevice<E>,
    O: Optimizer<M, D, E> + LearningRate,
    Ds: Dataset,
    Vs: Dataset<Sample = Ds::Sample, Target = Ds::Target>,
    M: TrainModel<BatchOf<Ds>, D, E>,
    L: Loss<M::Out, Ds::Target, E>,
{
    /// Trains to epoch `cfg.epochs` and returns the [`History`] (of every epoch, those of a
    /// resumed run included).
    ///
    /// Each epoch reshuffles (seeded), runs one optimizer step per batch in training mode
    /// (dropout on, batch-norm statistics updated), then evaluates the validation data if any.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a zero batch size, an empty data set or a validation
    /// split outside `(0, 1)`; a metric that does not fit the targets or a callback's
    /// configuration error (checked before the first step); [`Error::NonFinite`] naming the
    /// epoch and batch if the loss becomes NaN or infinite; backup, device and optimizer errors.
    pub fn run(self, cfg: &FitConfig) -> Result<History> {
        let Fit {
            trainer,
            train,
            validation,
            callbacks,
            backup,
            comm,
        } = self;
        let parts = Parts {
            callbacks,
            backup,
            comm,
        };
        match (validation, cfg.validation_split) {
            (Some(_), _) | (None, None) => run_loop(trainer, train, validation, parts, cfg),
            (None, Some(fraction)) => {
                let seed = cfg.seed ^ SPLIT_SEED_SALT;
                let (kept, held) = split_indices(train.len(), fraction, seed)?;
                let (kept, held) = (Subset::new(train, kept), Subset::new(train, held));
                run_loop(trainer, &kept, Some(&held), parts, cfg)
            }
        }
    }
}

/// A [`Fit`]'s optional parts besides validation.
struct Parts<'r, M, O> {
    callbacks: Vec<Box<dyn Callback<M> + 'r>>,
    backup: Option<Backup<O>>,
    comm: Option<&'r dyn Communicator>,
}

/// Mixed into the augmentation seed of rank `rank` (rank 0 draws as one process does).
fn rank_salt(rank: usize) -> u64 {
    (rank as u64).wrapping_mul(0xd1b5_4a32_d192_ed03)
}

/// The epoch loop.
fn run_loop<M, O, L, D, E, Ds, Vs>(
    trainer: &mut Trainer<M, O, L, D, E>,
    train: &Ds,
    validation: Option<&Vs>,
    parts: Parts<'_, M, O>,
    cfg: &FitConfig,
) -> Result<History>
where
    E: Dtype,
    D: TrainingDevice<E>,
    O: Optimizer<M, D, E> + LearningRate,
    Ds: Dataset,
    Vs: Dataset<Sample = Ds::Sample, Target = Ds::Target>,
    M: TrainModel<BatchOf<Ds>, D, E>,
    L: Loss<M::Out, Ds::Target, E>,
{
    check_batch_size("batch_size", cfg.batch_size)?;
    check_batch_size("eval_batch_size", cfg.eval_batch_size)?;
    check_batch_size("accumulation_steps", cfg.accumulation_steps)?;
    let Parts {
        callbacks: given,
        backup,
        comm,
    } = parts;
    // micro-batches and a gather per step, or the plain step per batch
    let grouped = cfg.accumulation_steps > 1 || comm.is_some();
    let comm = comm.unwrap_or(&Single);
    let (rank, ranks) = (comm.rank(), comm.size());
    if train.is_empty() {
        return Err(Error::Empty {
            what: "training set",
            operation: "fit",
        });
    }
    trainer.prepare_metrics(train)?;
    if cfg.allocation_cache {
        trainer.device.try_enable_cache().map_err(Error::device)?;
    }
    // the progress display first, the backup last (it saves what the others did)
    let verbosity = match comm.is_root() {
        true => cfg.verbosity,
        false => super::Verbosity::Silent,
    };
    let mut progress = ProgressLogger::new(verbosity, cfg.epochs);
    let user = given.len();
    let state_of = backup.as_ref().map(|b| b.state);
    let mut settings =
        super::resume::run_settings(trainer, cfg, Some(train.len()), validation.map(|v| v.len()));
    if cfg.accumulation_steps > 1 {
        settings.insert(
            "accumulation_steps".into(),
            cfg.accumulation_steps.to_string(),
        );
    }
    if ranks > 1 {
        settings.insert("ranks".into(), ranks.to_string());
    }
    let mut backup_cb =
        backup.map(|b| BackupAndRestore::new(b.dir, b.resume, settings).writing(comm.is_root()));
    let mut callbacks: Vec<Box<dyn Callback<M> + '_>> = Vec::with_capacity(user + 2);
    callbacks.push(Box::new(&mut progress));
    for cb in given {
        callbacks.push(cb);
    }
    if let Some(b) = backup_cb.as_mut() {
        callbacks.push(Box::new(b));
    }
    let mut shared = Shared {
        history: History::default(),
        logged: logged_names(trainer, validation.is_some()),
        directions: trainer.metrics.directions(),
        resume: None,
        states: Vec::new(),
        stopping: false,
    };
    let store = Store::<D, E>(PhantomData);

    macro_rules! each {
        (|$cb:ident, $ctx:ident| $body:expr) => {
            for $cb in callbacks.iter_mut() {
                let mut $ctx = context(trainer, state_of, &store, &mut shared);
                $body;
            }
        };
    }

    each!(|cb, ctx| cb.on_train_begin(&mut ctx)?);
    let mut first_epoch = cfg.initial_epoch + 1;
    if let Some(state) = shared.resume.take() {
        if state.seed != cfg.seed {
            return Err(Error::InvalidArgument {
                what: "seed of a resumed run",
                value: cfg.seed.to_string(),
                expected: format!(
                    "{}, the seed the backup was trained with (the shuffles would differ)",
                    state.seed
                ),
            });
        }
        // the user's callbacks sit between the progress display and the backup
        for (cb, saved) in callbacks[1..=user].iter_mut().zip(&state.callbacks) {
            if let Some(saved) = saved {
                cb.restore(saved)?;
            }
        }
        // a run a callback stopped is over: only its end is left to run
        first_epoch = if state.stopped {
            cfg.epochs.max(state.epoch) + 1
        } else {
            state.epoch + 1
        };
        shared.history = state.history;
    }
    for epoch in first_epoch..=cfg.epochs {
        let start = Instant::now();
        each!(|cb, ctx| cb.on_epoch_begin(epoch, &mut ctx)?);
        let mut order: Vec<usize> = (0..train.len()).collect();
        if cfg.shuffle {
            order.shuffle(&mut StdRng::seed_from_u64(epoch_seed(cfg.seed, epoch)));
        }
        let mut augment_rng = StdRng::seed_from_u64(epoch_seed(
            cfg.seed ^ AUGMENT_SEED_SALT ^ rank_salt(rank),
            epoch,
        ));
        trainer.metrics.reset();
        let samples = train.len();
        let run = cfg.accumulation_steps * cfg.batch_size;
        let per_step = run * ranks;
        let (loss_sum, seen) = if grouped {
            for_each_batch(
                train,
                &epoch_shard(&order, rank, ranks, run),
                cfg.batch_size,
                Some(&mut augment_rng),
                cfg.prefetch,
                |batches| -> Result<(f64, usize)> {
                    let (mut loss_sum, mut seen) = (0.0f64, 0usize);
                    for s in 0..samples.div_ceil(per_step) {
                        let start = s * per_step;
                        let held = samples_of_rank(samples, start, rank, run);
                        let micro = (&mut *batches).take(held.div_ceil(cfg.batch_size));
                        let step = Step {
                            samples: (samples - start).min(per_step),
                            batch_size: cfg.batch_size,
                            micro_batches: cfg.accumulation_steps,
                        };
                        let (sum, n) = trainer.accumulated_step::<Ds>(
                            micro.collect(),
                            &step,
                            comm,
                            cfg,
                            (epoch, s + 1),
                        )?;
                        loss_sum += sum;
                        seen += n;
                        let log = BatchLog {
                            epoch,
                            batch: s + 1,
                            seen,
                            samples,
                            loss: loss_sum / seen as f64,
                        };
                        each!(|cb, ctx| cb.on_batch_end(&log, &mut ctx)?);
                    }
                    Ok((loss_sum, seen))
                },
            )?
        } else {
            for_each_batch(
                train,
                &order,
                cfg.batch_size,
                Some(&mut augment_rng),
                cfg.prefetch,
                |batches| -> Result<(f64, usize)> {
                    let (mut loss_sum, mut seen) = (0.0f64, 0usize);
                    for (b, host) in batches.enumerate() {
                        let n = host.targets.len();
                        let value = trainer.train_step::<Ds>(host, cfg, epoch, b + 1)?;
                        loss_sum += value * n as f64;
                        seen += n;
                        let log = BatchLog {
                            epoch,
                            batch: b + 1,
                            seen,
                            samples,
                            loss: loss_sum / seen as f64,
                        };
                        each!(|cb, ctx| cb.on_batch_end(&log, &mut ctx)?);
                    }
                    Ok((loss_sum, seen))
                },
            )?
        };
        let mut values = BTreeMap::new();
        values.insert("loss".to_string(), loss_sum / seen as f64);
        values.extend(trainer.metrics.values());
        if let Some(val) = validation {
            let ev = match ranks {
                1 => trainer.evaluate_in_batches(val, cfg.eval_batch_size)?,
                _ => trainer.evaluate_shared(val, cfg.eval_batch_size, comm)?,
            };
            values.insert("val_loss".to_string(), ev.loss);
            for (k, v) in ev.metrics {
                values.insert(format!("val_{k}"), v);
            }
        }
        if cfg.allocation_cache {
            // what batches of other sizes (the last one, validation) left in the cache
            trainer.device.try_empty_cache().map_err(Error::device)?;
        }
        let log = EpochLog {
            epoch,
            values,
            seconds: start.elapsed().as_secs_f64(),
        };
        let mut stop = false;
        let last = callbacks.len() - usize::from(state_of.is_some());
        for cb in callbacks[..last].iter_mut() {
            let mut ctx = context(trainer, state_of, &store, &mut shared);
            stop |= cb.on_epoch_end(&log, &mut ctx)? == Control::Stop;
        }
        shared.history.epochs.push(log.clone());
        if last < callbacks.len() {
            shared.states = callbacks[1..=user].iter().map(|c| c.state()).collect();
            shared.stopping = stop;
            let mut ctx = context(trainer, state_of, &store, &mut shared);
            callbacks[last].on_epoch_end(&log, &mut ctx)?;
        }
        if stop {
            break;
        }
    }
    each!(|cb, ctx| cb.on_train_end(&mut ctx)?);
    Ok(shared.history)
}

/// A callback's view of the trainer and the run.
fn context<'a, M, O: LearningRate, L, D: TrainingDevice<E>, E: Dtype>(
    trainer: &'a mut Trainer<M, O, L, D, E>,
    state_of: Option<for<'x> fn(&'x mut O) -> &'x mut dyn StatefulOptimizer>,
    store: &'a dyn ModelStore<M>,
    shared: &'a mut Shared,
) -> Context<'a, M> {
    let optimizer = match state_of {
        Some(f) => OptimizerRef::Stateful(f(&mut trainer.optimizer)),
        None => OptimizerRef::Plain(&mut trainer.optimizer),
    };
    Context {
        model: &mut trainer.model,
        history: &shared.history,
        logged: &shared.logged,
        optimizer,
        store,
        directions: &shared.directions,
        resume: &mut shared.resume,
        callback_states: &shared.states,
        stopping: shared.stopping,
    }
}

/// Every name an epoch's log holds in this run.
fn logged_names<M, O, L, D: TrainingDevice<E>, E: Dtype>(
    trainer: &Trainer<M, O, L, D, E>,
    validating: bool,
) -> Vec<String> {
    let mut names = vec!["loss".to_string()];
    names.extend(trainer.metrics.names());
    if validating {
        let val: Vec<String> = names.iter().map(|n| format!("val_{n}")).collect();
        names.extend(val);
    }
    names
}

impl<M, O, L, D, E> Trainer<M, O, L, D, E>
where
    E: Dtype,
    D: TrainingDevice<E>,
    O: Optimizer<M, D, E> + LearningRate,
{
    /// Trains on `train` for `cfg.epochs` epochs and returns the [`History`]: `fitting(train)
    /// .run(cfg)`. Validation data, callbacks and backups are set up with
    /// [`Trainer::fitting`].
    ///
    /// # Errors
    /// As [`Fit::run`].
    ///
    /// **Keras equivalent**: `model.fit(x, y, epochs=…, batch_size=…, validation_split=…)`.
    pub fn fit<Ds>(&mut self, train: &Ds, cfg: &FitConfig) -> Result<History>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D, E>,
        L: Loss<M::Out, Ds::Target, E>,
    {
        self.fitting(train).run(cfg)
    }
}
