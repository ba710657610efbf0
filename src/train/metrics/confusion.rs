//! The confusion matrix and the per-class scores averaged over classes (macro precision, recall, F1).

use super::{argmax, Metric};
use crate::data::Targets;
use crate::{Error, Result};

/// Counts of (true class, predicted arg-max class) pairs.
///
/// ```
/// # use typenet::train::metrics::ConfusionMatrix;
/// let mut cm = ConfusionMatrix::new(2);
/// cm.add(&[0.9, 0.1, 0.2, 0.8, 0.6, 0.4], &[0, 1, 1]);
/// assert_eq!(cm.counts(), &[vec![1, 0], vec![1, 1]]); // row = true class
/// ```
///
/// **scikit-learn equivalent**: `confusion_matrix(y_true, y_pred)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// An empty matrix for `classes` classes.
    pub fn new(classes: usize) -> Self {
        ConfusionMatrix {
            counts: vec![vec![0; classes]; classes],
        }
    }
    /// Adds a batch of row-major outputs (`classes` per sample) and their true classes.
    /// Classes outside the matrix are ignored.
    pub fn add(&mut self, outputs: &[f32], classes: &[usize]) {
        let width = self.counts.len();
        if width == 0 {
            return;
        }
        for (row, &c) in outputs.chunks_exact(width).zip(classes) {
            if c < width {
                self.counts[c][argmax(row)] += 1;
            }
        }
    }
    /// `counts()[true][predicted]`.
    pub fn counts(&self) -> &[Vec<u64>] {
        &self.counts
    }
    /// Precision, recall and F1 of class `c` (0 where undefined, as scikit-learn's `zero_division=0`).
    pub fn scores(&self, c: usize) -> (f64, f64, f64) {
        let tp = self.counts[c][c] as f64;
        let predicted: u64 = self.counts.iter().map(|r| r[c]).sum();
        let actual: u64 = self.counts[c].iter().sum();
        let p = if predicted == 0 {
            0.0
        } else {
            tp / predicted as f64
        };
        let r = if actual == 0 { 0.0 } else { tp / actual as f64 };
        let f = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        (p, r, f)
    }
}

/// Which per-class score [`MacroAverage`] averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassAverage {
    /// True positives over predicted positives.
    Precision,
    /// True positives over actual positives.
    Recall,
    /// Harmonic mean of precision and recall.
    F1,
}

/// A per-class score averaged with equal weight over the classes ("macro" averaging).
///
/// **scikit-learn equivalent**: `precision_score(…, average="macro")` and likewise.
#[derive(Debug, Clone)]
pub struct MacroAverage {
    score: ClassAverage,
    matrix: Option<ConfusionMatrix>,
}

impl MacroAverage {
    /// The macro average of `score`.
    pub fn new(score: ClassAverage) -> Self {
        MacroAverage {
            score,
            matrix: None,
        }
    }
}

impl Metric for MacroAverage {
    fn name(&self) -> String {
        match self.score {
            ClassAverage::Precision => "precision",
            ClassAverage::Recall => "recall",
            ClassAverage::F1 => "f1",
        }
        .into()
    }
    fn higher_is_better(&self) -> bool {
        true
    }
    fn check(&self, width: usize, targets: Targets<'_>) -> Result<()> {
        match targets {
            Targets::Classes(_) if width >= 2 => Ok(()),
            _ => Err(Error::MetricMismatch {
                metric: self.name(),
                needs: "class targets and at least 2 outputs".into(),
            }),
        }
    }
    fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>) {
        if let Targets::Classes(classes) = targets {
            self.matrix
                .get_or_insert_with(|| ConfusionMatrix::new(width))
                .add(outputs, classes);
        }
    }
    fn compute(&self) -> f64 {
        let Some(m) = &self.matrix else { return 0.0 };
        let n = m.counts().len();
        let total: f64 = (0..n)
            .map(|c| {
                let (p, r, f) = m.scores(c);
                match self.score {
                    ClassAverage::Precision => p,
                    ClassAverage::Recall => r,
                    ClassAverage::F1 => f,
                }
            })
            .sum();
        total / n.max(1) as f64
    }
    fn reset(&mut self) {
        self.matrix = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_scores_match_a_hand_count() {
        // true:      0 0 1 1 2
        // predicted: 0 1 1 1 0
        let onehot = |c: usize| {
            let mut r = [0.0f32; 3];
            r[c] = 1.0;
            r
        };
        let outputs: Vec<f32> = [0, 1, 1, 1, 0].iter().flat_map(|&c| onehot(c)).collect();
        let truth = [0, 0, 1, 1, 2];
        let m = |s| {
            let mut m = MacroAverage::new(s);
            m.update(&outputs, 3, Targets::Classes(&truth));
            m.compute()
        };
        // class 0: p = 1/2, r = 1/2; class 1: p = 2/3, r = 1; class 2: p = 0, r = 0
        assert!((m(ClassAverage::Precision) - (0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!((m(ClassAverage::Recall) - 0.5).abs() < 1e-12);
        // f1: class 0 = 0.5, class 1 = 0.8, class 2 = 0
        assert!((m(ClassAverage::F1) - 1.3 / 3.0).abs() < 1e-12);
    }
}
