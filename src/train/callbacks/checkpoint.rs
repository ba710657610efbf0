//! Save the model during training.

use super::base::{improves, monitored, parse_state, Callback, Context, Control, Mode};
use crate::train::EpochLog;
use crate::{Error, Result};
use std::path::PathBuf;

/// Saves the model (safetensors, written atomically) after every epoch, or only when `monitor`
/// improves.
///
/// `path` may contain `{epoch}`, replaced by the epoch number.
///
/// **Keras equivalent**: `ModelCheckpoint(filepath, monitor, save_best_only, mode)`.
#[derive(Debug, Clone)]
pub struct ModelCheckpoint {
    /// File to write; `{epoch}` is replaced by the epoch number.
    pub path: PathBuf,
    /// Name watched when `save_best_only`. Default `val_loss`.
    pub monitor: String,
    /// Direction of improvement. Default [`Mode::Auto`].
    pub mode: Mode,
    /// Save only when `monitor` improves. Default `false` (save every epoch).
    pub save_best_only: bool,
    /// Best value so far.
    pub best: Option<f64>,
    /// Files written, in order (those [`ModelCheckpoint::keep_last`] removed are dropped).
    pub saved: Vec<PathBuf>,
    /// Keep only the newest this many files (with `{epoch}` in `path`, each epoch writes
    /// another): older ones are removed once a newer one is complete. Default `None` (keep
    /// every file).
    pub keep_last: Option<usize>,
}

impl ModelCheckpoint {
    /// A checkpoint writing to `path` every epoch.
    pub fn every_epoch(path: impl Into<PathBuf>) -> Self {
        ModelCheckpoint {
            path: path.into(),
            monitor: "val_loss".into(),
            mode: Mode::Auto,
            save_best_only: false,
            best: None,
            saved: Vec::new(),
            keep_last: None,
        }
    }

    /// Keeps only the newest `n` files written (at least 1), removing older ones once a newer
    /// one is complete.
    ///
    /// # Example
    /// ```
    /// # use typenet::prelude::*;
    /// // model-1.safetensors, model-2.safetensors, …: only the last 3 stay
    /// let ckpt = ModelCheckpoint::every_epoch("model-{epoch}.safetensors").keep_last(3);
    /// assert_eq!(ckpt.keep_last, Some(3));
    /// ```
    #[must_use]
    pub fn keep_last(self, n: usize) -> Self {
        ModelCheckpoint {
            keep_last: Some(n),
            ..self
        }
    }

    /// A checkpoint writing to `path` whenever `monitor` improves.
    pub fn best_only(path: impl Into<PathBuf>, monitor: &str) -> Self {
        ModelCheckpoint {
            monitor: monitor.into(),
            save_best_only: true,
            ..Self::every_epoch(path)
        }
    }
}

impl<M> Callback<M> for ModelCheckpoint {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, M>) -> Result<()> {
        if self.keep_last == Some(0) {
            return Err(Error::InvalidArgument {
                what: "ModelCheckpoint::keep_last",
                value: "0".into(),
                expected: "at least 1 (the file just written)".into(),
            });
        }
        if self.save_best_only {
            ctx.require("ModelCheckpoint", &self.monitor)?;
            ctx.higher_is_better("ModelCheckpoint", &self.monitor, self.mode)?;
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, log: &EpochLog, ctx: &mut Context<'_, M>) -> Result<Control> {
        if self.save_best_only {
            let value = monitored(log, "ModelCheckpoint", &self.monitor)?;
            if !improves(
                value,
                self.best,
                ctx.higher_is_better("ModelCheckpoint", &self.monitor, self.mode)?,
                0.0,
            ) {
                return Ok(Control::Continue);
            }
            self.best = Some(value);
        }
        let path = PathBuf::from(
            self.path
                .to_string_lossy()
                .replace("{epoch}", &log.epoch.to_string()),
        );
        ctx.save_model(&path)?;
        // a path written again is the newest file, not another one
        self.saved.retain(|p| *p != path);
        self.saved.push(path);
        if let Some(n) = self.keep_last {
            let excess = self.saved.len().saturating_sub(n);
            for old in self.saved.drain(..excess) {
                match std::fs::remove_file(&old) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(Error::io(&old, e));
                    }
                    _ => {}
                }
            }
        }
        Ok(Control::Continue)
    }

    fn state(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({ "best": self.best }))
    }

    fn restore(&mut self, state: &serde_json::Value) -> Result<()> {
        #[derive(serde::Deserialize)]
        struct Saved {
            best: Option<f64>,
        }
        self.best = parse_state::<Saved>("ModelCheckpoint", state)?.best;
        Ok(())
    }
}
