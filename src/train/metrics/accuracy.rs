//! Classification accuracy: arg-max (or thresholded) and top-k.

use super::{argmax, Metric};
use crate::data::{Targets, IGNORE};
use crate::{Error, Result};

/// A count of hits over a count of samples.
#[derive(Debug, Default, Clone)]
struct Ratio {
    hits: u64,
    total: u64,
}

impl Ratio {
    fn add(&mut self, hits: u64, total: u64) {
        self.hits += hits;
        self.total += total;
    }
    fn value(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.hits as f64 / self.total as f64
        }
    }
}

/// The fraction of samples whose arg-max output is their class, class [`IGNORE`] (padding of
/// per-token targets) not counted (or, for one-wide outputs and
/// 0/1 targets, whose output is on the target's side of the threshold: 0.5 unless set by
/// [`Metric::set_binary_threshold`], which the trainer does with its loss's
/// [`binary_threshold`](crate::losses::Loss::binary_threshold), 0 for logits).
///
/// **Keras equivalent**: `metrics=["accuracy"]` (Keras's `BinaryAccuracy(threshold=0.5)`;
/// `threshold=0.0` for logits).
#[derive(Debug, Clone)]
pub struct Accuracy {
    ratio: Ratio,
    threshold: f32,
}

impl Default for Accuracy {
    fn default() -> Self {
        Accuracy {
            ratio: Ratio::default(),
            threshold: 0.5,
        }
    }
}

impl Metric for Accuracy {
    fn name(&self) -> String {
        "accuracy".into()
    }
    fn higher_is_better(&self) -> bool {
        true
    }
    fn check(&self, width: usize, targets: Targets<'_>) -> Result<()> {
        match targets {
            Targets::Classes(_) => Ok(()),
            Targets::Values(_, 1) if width == 1 => Ok(()),
            Targets::Values(_, w) => Err(Error::MetricMismatch {
                metric: "accuracy".into(),
                needs: format!("class targets or one 0/1 target per sample, not {w} values"),
            }),
        }
    }
    fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>) {
        match targets {
            Targets::Classes(classes) => {
                // positions of IGNORE (padding of per-token targets) are not counted
                let counted = classes.iter().filter(|&&c| c != IGNORE).count();
                let hits = outputs
                    .chunks_exact(width)
                    .zip(classes)
                    .filter(|&(row, &c)| c != IGNORE && argmax(row) == c)
                    .count();
                self.ratio.add(hits as u64, counted as u64);
            }
            Targets::Values(values, _) => {
                // targets are 0/1 whatever the outputs are, so they split at 0.5
                let hits = outputs
                    .iter()
                    .zip(values)
                    .filter(|&(&o, &t)| (o >= self.threshold) == (t >= 0.5))
                    .count();
                self.ratio.add(hits as u64, values.len() as u64);
            }
        }
    }
    fn compute(&self) -> f64 {
        self.ratio.value()
    }
    fn reset(&mut self) {
        self.ratio = Ratio::default();
    }
    fn set_binary_threshold(&mut self, threshold: f32) {
        self.threshold = threshold;
    }
}

/// The fraction of samples whose class is among the `k` largest outputs.
///
/// **Keras equivalent**: `SparseTopKCategoricalAccuracy(k)`.
#[derive(Debug, Clone)]
pub struct TopKAccuracy {
    k: usize,
    ratio: Ratio,
}

impl TopKAccuracy {
    /// Top-`k` accuracy.
    pub fn new(k: usize) -> Self {
        TopKAccuracy {
            k,
            ratio: Ratio::default(),
        }
    }
}

impl Metric for TopKAccuracy {
    fn name(&self) -> String {
        format!("top_{}_accuracy", self.k)
    }
    fn higher_is_better(&self) -> bool {
        true
    }
    fn check(&self, width: usize, targets: Targets<'_>) -> Result<()> {
        match targets {
            Targets::Classes(_) if self.k <= width => Ok(()),
            Targets::Classes(_) => Err(Error::MetricMismatch {
                metric: self.name(),
                needs: format!("at least {} outputs, the model has {width}", self.k),
            }),
            Targets::Values(..) => Err(Error::MetricMismatch {
                metric: self.name(),
                needs: "class targets".into(),
            }),
        }
    }
    fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>) {
        if let Targets::Classes(classes) = targets {
            // rank of the true class = how many outputs beat it (ties count against it, as in Keras)
            let counted = classes.iter().filter(|&&c| c < width).count();
            let hits = outputs
                .chunks_exact(width)
                .zip(classes)
                .filter(|&(row, &c)| {
                    c < width && row.iter().filter(|&&v| v > row[c]).count() < self.k
                })
                .count();
            self.ratio.add(hits as u64, counted as u64);
        }
    }
    fn compute(&self) -> f64 {
        self.ratio.value()
    }
    fn reset(&mut self) {
        self.ratio = Ratio::default();
    }
}
