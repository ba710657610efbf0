//! Back a run up after every epoch and resume it exactly: [`Fit::backup`](crate::train::Fit::backup).

use super::base::{Callback, Context, Control};
use crate::train::resume::{latest_state, read_state, write_state};
use crate::train::{EpochLog, TrainState};
use crate::{Error, Result};
use std::path::PathBuf;

/// Saves the model, the optimizer's state, the History and every callback's state after each
/// epoch, and restores them all before the first epoch of a resumed run. `fit` runs it after
/// every other callback (so it saves what they did) when [`Fit::backup`](crate::train::Fit::backup)
/// asks for it.
///
/// **Keras equivalent**: `keras.callbacks.BackupAndRestore(backup_dir)`, which saves the weights
/// and the epoch; this one also saves the optimizer and the callbacks' state.
#[derive(Debug, Clone)]
pub(crate) struct BackupAndRestore {
    dir: PathBuf,
    resume: bool,
    seed: u64,
}

impl BackupAndRestore {
    /// Backs up to `dir`; with `resume`, first restores the newest state there (if any).
    pub(crate) fn new(dir: PathBuf, resume: bool, seed: u64) -> Self {
        BackupAndRestore { dir, resume, seed }
    }

    fn no_state(&self) -> Error {
        Error::Checkpoint {
            path: self.dir.clone(),
            reason: "the optimizer cannot save its state; compile with `Resumable(…)`".into(),
        }
    }
}

impl<M> Callback<M> for BackupAndRestore {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, M>) -> Result<()> {
        if ctx.optimizer_state().is_none() {
            return Err(self.no_state());
        }
        let Some(path) = self
            .resume
            .then(|| latest_state(&self.dir))
            .transpose()?
            .flatten()
        else {
            return Ok(());
        };
        let state = read_state(&path, |model, optimizer| {
            ctx.load_model(model)?;
            match ctx.optimizer_state() {
                Some(o) => o.load_state(optimizer),
                None => Err(self.no_state()),
            }
        })?;
        *ctx.resume = Some(state);
        Ok(())
    }

    fn on_epoch_end(&mut self, log: &EpochLog, ctx: &mut Context<'_, M>) -> Result<Control> {
        // `fit` runs this one last, after the epoch is in the History and the other callbacks'
        // states are taken
        let state = TrainState {
            epoch: log.epoch,
            seed: self.seed,
            history: ctx.history.clone(),
            callbacks: ctx.callback_states.to_vec(),
            stopped: ctx.stopping,
            typenet_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let no_state = self.no_state();
        write_state(&self.dir, &state, |model, optimizer| {
            ctx.save_model(model)?;
            match ctx.optimizer_state() {
                Some(o) => o.save_state(optimizer),
                None => Err(no_state),
            }
        })?;
        Ok(Control::Continue)
    }
}
