//! Stop when a monitored quantity stops improving.

use super::base::{improves, monitored, parse_state, Callback, Context, Control, Mode};
use crate::checkpoint::Snapshot;
use crate::train::EpochLog;
use crate::Result;

/// Stops training when `monitor` has not improved by more than `min_delta` for `patience`
/// epochs; optionally puts back the weights of the best epoch.
///
/// Its progress (best value and epoch, epochs waited, the best weights when kept) is part of
/// a training backup, so a resumed run stops at the epoch an uninterrupted one would.
///
/// ```
/// # use typenet::prelude::*;
/// let stop = EarlyStopping { monitor: "val_loss".into(), patience: 3, ..Default::default() };
/// ```
///
/// **Keras equivalent**: `EarlyStopping(monitor, min_delta, patience, mode, restore_best_weights)`.
#[derive(Debug, Clone)]
pub struct EarlyStopping {
    /// Name to watch. Default `val_loss`.
    pub monitor: String,
    /// Direction of improvement. Default [`Mode::Auto`].
    pub mode: Mode,
    /// Epochs without improvement before stopping. Default `0`.
    pub patience: usize,
    /// Smallest change that counts as improvement. Default `0.0`.
    pub min_delta: f64,
    /// Put back the best epoch's weights when training ends. Default `false`.
    pub restore_best_weights: bool,
    /// Best value so far and its epoch.
    pub best: Option<(f64, usize)>,
    /// The epoch training stopped at, if it did.
    pub stopped_epoch: Option<usize>,
    /// Epochs since the last improvement.
    pub wait: usize,
    /// The best epoch's weights (kept when `restore_best_weights`).
    pub best_weights: Option<Snapshot>,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        EarlyStopping {
            monitor: "val_loss".into(),
            mode: Mode::Auto,
            patience: 0,
            min_delta: 0.0,
            restore_best_weights: false,
            best: None,
            stopped_epoch: None,
            wait: 0,
            best_weights: None,
        }
    }
}

/// What a backup keeps of an [`EarlyStopping`].
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    best: Option<(f64, usize)>,
    wait: usize,
    stopped_epoch: Option<usize>,
    best_weights: Option<Snapshot>,
}

impl<M> Callback<M> for EarlyStopping {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, M>) -> Result<()> {
        ctx.require("EarlyStopping", &self.monitor)?;
        ctx.higher_is_better("EarlyStopping", &self.monitor, self.mode)?;
        // a fresh run starts over; a resumed one gets its progress back through `restore`
        self.best = None;
        self.wait = 0;
        self.stopped_epoch = None;
        self.best_weights = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, log: &EpochLog, ctx: &mut Context<'_, M>) -> Result<Control> {
        let value = monitored(log, "EarlyStopping", &self.monitor)?;
        if improves(
            value,
            self.best.map(|b| b.0),
            ctx.higher_is_better("EarlyStopping", &self.monitor, self.mode)?,
            self.min_delta,
        ) {
            self.best = Some((value, log.epoch));
            self.wait = 0;
            if self.restore_best_weights {
                self.best_weights = Some(ctx.snapshot()?);
            }
            return Ok(Control::Continue);
        }
        self.wait += 1;
        if self.wait > self.patience {
            self.stopped_epoch = Some(log.epoch);
            return Ok(Control::Stop);
        }
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, ctx: &mut Context<'_, M>) -> Result<()> {
        if let Some(best) = self.best_weights.take() {
            ctx.restore_weights(&best)?;
        }
        Ok(())
    }

    fn state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(Saved {
            best: self.best,
            wait: self.wait,
            stopped_epoch: self.stopped_epoch,
            best_weights: self.best_weights.clone(),
        })
        .ok()
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<()> {
        let saved: Saved = parse_state("EarlyStopping", state)?;
        self.best = saved.best;
        self.wait = saved.wait;
        self.stopped_epoch = saved.stopped_epoch;
        self.best_weights = saved.best_weights;
        Ok(())
    }
}
