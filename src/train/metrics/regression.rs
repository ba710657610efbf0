//! Regression metrics: mean squared and absolute error, R².

use super::Metric;
use crate::data::Targets;
use crate::{Error, Result};

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
            _ => Err(Error::MetricMismatch {
                metric: name.into(),
                needs: "one real target per output".into(),
            }),
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
