//! What `fit` prints while it runs: an indicatif bar per epoch, or one line per epoch.

use super::{EpochLog, Verbosity};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Progress display of one epoch.
pub(crate) struct Progress {
    verbosity: Verbosity,
    bar: Option<ProgressBar>,
    epoch: usize,
    epochs: usize,
}

impl Progress {
    /// Starts epoch `epoch` of `epochs` over `samples` samples.
    pub(crate) fn new(verbosity: Verbosity, epoch: usize, epochs: usize, samples: usize) -> Self {
        let bar = (verbosity == Verbosity::Bar && std::io::stdout().is_terminal()).then(|| {
            let bar = ProgressBar::new(samples as u64);
            let style = ProgressStyle::with_template(
                "Epoch {prefix} [{bar:30}] {pos}/{len} {per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format!("{epoch}/{epochs}"));
            bar
        });
        Progress {
            verbosity,
            bar,
            epoch,
            epochs,
        }
    }

    /// `seen` samples done, running mean loss `loss`.
    pub(crate) fn batch(&mut self, seen: usize, loss: f64) {
        if let Some(bar) = &self.bar {
            bar.set_position(seen as u64);
            bar.set_message(format!("loss {loss:.4}"));
        }
    }

    /// Ends the epoch with its figures.
    pub(crate) fn finish(self, log: &EpochLog) {
        if self.verbosity == Verbosity::Silent {
            return;
        }
        let figures: Vec<String> = log.values.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
        let line = format!(
            "Epoch {}/{} - {:.2}s - {}",
            self.epoch,
            self.epochs,
            log.seconds,
            figures.join(" - ")
        );
        match self.bar {
            Some(bar) => bar.finish_with_message(line),
            None => println!("{line}"),
        }
    }
}
