//! Training state on disk: save it every epoch, resume from it exactly.

use super::{FitConfig, History, Trainer};
use crate::checkpoint::{load_model, save_model, write_dir, write_file};
use crate::nn::TrainingDevice;
use crate::optim::{LearningRate, OptimizerState};
use crate::{Error, Result};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::optim::Optimizer;
use std::path::{Path, PathBuf};

/// File names inside a state directory.
const MODEL: &str = "model.safetensors";
const OPTIMIZER: &str = "optimizer.safetensors";
const STATE: &str = "state.json";

/// Everything besides the model and optimizer that a resumed `fit` needs: the epochs done, the
/// seed (each epoch's shuffle derives from `(seed, epoch)`), the History so far and the
/// callbacks' state (learning-rate schedules, plateaus).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainState {
    /// Epochs completed.
    pub epoch: usize,
    /// `FitConfig::seed` of the run.
    pub seed: u64,
    /// Every completed epoch's figures.
    pub history: History,
    /// [`Callback::state`](super::Callback::state) of each callback, in the order they were
    /// added to `fit`.
    pub callbacks: Vec<Option<serde_json::Value>>,
    /// Whether a callback stopped the run at this epoch (early stopping): resuming it then
    /// trains no further and only ends it (restoring the best weights, say).
    #[serde(default)]
    pub stopped: bool,
    /// The typenet version that wrote the state.
    pub typenet_version: String,
}

/// The newest complete state directory (`epoch-NNNN` holding `state.json`) in `dir`, if any.
///
/// # Errors
/// [`Error::Io`] if `dir` exists but cannot be listed.
pub fn latest_state(dir: impl AsRef<Path>) -> Result<Option<PathBuf>> {
    let dir = dir.as_ref();
    if !dir.exists() {
        return Ok(None);
    }
    let mut best: Option<(usize, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let epoch = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("epoch-"))
            .and_then(|n| n.parse::<usize>().ok());
        if let Some(epoch) = epoch
            && path.join(STATE).is_file()
            && best.as_ref().is_none_or(|(b, _)| epoch > *b)
        {
            best = Some((epoch, path));
        }
    }
    Ok(best.map(|(_, p)| p))
}

/// Writes a training state to `dir/epoch-NNNN` through a temporary directory, so that it
/// appears complete or not at all: the model and optimizer by `save`, then `state.json`.
pub(crate) fn write_state(
    dir: &Path,
    state: &TrainState,
    save: impl FnOnce(&Path, &Path) -> Result<()>,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let target = dir.join(format!("epoch-{:04}", state.epoch));
    let json = serde_json::to_vec_pretty(state).map_err(|e| Error::Checkpoint {
        path: target.join(STATE),
        reason: e.to_string(),
    })?;
    write_dir(&target, |tmp| {
        save(&tmp.join(MODEL), &tmp.join(OPTIMIZER))?;
        let state = tmp.join(STATE);
        write_file(&state, |t| {
            std::fs::write(t, &json).map_err(|e| Error::io(t, e))
        })
    })?;
    Ok(target)
}

/// Reads the training state at `path` (a state directory, or a directory holding them: the
/// newest is taken) and hands `load` the model and optimizer files.
pub(crate) fn read_state(
    path: &Path,
    load: impl FnOnce(&Path, &Path) -> Result<()>,
) -> Result<TrainState> {
    let dir = if path.join(STATE).is_file() {
        path.to_path_buf()
    } else {
        latest_state(path)?.ok_or_else(|| Error::Checkpoint {
            path: path.to_path_buf(),
            reason: "no training state (epoch-NNNN/state.json) here".into(),
        })?
    };
    let file = dir.join(STATE);
    let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
    let state: TrainState = serde_json::from_slice(&bytes).map_err(|e| Error::Checkpoint {
        path: file.clone(),
        reason: e.to_string(),
    })?;
    load(&dir.join(MODEL), &dir.join(OPTIMIZER))?;
    Ok(state)
}

impl<M, O, L, D, E> Trainer<M, O, L, D, E>
where
    E: dfdx::shapes::Dtype,
    D: TrainingDevice<E>,
    M: TensorCollection<E, D>,
    O: Optimizer<M, D, E> + LearningRate + OptimizerState,
{
    /// Saves the model, the optimizer's state and `history` to `dir/epoch-NNNN` (the last epoch
    /// of `history`), written to a temporary directory first so that it appears complete or not
    /// at all. Returns that directory. [`Fit::backup`](super::Fit::backup) does this after every
    /// epoch.
    ///
    /// The optimizer must be [`Resumable`](crate::optim::Resumable); see [`crate::optim`] for an
    /// example.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file that could not be written.
    ///
    /// **Keras equivalent**: `keras.callbacks.BackupAndRestore` (what it writes).
    pub fn save_state(
        &self,
        dir: impl AsRef<Path>,
        history: &History,
        cfg: &FitConfig,
    ) -> Result<PathBuf> {
        let state = TrainState {
            epoch: history.epochs.last().map_or(cfg.initial_epoch, |e| e.epoch),
            seed: cfg.seed,
            history: history.clone(),
            callbacks: Vec::new(),
            stopped: false,
            typenet_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        write_state(dir.as_ref(), &state, |model, optimizer| {
            save_model(&self.model, model)?;
            self.optimizer.save_state(optimizer)
        })
    }

    /// Restores the model and optimizer saved by [`Trainer::save_state`] and returns the rest
    /// of the state. `path` is a state directory (`…/epoch-0003`) or a directory holding them
    /// (the newest is taken).
    ///
    /// # Errors
    /// [`Error::Checkpoint`] if there is no state or it is malformed;
    /// [`Error::CheckpointMismatch`] if the model or optimizer does not fit (the model is checked
    /// and loaded first, so the optimizer's mismatch leaves the model loaded).
    pub fn load_state(&mut self, path: impl AsRef<Path>) -> Result<TrainState> {
        read_state(path.as_ref(), |model, optimizer| {
            load_model(&mut self.model, model)?;
            self.optimizer.load_state(optimizer)
        })
    }
}
