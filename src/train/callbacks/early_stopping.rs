//! Stop when a monitored quantity stops improving.

use crate::train::callback::{improves, monitored, Callback, Context, Control, Mode};
use crate::train::EpochLog;
use crate::Result;

/// Stops training when `monitor` has not improved by more than `min_delta` for `patience`
/// epochs; optionally puts back the weights of the best epoch.
///
/// ```
/// # use typenet::prelude::*;
/// let stop = EarlyStopping::<()> { monitor: "val_loss".into(), patience: 3, ..Default::default() };
/// ```
///
/// **Keras equivalent**: `EarlyStopping(monitor, min_delta, patience, mode, restore_best_weights)`.
pub struct EarlyStopping<M> {
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
    pub best_weights: Option<M>,
}

impl<M> Default for EarlyStopping<M> {
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

impl<M: Clone> Callback<M> for EarlyStopping<M> {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, M>) -> Result<()> {
        ctx.require("EarlyStopping", &self.monitor)?;
        self.best = None;
        self.wait = 0;
        self.stopped_epoch = None;
        self.best_weights = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, log: &EpochLog, ctx: &mut Context<'_, M>) -> Result<Control> {
        let value = monitored(log, "EarlyStopping", &self.monitor)?;
        let higher = self.mode.higher_is_better(&self.monitor);
        if improves(value, self.best.map(|b| b.0), higher, self.min_delta) {
            self.best = Some((value, log.epoch));
            self.wait = 0;
            if self.restore_best_weights {
                // dfdx tensors are copy-on-write: this clone shares storage until the next update.
                self.best_weights = Some(ctx.model.clone());
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
            *ctx.model = best;
        }
        Ok(())
    }
}
