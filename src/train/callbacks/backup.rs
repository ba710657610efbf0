//! Back a run up after every epoch and resume it exactly: [`Fit::backup`](crate::train::Fit::backup).

use super::base::{Callback, Context, Control};
use crate::checkpoint::DirLock;
use crate::train::resume::{
    check_settings, latest_state, prune, read_state, remove_temporaries, state_remains, write_state,
};
use crate::train::{EpochLog, TrainState};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How many state directories a backup keeps: the newest, and the one before it.
const KEEP: usize = 2;

/// Saves the model, the optimizer's state, the History and every callback's state after each
/// epoch, and restores them all before the first epoch of a resumed run. `fit` runs it after
/// every other callback (so it saves what they did) when [`Fit::backup`](crate::train::Fit::backup)
/// asks for it.
///
/// It holds the directory's [`DirLock`] for the whole run, records the run's settings with
/// each state (a resumed run must have the same), and keeps the newest [`KEEP`] states of the
/// run (older ones, and those of an earlier run it does not resume, are removed once a newer
/// state is complete).
///
/// **Keras equivalent**: `keras.callbacks.BackupAndRestore(backup_dir)`, which saves the weights
/// and the epoch; this one also saves the optimizer and the callbacks' state.
#[derive(Debug)]
pub(crate) struct BackupAndRestore {
    dir: PathBuf,
    resume: bool,
    seed: u64,
    settings: BTreeMap<String, String>,
    lock: Option<DirLock>,
    /// Whether this process writes the backup (one rank of several only reads it to resume).
    writes: bool,
    /// The state directories of this run to keep, oldest first.
    kept: Vec<PathBuf>,
}

impl BackupAndRestore {
    /// Backs up to `dir`; with `resume`, first restores the newest state there (if any).
    /// `settings` are the run's ([`run_settings`](crate::train::resume::run_settings)).
    pub(crate) fn new(dir: PathBuf, resume: bool, settings: BTreeMap<String, String>) -> Self {
        let seed = settings
            .get("seed")
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        BackupAndRestore {
            dir,
            resume,
            seed,
            settings,
            lock: None,
            writes: true,
            kept: Vec::new(),
        }
    }

    /// Whether this process writes the backup (`false`: it only restores from it).
    pub(crate) fn writing(mut self, writes: bool) -> Self {
        self.writes = writes;
        self
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
        let Some(optimizer) = ctx.optimizer_state() else {
            return Err(self.no_state());
        };
        // the optimizer as compiled, before a saved state changes its learning rate
        let optimizer = optimizer.settings();
        if !optimizer.is_empty() {
            self.settings.insert("optimizer".into(), optimizer);
        }
        if self.writes {
            self.lock = Some(DirLock::acquire(&self.dir)?);
            // no other writer: what a killed one left half-written can go
            remove_temporaries(&self.dir)?;
        }
        if !self.resume {
            return Ok(());
        }
        let Some(path) = latest_state(&self.dir)? else {
            let remains = state_remains(&self.dir);
            if remains.is_empty() {
                // nothing saved yet: a first run
                return Ok(());
            }
            return Err(Error::NoUsableState {
                dir: self.dir.clone(),
                reason: format!(
                    "it holds {} but no complete state (epoch-NNNN/state.json)",
                    remains.join(", ")
                ),
            });
        };
        let settings = &self.settings;
        let state = read_state(
            &path,
            |dir, state| {
                if state.seed != self.seed {
                    return Err(Error::ResumeSettings {
                        path: dir.to_path_buf(),
                        setting: "seed".into(),
                        saved: state.seed.to_string(),
                        current: self.seed.to_string(),
                    });
                }
                check_settings(dir, &state.settings, settings)
            },
            |model, optimizer| {
                ctx.load_model(model)?;
                match ctx.optimizer_state() {
                    Some(o) => o.load_state(optimizer),
                    None => Err(self.no_state()),
                }
            },
        )?;
        self.kept.push(path);
        *ctx.resume = Some(state);
        Ok(())
    }

    fn on_epoch_end(&mut self, log: &EpochLog, ctx: &mut Context<'_, M>) -> Result<Control> {
        // `fit` runs this one last, after the epoch is in the History and the other callbacks'
        // states are taken
        if !self.writes {
            return Ok(Control::Continue);
        }
        let state = TrainState {
            epoch: log.epoch,
            seed: self.seed,
            history: ctx.history.clone(),
            callbacks: ctx.callback_states.to_vec(),
            stopped: ctx.stopping,
            typenet_version: env!("CARGO_PKG_VERSION").to_string(),
            settings: self.settings.clone(),
        };
        let no_state = self.no_state();
        let written = write_state(&self.dir, &state, |model, optimizer| {
            ctx.save_model(model)?;
            match ctx.optimizer_state() {
                Some(o) => o.save_state(optimizer),
                None => Err(no_state),
            }
        })?;
        // `latest` names the new state: older ones may go
        self.kept.push(written);
        let excess = self.kept.len().saturating_sub(KEEP);
        self.kept.drain(..excess);
        prune(&self.dir, &self.kept)?;
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, _ctx: &mut Context<'_, M>) -> Result<()> {
        self.lock = None;
        Ok(())
    }
}
