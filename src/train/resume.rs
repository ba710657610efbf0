//! Training state on disk: save it every epoch, resume from it exactly.

use super::callback::Callback;
use super::{FitConfig, History, TrainModel, Trainer};
use crate::checkpoint::{load_model, save_model, write_dir, write_file};
use crate::data::{BatchOf, Dataset};
use crate::losses::Loss;
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
    /// [`Callback::state`] of each callback, in the order they were passed to `fit`.
    pub callbacks: Vec<Option<serde_json::Value>>,
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
        if let Some(epoch) = epoch {
            if path.join(STATE).is_file() && best.as_ref().is_none_or(|(b, _)| epoch > *b) {
                best = Some((epoch, path));
            }
        }
    }
    Ok(best.map(|(_, p)| p))
}

impl<M, O, L, D> Trainer<M, O, L, D>
where
    D: TrainingDevice,
    M: TensorCollection<f32, D>,
    O: Optimizer<M, D, f32> + LearningRate + OptimizerState,
{
    /// Saves the model, the optimizer's state and `history` to `dir/epoch-NNNN` (the last epoch
    /// of `history`), written to a temporary directory first so that it appears complete or not
    /// at all. Returns that directory.
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
        self.write_state(
            dir.as_ref(),
            &TrainState {
                epoch: history.epochs.last().map_or(cfg.initial_epoch, |e| e.epoch),
                seed: cfg.seed,
                history: history.clone(),
                callbacks: Vec::new(),
                typenet_version: env!("CARGO_PKG_VERSION").to_string(),
            },
        )
    }

    fn write_state(&self, dir: &Path, state: &TrainState) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let target = dir.join(format!("epoch-{:04}", state.epoch));
        let json = serde_json::to_vec_pretty(state).map_err(|e| Error::Checkpoint {
            path: target.join(STATE),
            reason: e.to_string(),
        })?;
        write_dir(&target, |tmp| {
            save_model(&self.model, tmp.join(MODEL))?;
            self.optimizer.save_state(&tmp.join(OPTIMIZER))?;
            let state = tmp.join(STATE);
            write_file(&state, |t| {
                std::fs::write(t, &json).map_err(|e| Error::io(t, e))
            })
        })?;
        Ok(target)
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
        let path = path.as_ref();
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
        load_model(&mut self.model, dir.join(MODEL))?;
        self.optimizer.load_state(&dir.join(OPTIMIZER))?;
        Ok(state)
    }

    /// [`Trainer::fit_with`] that saves the training state to `dir` after every epoch and, with
    /// `resume`, first continues from the newest state in `dir` (if there is one): the run then
    /// ends exactly where an uninterrupted `fit` to `cfg.epochs` would (same parameters, same
    /// History figures; only the measured seconds differ). Returns the History of all epochs,
    /// the resumed ones included.
    ///
    /// The device's random generator (dropout masks) is dfdx's and is not saved: a model with
    /// dropout resumes with different masks.
    ///
    /// # Errors
    /// As [`Trainer::fit_with`] and [`Trainer::load_state`]; [`Error::Config`] if the saved
    /// state was trained with another seed.
    ///
    /// **Keras equivalent**: `model.fit(…, callbacks=[BackupAndRestore(dir)])`.
    pub fn fit_checkpointed<Ds, Vs>(
        &mut self,
        train: &Ds,
        validation: Option<&Vs>,
        cfg: &FitConfig,
        callbacks: &mut [&mut dyn Callback<M>],
        dir: impl AsRef<Path>,
        resume: bool,
    ) -> Result<History>
    where
        Ds: Dataset,
        Vs: Dataset<Sample = Ds::Sample, Target = Ds::Target>,
        M: TrainModel<BatchOf<Ds>, D>,
        L: Loss<M::Out, Ds::Target>,
    {
        let dir = dir.as_ref();
        let mut cfg = cfg.clone();
        let mut prior = History::default();
        if let Some(path) = resume.then(|| latest_state(dir)).transpose()?.flatten() {
            let state = self.load_state(&path)?;
            if state.seed != cfg.seed {
                return Err(Error::Config(format!(
                    "{} was trained with seed {}, not {}: the shuffles would differ",
                    path.display(),
                    state.seed,
                    cfg.seed
                )));
            }
            for (cb, saved) in callbacks.iter_mut().zip(&state.callbacks) {
                if let Some(saved) = saved {
                    cb.restore(saved)?;
                }
            }
            cfg.initial_epoch = state.epoch;
            prior = state.history;
        }
        let seed = cfg.seed;
        let new = {
            let prior = &prior;
            let mut hook = |t: &mut Self, h: &History, cbs: &mut [&mut dyn Callback<M>]| {
                let mut history = prior.clone();
                history.epochs.extend(h.epochs.iter().cloned());
                let state = TrainState {
                    epoch: history.epochs.last().map_or(0, |e| e.epoch),
                    seed,
                    history,
                    callbacks: cbs.iter().map(|c| c.state()).collect(),
                    typenet_version: env!("CARGO_PKG_VERSION").to_string(),
                };
                t.write_state(dir, &state).map(|_| ())
            };
            self.fit_hooked(train, validation, &cfg, callbacks, &mut hook)?
        };
        prior.epochs.extend(new.epochs);
        Ok(prior)
    }
}
