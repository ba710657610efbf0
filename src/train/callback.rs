//! The callback trait: code that runs around `fit`'s epochs and may stop training.

use super::{EpochLog, History};
use crate::optim::LearningRate;
use crate::{Error, Result};

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
    /// Infer from the name: `accuracy`, `f1`, `precision`, `recall`, `r2`, `top_k` go up, the rest down.
    #[default]
    Auto,
    /// Smaller is better.
    Min,
    /// Larger is better.
    Max,
}

impl Mode {
    /// Whether larger values of `monitor` are better under this mode.
    pub fn higher_is_better(self, monitor: &str) -> bool {
        match self {
            Mode::Min => false,
            Mode::Max => true,
            Mode::Auto => {
                let base = monitor.strip_prefix("val_").unwrap_or(monitor);
                ["accuracy", "f1", "precision", "recall", "r2"].contains(&base)
                    || (base.starts_with("top_") && base.ends_with("_accuracy"))
            }
        }
    }
}

/// What a callback can see and change while `fit` runs.
pub struct Context<'a, M> {
    /// The model being trained (callbacks may save or restore it).
    pub model: &'a mut M,
    /// The optimizer's learning rate (schedules change it).
    pub lr: &'a mut dyn LearningRate,
    /// Epochs completed so far.
    pub history: &'a History,
    /// Every name an [`EpochLog`] of this run holds (`loss`, metrics, `val_…`).
    pub logged: &'a [String],
}

impl<M> Context<'_, M> {
    /// Checks that `monitor` is a name this run logs.
    ///
    /// # Errors
    /// [`Error::Config`] naming the callback, the missing name and the names that are logged.
    pub fn require(&self, callback: &str, monitor: &str) -> Result<()> {
        if self.logged.iter().any(|n| n == monitor) {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "{callback} monitors `{monitor}`, which this fit does not log; logged: {}",
                self.logged.join(", ")
            )))
        }
    }
}

/// Code run by `fit` at the start of training and around every epoch.
///
/// A callback stops training by returning [`Control::Stop`], never by printing or panicking;
/// an `Err` aborts `fit` with that error.
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
    /// After an epoch, with its figures.
    fn on_epoch_end(&mut self, log: &EpochLog, ctx: &mut Context<'_, M>) -> Result<Control>;
    /// After the last epoch (or a stop).
    fn on_train_end(&mut self, _ctx: &mut Context<'_, M>) -> Result<()> {
        Ok(())
    }
    /// What a training checkpoint must keep for this callback to go on after a resume (e.g. the
    /// best value so far); `None` (the default) for a stateless callback.
    fn state(&self) -> Option<serde_json::Value> {
        None
    }
    /// Restores what [`Callback::state`] returned, before training resumes.
    ///
    /// # Errors
    /// [`Error::Config`] if `state` is not what this callback saves.
    fn restore(&mut self, _state: &serde_json::Value) -> Result<()> {
        Ok(())
    }
}

/// Parses a callback's saved state, or an error naming the callback.
pub(crate) fn parse_state<T: serde::de::DeserializeOwned>(
    callback: &str,
    state: &serde_json::Value,
) -> Result<T> {
    serde_json::from_value(state.clone())
        .map_err(|e| Error::Config(format!("{callback}: saved state {state} does not fit: {e}")))
}

/// The value of `monitor` in `log`, or an error naming it.
pub(crate) fn monitored(log: &EpochLog, callback: &str, monitor: &str) -> Result<f64> {
    log.values.get(monitor).copied().ok_or_else(|| {
        Error::Config(format!(
            "{callback}: epoch {} did not log `{monitor}`",
            log.epoch
        ))
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
