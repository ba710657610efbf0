//! Training state on disk: save it every epoch, resume from it exactly.

use super::{FitConfig, History, Trainer};
use crate::checkpoint::{load_model, save_model, write_dir, write_file};
use crate::nn::TrainingDevice;
use crate::optim::{LearningRate, OptimizerState};
use crate::{Error, Result};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::optim::Optimizer;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File names inside a state directory.
const MODEL: &str = "model.safetensors";
const OPTIMIZER: &str = "optimizer.safetensors";
const STATE: &str = "state.json";
/// The file in a backup directory naming its newest state directory.
pub(crate) const LATEST: &str = "latest";

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
    /// Every setting of the run that changes its course, by name (`batch_size`, `optimizer`,
    /// `training samples`, …): a run resuming from this state must have the same ones.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

/// The epoch and rewrite number of a state directory's name: `epoch-0003` is `(3, 0)`,
/// `epoch-0003-1` (epoch 3 written again while `epoch-0003` still existed) is `(3, 1)`.
fn state_name(name: &str) -> Option<(usize, usize)> {
    let rest = name.strip_prefix("epoch-")?;
    let (epoch, again) = match rest.split_once('-') {
        Some((e, k)) => (e, k.parse().ok()?),
        None => (rest, 0),
    };
    (!epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()))
        .then(|| epoch.parse().ok())
        .flatten()
        .map(|e| (e, again))
}

/// Every complete state directory in `dir`, with its epoch and rewrite number.
fn states(dir: &Path) -> Result<Vec<(usize, usize, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if let Some((epoch, again)) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(state_name)
            && path.join(STATE).is_file()
        {
            out.push((epoch, again, path));
        }
    }
    out.sort();
    Ok(out)
}

/// The newest complete state directory in `dir` (`epoch-NNNN` holding `state.json`), if any:
/// the one the `latest` file names, or, where that file is absent or names no complete state,
/// the one of the highest epoch.
///
/// # Errors
/// [`Error::Io`] if `dir` exists but cannot be listed.
pub fn latest_state(dir: impl AsRef<Path>) -> Result<Option<PathBuf>> {
    let dir = dir.as_ref();
    if !dir.exists() {
        return Ok(None);
    }
    if let Ok(name) = std::fs::read_to_string(dir.join(LATEST)) {
        let name = name.trim();
        if state_name(name).is_some() && dir.join(name).join(STATE).is_file() {
            return Ok(Some(dir.join(name)));
        }
    }
    Ok(states(dir)?.pop().map(|(_, _, p)| p))
}

/// What in `dir` looks like the remains of a training state (the `latest` pointer, `epoch-…`
/// entries), for the message when none of it is usable.
pub(crate) fn state_remains(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n == LATEST || n.starts_with("epoch-"))
        .collect();
    out.sort();
    out
}

/// Removes what killed writers left in `dir`: hidden temporary files and directories
/// (`.NAME.tmp-PID`). Only for a directory this process has locked.
pub(crate) fn remove_temporaries(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.contains(".tmp-") {
            let path = entry.path();
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// Removes every state directory of `dir` but those in `keep`.
pub(crate) fn prune(dir: &Path, keep: &[PathBuf]) -> Result<()> {
    for (_, _, path) in states(dir)? {
        if !keep.contains(&path) {
            std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// Writes a training state into a new directory of `dir`, then points `dir/latest` at it.
///
/// The state goes to a temporary directory first (the model and optimizer by `save`, then
/// `state.json`), flushed to disk, then renamed to `epoch-NNNN`, or to `epoch-NNNN-K` when
/// `epoch-NNNN` already exists: an existing state is never removed or replaced here, so that a
/// crash at any moment leaves every state that was complete before it. The `latest` file is
/// then replaced atomically (temporary file, `fsync`, rename).
pub(crate) fn write_state(
    dir: &Path,
    state: &TrainState,
    save: impl FnOnce(&Path, &Path) -> Result<()>,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let base = format!("epoch-{:04}", state.epoch);
    let name = (0..)
        .map(|k| {
            if k == 0 {
                base.clone()
            } else {
                format!("{base}-{k}")
            }
        })
        .find(|n| !dir.join(n).exists())
        .unwrap_or(base);
    let target = dir.join(&name);
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
    write_file(&dir.join(LATEST), |t| {
        std::fs::write(t, format!("{name}\n")).map_err(|e| Error::io(t, e))
    })?;
    Ok(target)
}

/// Reads the training state at `path` (a state directory, or a directory holding them: the
/// newest is taken), hands it to `check`, then hands `load` the model and optimizer files.
pub(crate) fn read_state(
    path: &Path,
    check: impl FnOnce(&Path, &TrainState) -> Result<()>,
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
    check(&dir, &state)?;
    load(&dir.join(MODEL), &dir.join(OPTIMIZER))?;
    Ok(state)
}

/// Compares the settings of a saved run (`saved`, in state directory `path`) with this run's:
/// the first that differs is an error. Settings only one of them records are not compared.
pub(crate) fn check_settings(
    path: &Path,
    saved: &BTreeMap<String, String>,
    current: &BTreeMap<String, String>,
) -> Result<()> {
    for (setting, value) in current {
        if let Some(old) = saved.get(setting)
            && old != value
        {
            return Err(Error::ResumeSettings {
                path: path.to_path_buf(),
                setting: setting.clone(),
                saved: old.clone(),
                current: value.clone(),
            });
        }
    }
    Ok(())
}

/// The settings of a run that change its course, recorded with each state it saves: the
/// [`FitConfig`] fields that do (not `epochs`, which a resumed run may extend, nor the
/// verbosity, prefetching or allocation cache), the model, loss and metrics, and the sizes of
/// the training and validation sets where known. The optimizer's are added by the backup,
/// which reaches its state.
pub(crate) fn run_settings<M, O, L, D: dfdx::tensor_ops::Device<E>, E: dfdx::shapes::Dtype>(
    trainer: &Trainer<M, O, L, D, E>,
    cfg: &FitConfig,
    train: Option<usize>,
    validation: Option<usize>,
) -> BTreeMap<String, String> {
    let mut s = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        s.insert(k.to_string(), v);
    };
    put("seed", cfg.seed.to_string());
    put("batch_size", cfg.batch_size.to_string());
    put("shuffle", cfg.shuffle.to_string());
    put("validation_split", format!("{:?}", cfg.validation_split));
    put("eval_batch_size", cfg.eval_batch_size.to_string());
    put("clip", format!("{:?}", cfg.clip));
    put("model", std::any::type_name::<M>().to_string());
    put("loss", std::any::type_name::<L>().to_string());
    put("metrics", trainer.metrics.names().join(", "));
    if let Some(n) = train {
        put("training samples", n.to_string());
    }
    if let Some(n) = validation {
        put("validation samples", n.to_string());
    }
    s
}

impl<M, O, L, D, E> Trainer<M, O, L, D, E>
where
    E: dfdx::shapes::Dtype,
    D: TrainingDevice<E>,
    M: TensorCollection<E, D>,
    O: Optimizer<M, D, E> + LearningRate + OptimizerState,
{
    /// Saves the model, the optimizer's state, `history` and the run's settings to
    /// `dir/epoch-NNNN` (the last epoch of `history`; `epoch-NNNN-K` when that directory
    /// exists, which is left as it is), written to a temporary directory first so that it
    /// appears complete or not at all, then points `dir/latest` at it. Returns that directory.
    /// [`Fit::backup`](super::Fit::backup) does this after every epoch.
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
            settings: self.recorded_settings(cfg),
        };
        write_state(dir.as_ref(), &state, |model, optimizer| {
            save_model(&self.model, model)?;
            self.optimizer.save_state(optimizer)
        })
    }

    /// [`run_settings`] and the optimizer's.
    fn recorded_settings(&self, cfg: &FitConfig) -> BTreeMap<String, String> {
        let mut s = run_settings(self, cfg, None, None);
        let optimizer = self.optimizer.settings();
        if !optimizer.is_empty() {
            s.insert("optimizer".into(), optimizer);
        }
        s
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
        read_state(
            path.as_ref(),
            |_, _| Ok(()),
            |model, optimizer| {
                load_model(&mut self.model, model)?;
                self.optimizer.load_state(optimizer)
            },
        )
    }
}
