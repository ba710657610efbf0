//! Metrics: state that accumulates over batches and computes one number (burn's anatomy:
//! update / compute / reset, and whether higher is better).

use crate::data::Targets;
use crate::{Error, Result};

/// A quantity tracked over an epoch, such as accuracy.
pub trait Metric: Send {
    /// The name it appears under in logs and [`History`](super::History) (`accuracy`, `mae`, …).
    fn name(&self) -> String;
    /// Whether larger values are better (for early stopping and checkpoints).
    fn higher_is_better(&self) -> bool;
    /// Checks, before training starts, that this metric can be computed from `width`-wide
    /// outputs and these targets.
    fn check(&self, width: usize, targets: Targets<'_>) -> Result<()>;
    /// Adds one batch: `outputs` is row-major, `width` values per sample.
    fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>);
    /// The value over everything added since the last reset.
    fn compute(&self) -> f64;
    /// Forgets everything added.
    fn reset(&mut self);
    /// Where a one-wide output is split into class 0 and class 1 (the loss's
    /// [`binary_threshold`](crate::losses::Loss::binary_threshold): 0.5 for probabilities, 0 for
    /// logits). The trainer calls this before training and evaluating; metrics that do not
    /// threshold ignore it (the default).
    fn set_binary_threshold(&mut self, threshold: f32) {
        let _ = threshold;
    }
}

mod confusion;
pub use confusion::{ClassAverage, ConfusionMatrix, MacroAverage};

/// Names [`metric`] accepts.
pub const METRIC_NAMES: &[&str] = &[
    "accuracy",
    "top_k_accuracy (e.g. top_5_accuracy)",
    "precision",
    "recall",
    "f1",
    "mse",
    "mae",
    "r2",
];

/// The metric called `name` (Keras's names: `accuracy`, `top_5_accuracy`, `mse`, `mae`, `r2`, …).
///
/// # Errors
/// [`Error::Config`] listing the known names when `name` is not one of them.
pub fn metric(name: &str) -> Result<Box<dyn Metric>> {
    match name {
        "accuracy" | "acc" | "sparse_categorical_accuracy" => Ok(Box::new(Accuracy::default())),
        "mse" | "mean_squared_error" => Ok(Box::new(MeanSquared::default())),
        "mae" | "mean_absolute_error" => Ok(Box::new(MeanAbsolute::default())),
        "r2" | "r2_score" => Ok(Box::new(R2::default())),
        "precision" => Ok(Box::new(MacroAverage::new(ClassAverage::Precision))),
        "recall" => Ok(Box::new(MacroAverage::new(ClassAverage::Recall))),
        "f1" | "f1_score" => Ok(Box::new(MacroAverage::new(ClassAverage::F1))),
        _ => {
            if let Some(k) = name
                .strip_prefix("top_")
                .and_then(|r| r.strip_suffix("_accuracy"))
                .and_then(|k| k.parse::<usize>().ok())
                .filter(|&k| k > 0)
            {
                return Ok(Box::new(TopKAccuracy::new(k)));
            }
            Err(Error::Config(format!(
                "unknown metric `{name}`; known metrics: {}",
                METRIC_NAMES.join(", ")
            )))
        }
    }
}

pub(crate) fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// The fraction of samples whose arg-max output is their class (or, for one-wide outputs and
/// 0/1 targets, whose output is on the target's side of the threshold: 0.5 unless set by
/// [`Metric::set_binary_threshold`], which the trainer does with its loss's
/// [`binary_threshold`](crate::losses::Loss::binary_threshold), 0 for logits).
///
/// **Keras equivalent**: `metrics=["accuracy"]` (Keras's `BinaryAccuracy(threshold=0.5)`;
/// `threshold=0.0` for logits).
#[derive(Debug, Clone)]
pub struct Accuracy {
    correct: u64,
    total: u64,
    threshold: f32,
}

impl Default for Accuracy {
    fn default() -> Self {
        Accuracy {
            correct: 0,
            total: 0,
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
            Targets::Values(_, w) => Err(Error::Config(format!(
                "metric `accuracy` needs class targets or one 0/1 target per sample, not {w} values"
            ))),
        }
    }
    fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>) {
        match targets {
            Targets::Classes(classes) => {
                for (row, &c) in outputs.chunks_exact(width).zip(classes) {
                    self.correct += u64::from(argmax(row) == c);
                }
                self.total += classes.len() as u64;
            }
            Targets::Values(values, _) => {
                for (&o, &t) in outputs.iter().zip(values) {
                    // targets are 0/1 whatever the outputs are, so they split at 0.5
                    self.correct += u64::from((o >= self.threshold) == (t >= 0.5));
                }
                self.total += values.len() as u64;
            }
        }
    }
    fn compute(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
    fn reset(&mut self) {
        self.correct = 0;
        self.total = 0;
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
    correct: u64,
    total: u64,
}

impl TopKAccuracy {
    /// Top-`k` accuracy.
    pub fn new(k: usize) -> Self {
        TopKAccuracy {
            k,
            correct: 0,
            total: 0,
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
            Targets::Classes(_) => Err(Error::Config(format!(
                "metric `{}` needs at least {} outputs, the model has {width}",
                self.name(),
                self.k
            ))),
            Targets::Values(..) => Err(Error::Config(format!(
                "metric `{}` needs class targets",
                self.name()
            ))),
        }
    }
    fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>) {
        if let Targets::Classes(classes) = targets {
            for (row, &c) in outputs.chunks_exact(width).zip(classes) {
                // rank of the true class = how many outputs beat it (ties count against it, as in Keras)
                let beaten_by = row.iter().filter(|&&v| v > row[c]).count();
                self.correct += u64::from(beaten_by < self.k);
            }
            self.total += classes.len() as u64;
        }
    }
    fn compute(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
    fn reset(&mut self) {
        self.correct = 0;
        self.total = 0;
    }
}

/// Running sums for the value metrics.
#[derive(Debug, Default, Clone)]
struct ErrorSums {
    sum: f64,
    count: u64,
}

impl ErrorSums {
    fn check(name: &str, width: usize, targets: Targets<'_>) -> Result<()> {
        match targets {
            Targets::Values(_, w) if w == width => Ok(()),
            _ => Err(Error::Config(format!(
                "metric `{name}` needs one real target per output"
            ))),
        }
    }
    fn add(&mut self, outputs: &[f32], targets: Targets<'_>, f: impl Fn(f64) -> f64) {
        if let Targets::Values(values, _) = targets {
            for (&o, &t) in outputs.iter().zip(values) {
                self.sum += f(o as f64 - t as f64);
            }
            self.count += values.len() as u64;
        }
    }
    fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

/// Mean squared error over all outputs. **Keras equivalent**: `metrics=["mse"]`.
#[derive(Debug, Default, Clone)]
pub struct MeanSquared(ErrorSums);

impl Metric for MeanSquared {
    fn name(&self) -> String {
        "mse".into()
    }
    fn higher_is_better(&self) -> bool {
        false
    }
    fn check(&self, width: usize, targets: Targets<'_>) -> Result<()> {
        ErrorSums::check("mse", width, targets)
    }
    fn update(&mut self, outputs: &[f32], _: usize, targets: Targets<'_>) {
        self.0.add(outputs, targets, |e| e * e);
    }
    fn compute(&self) -> f64 {
        self.0.mean()
    }
    fn reset(&mut self) {
        self.0 = ErrorSums::default();
    }
}

/// Mean absolute error over all outputs. **Keras equivalent**: `metrics=["mae"]`.
#[derive(Debug, Default, Clone)]
pub struct MeanAbsolute(ErrorSums);

impl Metric for MeanAbsolute {
    fn name(&self) -> String {
        "mae".into()
    }
    fn higher_is_better(&self) -> bool {
        false
    }
    fn check(&self, width: usize, targets: Targets<'_>) -> Result<()> {
        ErrorSums::check("mae", width, targets)
    }
    fn update(&mut self, outputs: &[f32], _: usize, targets: Targets<'_>) {
        self.0.add(outputs, targets, f64::abs);
    }
    fn compute(&self) -> f64 {
        self.0.mean()
    }
    fn reset(&mut self) {
        self.0 = ErrorSums::default();
    }
}

/// Coefficient of determination `R² = 1 - Σ(y - t)² / Σ(t - mean t)²`, per output column over
/// everything added since the last reset, averaged over columns (scikit-learn's `r2_score`
/// with `multioutput="uniform_average"`). 1 is a perfect fit, 0 is as good as predicting the
/// mean, and it can be negative. A column whose targets are constant scores 1 if predicted
/// exactly and 0 otherwise (as scikit-learn does).
///
/// # Example
/// ```
/// # use typenet::train::metrics::metric;
/// # use typenet::data::Targets;
/// let mut r2 = metric("r2").unwrap();
/// // targets 1, 2, 3 (mean 2, Σ(t - 2)² = 2); predictions 1, 2, 4 (Σ(y - t)² = 1)
/// r2.update(&[1.0, 2.0, 4.0], 1, Targets::Values(&[1.0, 2.0, 3.0], 1));
/// assert_eq!(r2.compute(), 0.5);
/// ```
///
/// **Keras equivalent**: `keras.metrics.R2Score()`.
#[derive(Debug, Default, Clone)]
pub struct R2 {
    /// Per column: Σt, Σt², Σ(y - t)².
    sums: Vec<[f64; 3]>,
    count: u64,
}

impl Metric for R2 {
    fn name(&self) -> String {
        "r2".into()
    }
    fn higher_is_better(&self) -> bool {
        true
    }
    fn check(&self, width: usize, targets: Targets<'_>) -> Result<()> {
        ErrorSums::check("r2", width, targets)
    }
    fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>) {
        let Targets::Values(values, _) = targets else {
            return;
        };
        if width == 0 {
            return;
        }
        self.sums.resize(width, [0.0; 3]);
        for (out_row, t_row) in outputs.chunks_exact(width).zip(values.chunks_exact(width)) {
            for ((s, &o), &t) in self.sums.iter_mut().zip(out_row).zip(t_row) {
                let (o, t) = (o as f64, t as f64);
                s[0] += t;
                s[1] += t * t;
                s[2] += (o - t) * (o - t);
            }
            self.count += 1;
        }
    }
    fn compute(&self) -> f64 {
        if self.count == 0 || self.sums.is_empty() {
            return 0.0;
        }
        let n = self.count as f64;
        let per_column = self.sums.iter().map(|&[st, stt, sse]| {
            let total = stt - st * st / n;
            if total > 1e-12 * stt.abs().max(1.0) {
                1.0 - sse / total
            } else if sse == 0.0 {
                1.0
            } else {
                0.0
            }
        });
        per_column.sum::<f64>() / self.sums.len() as f64
    }
    fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_argmax_hits() {
        let mut m = metric("accuracy").unwrap();
        // rows: argmax 1 (label 1: hit), argmax 0 (label 2: miss)
        m.update(
            &[0.1, 0.9, 0.0, 0.8, 0.1, 0.1],
            3,
            Targets::Classes(&[1, 2]),
        );
        assert_eq!(m.compute(), 0.5);
        m.reset();
        assert_eq!(m.compute(), 0.0);
    }

    #[test]
    fn binary_accuracy_splits_outputs_at_the_threshold_it_is_given() {
        // outputs 0.2 and -0.3 for targets 1 and 0: at 0.5 (probabilities) both read as class 0,
        // one hit; at 0 (logits) 0.2 reads as class 1, two hits
        let (outputs, targets) = ([0.2, -0.3], Targets::Values(&[1.0, 0.0], 1));
        let mut m = metric("accuracy").unwrap();
        m.update(&outputs, 1, targets);
        assert_eq!(m.compute(), 0.5);
        m.reset();
        m.set_binary_threshold(0.0);
        m.update(&outputs, 1, targets);
        assert_eq!(m.compute(), 1.0);
        m.reset(); // a reset forgets the counts, not the threshold
        m.update(&outputs, 1, targets);
        assert_eq!(m.compute(), 1.0);
    }

    #[test]
    fn top_k_accepts_the_class_among_the_k_largest() {
        let mut m = metric("top_2_accuracy").unwrap();
        m.update(
            &[0.5, 0.3, 0.2, 0.5, 0.3, 0.2],
            3,
            Targets::Classes(&[1, 2]),
        );
        assert_eq!(m.compute(), 0.5);
    }

    #[test]
    fn unknown_metric_is_an_error_naming_it() {
        let err = metric("acuracy").err().unwrap().to_string();
        assert!(err.contains("unknown metric `acuracy`"), "{err}");
    }

    #[test]
    fn mse_and_mae_average_over_all_values() {
        let mut mse = metric("mse").unwrap();
        let mut mae = metric("mae").unwrap();
        let t = Targets::Values(&[1.0, 1.0], 1);
        mse.update(&[0.0, 3.0], 1, t);
        mae.update(&[0.0, 3.0], 1, t);
        assert_eq!(mse.compute(), (1.0 + 4.0) / 2.0);
        assert_eq!(mae.compute(), (1.0 + 2.0) / 2.0);
    }

    #[test]
    fn r2_of_perfect_and_mean_predictions() {
        let mut r2 = metric("r2").unwrap();
        let t = Targets::Values(&[1.0, 2.0, 3.0], 1);
        r2.update(&[1.0, 2.0, 3.0], 1, t);
        assert_eq!(r2.compute(), 1.0);
        r2.reset();
        r2.update(&[2.0, 2.0, 2.0], 1, t); // predicting the mean explains nothing
        assert_eq!(r2.compute(), 0.0);
    }
}
