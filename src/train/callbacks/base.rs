//! The callback trait and what a callback sees: code that runs around `fit`'s epochs and may
//! stop training.

use crate::optim::{LearningRate, OptimizerState};
use crate::train::{EpochLog, History, TrainState};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// What a callback tells `fit` after an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on training.
    Continue,
    /// Stop after this epoch (the History keeps every completed epoch).
    Stop,
}

/// Whether a monitored quantity should go down (`loss`) or up (`accuracy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Ask the quantity: `loss` and `val_loss` go down; a metric goes the way its
    /// [`Metric::higher_is_better`](crate::train::Metric::higher_is_better) says.
    #[default]
    Auto,
    /// Smaller is better.
    Min,
    /// Larger is better.
    Max,
}

/// One training batch's figures, as [`Callback::on_batch_end`] receives them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchLog {
    /// 1-based epoch number.
    pub epoch: usize,
    /// 1-based batch number within the epoch.
    pub batch: usize,
    /// Samples of this epoch trained on so far, this batch included.
    pub seen: usize,
    /// Samples in the epoch.
    pub samples: usize,
    /// Mean loss per sample over the epoch so far.
    pub loss: f64,
}

/// The optimizer as a callback reaches it: its learning rate always, its state when the
/// optimizer can save it.
pub(crate) enum OptimizerRef<'a> {
    /// An optimizer whose state is private (dfdx's own).
    Plain(&'a mut dyn LearningRate),
    /// An optimizer whose state can be saved and loaded ([`Resumable`](crate::optim::Resumable)).
    Stateful(&'a mut dyn StatefulOptimizer),
}

/// An optimizer with a learning rate and a state that can be saved.
pub(crate) trait StatefulOptimizer: LearningRate + OptimizerState {}
impl<O: LearningRate + OptimizerState> StatefulOptimizer for O {}

/// Saving, loading and snapshotting the model, for callbacks that do not know its device.
pub(crate) trait ModelStore<M> {
    /// Writes `model` to `path` ([`save_model`](crate::checkpoint::save_model)).
    fn save(&self, model: &M, path: &Path) -> Result<()>;
    /// Reads `path` into `model` ([`load_model`](crate::checkpoint::load_model)).
    fn load(&self, model: &mut M, path: &Path) -> Result<()>;
    /// Every tensor's values.
    fn snapshot(&self, model: &M) -> Result<crate::checkpoint::Snapshot>;
    /// Puts back values taken by [`ModelStore::snapshot`].
    fn restore(&self, model: &mut M, snapshot: &crate::checkpoint::Snapshot) -> Result<()>;
}

/// What a callback can see and change while `fit` runs.
pub struct Context<'a, M> {
    /// The model being trained.
    pub model: &'a mut M,
    /// Epochs completed so far (those of a resumed run included).
    pub history: &'a History,
    /// Every name an [`EpochLog`] of this run holds (`loss`, metrics, `val_…`).
    pub logged: &'a [String],
    pub(crate) optimizer: OptimizerRef<'a>,
    pub(crate) store: &'a dyn ModelStore<M>,
    /// Whether each compiled metric goes up (by name, without `val_`).
    pub(crate) directions: &'a BTreeMap<String, bool>,
    /// Set at `on_train_begin` by a callback that restores a saved run.
    pub(crate) resume: &'a mut Option<TrainState>,
    /// Every callback's [`Callback::state`], filled after the epoch's `on_epoch_end`s for the
    /// callbacks that save the run (empty otherwise).
    pub(crate) callback_states: &'a [Option<serde_json::Value>],
    /// Whether a callback asked to stop after this epoch (set for the callbacks that save the
    /// run).
    pub(crate) stopping: bool,
}

impl<M> Context<'_, M> {
    /// The optimizer's learning rate.
    pub fn lr(&self) -> f64 {
        match &self.optimizer {
            OptimizerRef::Plain(o) => o.lr(),
            OptimizerRef::Stateful(o) => o.lr(),
        }
    }

    /// Sets the optimizer's learning rate (schedules).
    pub fn set_lr(&mut self, lr: f64) {
        match &mut self.optimizer {
            OptimizerRef::Plain(o) => o.set_lr(lr),
            OptimizerRef::Stateful(o) => o.set_lr(lr),
        }
    }

    /// Writes the model to `path` as [`save_model`](crate::checkpoint::save_model) does.
    ///
    /// # Errors
    /// As [`save_model`](crate::checkpoint::save_model).
    pub fn save_model(&self, path: &Path) -> Result<()> {
        self.store.save(self.model, path)
    }

    /// A copy of every tensor of the model, to put back later with [`Context::restore_weights`].
    ///
    /// # Errors
    /// Device errors.
    pub fn snapshot(&self) -> Result<crate::checkpoint::Snapshot> {
        self.store.snapshot(self.model)
    }

    /// Puts back a [`Context::snapshot`] of this model.
    ///
    /// # Errors
    /// [`Error::CheckpointMismatch`] if the snapshot is of another model; device errors.
    pub fn restore_weights(&mut self, snapshot: &crate::checkpoint::Snapshot) -> Result<()> {
        self.store.restore(self.model, snapshot)
    }

    /// Checks that `monitor` is a name this run logs.
    ///
    /// # Errors
    /// [`Error::UnknownMonitor`] naming the callback, the missing name and the names that are
    /// logged.
    pub fn require(&self, callback: &str, monitor: &str) -> Result<()> {
        if self.logged.iter().any(|n| n == monitor) {
            Ok(())
        } else {
            Err(Error::UnknownMonitor {
                callback: callback.into(),
                monitor: monitor.into(),
                logged: self.logged.to_vec(),
            })
        }
    }

    /// Whether larger values of `monitor` are better under `mode`: [`Mode::Min`] and
    /// [`Mode::Max`] say so; [`Mode::Auto`] asks the compiled metric of that name (`val_`
    /// stripped), and `loss` goes down.
    ///
    /// # Errors
    /// [`Error::UnknownMonitor`] under [`Mode::Auto`] when `monitor` is neither the loss nor a
    /// compiled metric, so its direction cannot be known.
    pub fn higher_is_better(&self, callback: &str, monitor: &str, mode: Mode) -> Result<bool> {
        match mode {
            Mode::Min => Ok(false),
            Mode::Max => Ok(true),
            Mode::Auto => {
                let base = monitor.strip_prefix("val_").unwrap_or(monitor);
                if base == "loss" {
                    return Ok(false);
                }
                self.directions
                    .get(base)
                    .copied()
                    .ok_or_else(|| Error::UnknownMonitor {
                        callback: callback.into(),
                        monitor: monitor.into(),
                        logged: self.logged.to_vec(),
                    })
            }
        }
    }

    /// The optimizer, when its state can be saved.
    pub(crate) fn optimizer_state(&mut self) -> Option<&mut dyn StatefulOptimizer> {
        match &mut self.optimizer {
            OptimizerRef::Plain(_) => None,
            OptimizerRef::Stateful(o) => Some(&mut **o),
        }
    }

    /// Reads a saved model into this one.
    pub(crate) fn load_model(&mut self, path: &Path) -> Result<()> {
        self.store.load(self.model, path)
    }
}

/// Code run by `fit` at the start of training, around every epoch and after every batch.
///
/// A callback stops training by returning [`Control::Stop`], never by printing or panicking;
/// an `Err` aborts `fit` with that error. `fit` itself shows progress and records the
/// [`History`] with callbacks of its own, run before (progress) and after (history) the ones
/// it is given.
///
/// # Example
/// A callback that stops once the training loss is below a bound:
/// ```
/// # use typenet::prelude::*;
/// struct StopBelow(f64);
/// impl<M> Callback<M> for StopBelow {
///     fn on_epoch_end(&mut self, log: &EpochLog, _ctx: &mut Context<'_, M>) -> typenet::Result<Control> {
///         Ok(if log.values["loss"] < self.0 { Control::Stop } else { Control::Continue })
///     }
/// }
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::seed_from_u64(0);
/// let xor = InMemory::<Rank1<2>, Classes<2>>::new(vec![0., 0., 0., 1., 1., 0., 1., 1.], vec![0, 1, 1, 0])?;
/// let mut model = Trainer::compile(
///     &dev,
///     dev.build_module::<(Linear<2, 8>, Tanh, Linear<8, 2>), f32>(),
///     AdamConfig { lr: 0.05, ..Default::default() },
///     SparseCategoricalCrossentropy,
///     &[],
/// )?;
/// let cfg = FitConfig { epochs: 500, batch_size: 4, verbosity: Verbosity::Silent, ..Default::default() };
/// let history = model.fitting(&xor).callback(&mut StopBelow(0.1)).run(&cfg)?;
/// assert!(history.epochs.len() < 500);
/// assert!(history.last("loss").unwrap() < 0.1);
/// # Ok(()) }
/// ```
///
/// **Keras equivalent**: `keras.callbacks.Callback`.
pub trait Callback<M> {
    /// Before the first epoch: validate configuration (e.g. the monitored name exists).
    fn on_train_begin(&mut self, _ctx: &mut Context<'_, M>) -> Result<()> {
        Ok(())
    }
    /// Before epoch `epoch` (1-based), e.g. to set the learning rate.
    fn on_epoch_begin(&mut self, _epoch: usize, _ctx: &mut Context<'_, M>) -> Result<()> {
        Ok(())
    }
    /// After every training batch's optimizer step.
    fn on_batch_end(&mut self, _log: &BatchLog, _ctx: &mut Context<'_, M>) -> Result<()> {
        Ok(())
    }
    /// After an epoch, with its figures.
    fn on_epoch_end(&mut self, _log: &EpochLog, _ctx: &mut Context<'_, M>) -> Result<Control> {
        Ok(Control::Continue)
    }
    /// After the last epoch (or a stop).
    fn on_train_end(&mut self, _ctx: &mut Context<'_, M>) -> Result<()> {
        Ok(())
    }
    /// What a training backup must keep for this callback to go on after a resume exactly as
    /// it would have without the interruption (best value so far, patience used, …); `None`
    /// (the default) for a stateless callback.
    fn state(&self) -> Option<serde_json::Value> {
        None
    }
    /// Restores what [`Callback::state`] returned; `fit` calls it after `on_train_begin` when
    /// it resumes a backed-up run.
    ///
    /// # Errors
    /// [`Error::CallbackState`] if `state` is not what this callback saves.
    fn restore(&mut self, _state: &serde_json::Value) -> Result<()> {
        Ok(())
    }
}

impl<M, C: Callback<M> + ?Sized> Callback<M> for &mut C {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, M>) -> Result<()> {
        (**self).on_train_begin(ctx)
    }
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut Context<'_, M>) -> Result<()> {
        (**self).on_epoch_begin(epoch, ctx)
    }
    fn on_batch_end(&mut self, log: &BatchLog, ctx: &mut Context<'_, M>) -> Result<()> {
        (**self).on_batch_end(log, ctx)
    }
    fn on_epoch_end(&mut self, log: &EpochLog, ctx: &mut Context<'_, M>) -> Result<Control> {
        (**self).on_epoch_end(log, ctx)
    }
    fn on_train_end(&mut self, ctx: &mut Context<'_, M>) -> Result<()> {
        (**self).on_train_end(ctx)
    }
    fn state(&self) -> Option<serde_json::Value> {
        (**self).state()
    }
    fn restore(&mut self, state: &serde_json::Value) -> Result<()> {
        (**self).restore(state)
    }
}

/// Parses a callback's saved state, or an error naming the callback.
pub(crate) fn parse_state<T: serde::de::DeserializeOwned>(
    callback: &str,
    state: &serde_json::Value,
) -> Result<T> {
    serde_json::from_value(state.clone()).map_err(|e| Error::CallbackState {
        callback: callback.into(),
        reason: format!("saved state {state} does not fit: {e}"),
    })
}

/// The value of `monitor` in `log`, or an error naming it.
pub(crate) fn monitored(log: &EpochLog, callback: &str, monitor: &str) -> Result<f64> {
    log.values
        .get(monitor)
        .copied()
        .ok_or_else(|| Error::UnknownMonitor {
            callback: callback.into(),
            monitor: monitor.into(),
            logged: log.values.keys().cloned().collect(),
        })
}

/// Whether `value` improves on `best` by more than `min_delta`.
pub(crate) fn improves(
    value: f64,
    best: Option<f64>,
    higher_is_better: bool,
    min_delta: f64,
) -> bool {
    match best {
        None => value.is_finite(),
        Some(b) if higher_is_better => value > b + min_delta,
        Some(b) => value < b - min_delta,
    }
}
