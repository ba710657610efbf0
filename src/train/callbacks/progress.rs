//! What `fit` prints while it runs: an indicatif bar per epoch, or one line per epoch.

use super::base::{BatchLog, Callback, Context, Control};
use crate::train::{EpochLog, Verbosity};
use crate::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Shows training progress as [`Verbosity`] says: a bar per epoch on a terminal, one line per
/// epoch otherwise. `fit` runs one before the callbacks it is given.
///
/// **Keras equivalent**: `keras.callbacks.ProgbarLogger` (added by `fit` when `verbose != 0`).
#[derive(Debug)]
pub struct ProgressLogger {
    verbosity: Verbosity,
    epochs: usize,
    epoch: usize,
    bar: Option<ProgressBar>,
}

impl ProgressLogger {
    /// Progress of a run to epoch `epochs`.
    pub fn new(verbosity: Verbosity, epochs: usize) -> Self {
        ProgressLogger {
            verbosity,
            epochs,
            epoch: 0,
            bar: None,
        }
    }

    fn bar(&self, samples: usize) -> Option<ProgressBar> {
        (self.verbosity == Verbosity::Bar && std::io::stdout().is_terminal()).then(|| {
            let bar = ProgressBar::new(samples as u64);
            let style = ProgressStyle::with_template(
                "Epoch {prefix} [{bar:30}] {pos}/{len} {per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format!("{}/{}", self.epoch, self.epochs));
            bar
        })
    }
}

impl<M> Callback<M> for ProgressLogger {
    fn on_epoch_begin(&mut self, epoch: usize, _ctx: &mut Context<'_, M>) -> Result<()> {
        self.epoch = epoch;
        self.bar = None;
        Ok(())
    }

    fn on_batch_end(&mut self, log: &BatchLog, _ctx: &mut Context<'_, M>) -> Result<()> {
        if self.bar.is_none() {
            self.bar = self.bar(log.samples);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(log.seen as u64);
            bar.set_message(format!("loss {:.4}", log.loss));
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, log: &EpochLog, _ctx: &mut Context<'_, M>) -> Result<Control> {
        if self.verbosity == Verbosity::Silent {
            return Ok(Control::Continue);
        }
        let figures: Vec<String> = log
            .values
            .iter()
            .map(|(k, v)| format!("{k} {v:.4}"))
            .collect();
        let line = format!(
            "Epoch {}/{} - {:.2}s - {}",
            log.epoch,
            self.epochs,
            log.seconds,
            figures.join(" - ")
        );
        match self.bar.take() {
            Some(bar) => bar.finish_with_message(line),
            None => println!("{line}"),
        }
        Ok(Control::Continue)
    }
}
